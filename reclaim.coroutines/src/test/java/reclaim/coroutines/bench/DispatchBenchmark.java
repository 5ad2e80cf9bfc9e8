package reclaim.coroutines.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The coroutine bridge against the plain dispatcher: many short coroutines doing guarded reads and retires
 * on Dispatchers.Default, wrapped or not (see {@link DispatchWorkload}). One operation is one coroutine (two
 * dispatches: its start and its resumption after a yield). Run it with the gc profiler for the allocation per
 * coroutine:
 * <pre>
 * mvn -B -f reclaim.coroutines/pom.xml verify dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
 * cd reclaim.coroutines
 * java --sun-misc-unsafe-memory-access=allow -cp "$(cat target/test-classpath.txt):target/test-classes:target/classes" \
 *     org.openjdk.jmh.Main DispatchBenchmark -p scheme=qsbr,ebr -p mode=plain,wrapped -f 2 -wi 3 -i 8 -prof gc
 * </pre>
 * The scheme {@code qsbr-nopass} (QSBR whose quiescent() never advances the grace period) isolates what the
 * time-based pass allocates.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow"})
public class DispatchBenchmark {
    /** The scheme. */
    @Param({"qsbr", "ebr", "hp"})
    public String scheme;

    /** How the coroutines are dispatched (see {@link DispatchWorkload}). */
    @Param({"plain", "wrapped", "wrapped-online", "context"})
    public String mode;

    private DispatchWorkload workload;

    /** Creates the benchmark state (JMH instantiates it). */
    public DispatchBenchmark() {}

    /** Creates the reclaimer and the dispatcher. */
    @Setup
    public void setUp() {
        workload = new DispatchWorkload(scheme, mode);
    }

    /** Closes the reclaimer (every retired value is reclaimed). */
    @TearDown
    public void tearDown() {
        workload.close();
    }

    /**
     * One batch of coroutines.
     *
     * @return a checksum
     */
    @Benchmark
    @OperationsPerInvocation(DispatchWorkload.COROUTINES)
    public long coroutines() {
        return workload.runBatch();
    }
}
