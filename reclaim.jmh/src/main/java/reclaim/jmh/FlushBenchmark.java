package reclaim.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * What a collection with nothing to reclaim costs the thread that runs it: {@code flush()} on an EBR reclaimer that
 * holds nothing, which seals no bag and runs one epoch-advance attempt. Under the asymmetric barrier that attempt
 * begins with a heavy barrier ({@code membarrier}), which interrupts every CPU that runs a thread of the process at
 * that moment; under fences, with a full fence. It is the fixed part of the collection that an amortized retire sets
 * off once per 1,024 objects sealed, and so the part of a writer's latency tail that the barrier strategy decides.
 *
 * <p>{@code churn}: {@code idle}, the process's other threads asleep (the kernel interrupts no other CPU); or
 * {@code busy}, the {@link LatencyBenchmark}'s heap churn running on another thread, so that the barrier must
 * interrupt the CPU that runs it. On a virtual machine an interrupt between virtual CPUs goes through the hypervisor,
 * and that is what {@code busy} measures.
 *
 * <p>Run: {@code java -jar reclaim.jmh/target/benchmarks.jar FlushBenchmark}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
    "-XX:+UseG1GC", "-Xms2g", "-Xmx2g"})
@State(Scope.Benchmark)
public class FlushBenchmark {
    /** {@code asymmetric} or {@code fence}. */
    @Param({"asymmetric", "fence"})
    public String barrier;

    /** {@code idle} or {@code busy} (a thread churning the heap meanwhile). */
    @Param({"idle", "busy"})
    public String churn;

    private Reclaimer reclaimer;
    private LatencyBenchmark.Churn churner;

    /** Creates the benchmark state; {@link #setUp()} fills it. */
    public FlushBenchmark() {}

    /** Creates the reclaimer and, with {@code busy}, starts the churn. */
    @Setup(Level.Trial)
    public void setUp() {
        Options.Barrier b = switch (barrier) {
            case "asymmetric" -> Options.Barrier.ASYMMETRIC;
            case "fence" -> Options.Barrier.FENCE;
            default -> throw new IllegalArgumentException("unknown barrier '" + barrier + "': asymmetric or fence");
        };
        reclaimer = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withBarrier(b));
        churner = switch (churn) {
            case "idle" -> null;
            case "busy" -> new LatencyBenchmark.Churn();
            default -> throw new IllegalArgumentException("unknown churn '" + churn + "': idle or busy");
        };
        if (churner != null) churner.start();
    }

    /** Stops the churn and closes the reclaimer. */
    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        if (churner != null) churner.stop();
        reclaimer.close();
    }

    /** One {@code flush()} with nothing retired: one sample. */
    @Benchmark
    public void flush() {
        reclaimer.flush();
    }
}
