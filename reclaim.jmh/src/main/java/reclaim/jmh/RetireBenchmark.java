package reclaim.jmh;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

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

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The write side alone: what retiring an object costs, amortized over the bag it joins, the seal, the collection
 * and the reclaim action (a no-op), with no reader to wait for.
 *
 * <ul>
 *   <li>{@link #retire}: {@code Reclaimer.retire} outside a guard (on a thread that keeps its participant, no guard is opened for it).</li>
 *   <li>{@link #retireInGuard}: {@code enter()}, {@code Guard.retire}, {@code close()}: a writer that unlinks
 *       and retires under its own guard.</li>
 * </ul>
 *
 * <p>Each operation allocates the retired object (16 bytes), as a writer that unlinks a node would have. Run:
 * <pre>{@code
 * java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar RetireBenchmark \
 *      -p scheme=ebr,crystalline -f 1 -wi 2 -i 3 -w 1s -r 1s
 * }</pre>
 * The forks enable native access, so the asymmetric barrier is in force where the machine offers it, as in the other
 * benchmarks; {@code -jvmArgsAppend --sun-misc-unsafe-memory-access=allow} (which replaces the arguments the forks
 * append) runs them without it: the fence strategy.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class RetireBenchmark {
    private static final Consumer<Object> NOTHING = o -> {};

    /** The scheme, by short name; only schemes whose provider is present can run. */
    @Param({"qsbr", "ebr", "hp", "hyaline", "crystalline", "none"})
    public String scheme;

    /**
     * {@code young}: the reclaimer's pooled batches stay where they were allocated (nothing moves them);
     * {@code tenured}: two full collections before each iteration move them to the old generation, where a
     * service's are, so that G1's post-write barrier runs its old-object half on the retire's stores into them.
     */
    @Param({"young"})
    public String heap;

    private Reclaimer reclaimer;

    /** Creates the benchmark state; {@link #setUp()} fills it. */
    public RetireBenchmark() {}

    /** Creates the reclaimer. */
    @Setup(Level.Trial)
    public void setUp() {
        reclaimer = BarrierCheck.checked(Reclaimer.create(scheme));
    }

    /** With {@code heap=tenured}, moves what survives to the old generation before each iteration. */
    @Setup(Level.Iteration)
    public void tenure() {
        Heaps.prepare(heap);
    }

    /** Closes the reclaimer, which reclaims what is still pending. */
    @TearDown(Level.Trial)
    public void tearDown() {
        reclaimer.close();
    }

    /** One retire outside a guard. */
    @Benchmark
    public void retire() {
        reclaimer.retire(new Object(), NOTHING);
    }

    /** One retire inside the caller's own guard. */
    @Benchmark
    public void retireInGuard() {
        try (Guard g = reclaimer.enter()) {
            g.retire(new Object(), NOTHING);
        }
    }
}
