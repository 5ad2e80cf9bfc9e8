package reclaim.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

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
import reclaim.api.Registration;

/**
 * Registration churn: what an executor pays to come and go ({@code register()}, one guarded read and one
 * retire, {@code close()} of the registration), against the same work done by an unregistered thread
 * through the common API alone. QSBR's documentation says not to register threads that come and go often;
 * this measures what ignoring that costs.
 *
 * <p>Run: {@code ./reclaim bench RegistrationChurnBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class RegistrationChurnBenchmark {
    /** The scheme, by short name. */
    @Param({"qsbr", "ebr", "hp"})
    public String scheme;

    private Reclaimer reclaimer;
    private final AtomicReference<Integer> cell = new AtomicReference<>(1);

    /** Creates the benchmark state. */
    public RegistrationChurnBenchmark() {}

    /** Creates the reclaimer. */
    @Setup(Level.Trial)
    public void setUp() {
        reclaimer = BarrierCheck.checked(Reclaimer.create(scheme));
    }

    /** Closes the reclaimer. */
    @TearDown(Level.Trial)
    public void tearDown() {
        reclaimer.close();
    }

    /**
     * Registers, reads once under a guard, retires once, deregisters.
     *
     * @return the value read
     */
    @Benchmark
    public int registerReadRetireDeregister() {
        try (Registration reg = reclaimer.register()) {
            int v;
            try (Guard g = reclaimer.enter()) {
                v = g.protect(cell);
                g.retire(cell, c -> { });
            }
            reg.offline();
            return v;
        }
    }

    /**
     * The same read and retire by an unregistered thread.
     *
     * @return the value read
     */
    @Benchmark
    public int unregisteredReadRetire() {
        try (Guard g = reclaimer.enter()) {
            int v = g.protect(cell);
            g.retire(cell, c -> { });
            return v;
        }
    }
}
