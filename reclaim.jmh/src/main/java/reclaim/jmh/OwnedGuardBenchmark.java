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
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;

/**
 * What an owned guard ({@link Reclaimer#enterOwned()}) costs beside the thread-bound guard of
 * {@link Reclaimer#enter()}, on one thread (the hand-over itself is the caller's queue or future, not measured here):
 * <ul>
 *   <li>{@link #threadGuardRead} / {@link #ownedGuardRead}: a guard opened, one read protected, the guard closed. The
 *       owned guard allocates itself and the scheme's per-guard state and leases a record by CAS on every open (as a
 *       virtual thread's outermost guard does); the thread guard is found in a cache and, under the schemes that keep
 *       a platform thread's record, touches no shared word.</li>
 *   <li>{@link #threadGuardProtect} / {@link #ownedGuardProtect}: one {@code protect(ref, 0)} in a guard held open
 *       across the iteration: the per-call price of the owned guard's in-use check (a CAS and a release store).</li>
 * </ul>
 * No writer runs. {@code -prof gc} shows the allocation per open, which does not depend on the machine: none for the
 * thread guard; for the owned guard 96 bytes under EBR and QSBR, 104 under Hyaline, 128 under Crystalline and 200
 * under hazard pointers (the guard, the scheme's guard and its per-guard bookkeeping).
 *
 * <p>Run (from the repository root):
 * <pre>{@code
 * mvn -B -pl reclaim.jmh -am package -DskipTests
 * java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar OwnedGuardBenchmark \
 *      -prof gc -jvmArgsAppend --sun-misc-unsafe-memory-access=allow
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class OwnedGuardBenchmark {
    /** The scheme, by short name. */
    @Param({"ebr", "qsbr", "hp", "hyaline", "crystalline"})
    public String scheme;

    private Reclaimer reclaimer;
    private final AtomicReference<Node> cell = new AtomicReference<>(new Node(42));

    /** Creates the benchmark state. */
    public OwnedGuardBenchmark() {}

    /** Creates the reclaimer. */
    @Setup(Level.Trial)
    public void setUp() {
        reclaimer = BarrierCheck.checked(Reclaimer.create(scheme));
    }

    /** Closes the reclaimer (this also checks that no guard was left open). */
    @TearDown(Level.Trial)
    public void tearDown() {
        reclaimer.close();
    }

    /**
     * A thread guard opened, one read, closed.
     *
     * @return the node's value
     */
    @Benchmark
    public long threadGuardRead() {
        try (Guard g = reclaimer.enter()) {
            return g.protect(cell).value;
        }
    }

    /**
     * An owned guard opened, one read, closed.
     *
     * @return the node's value
     */
    @Benchmark
    public long ownedGuardRead() {
        OwnedGuard g = reclaimer.enterOwned();
        try {
            return g.protect(cell).value;
        } finally {
            g.close();
        }
    }

    /**
     * One protect in an open thread guard.
     *
     * @param held the guards held open for the iteration
     * @return the node's value
     */
    @Benchmark
    public long threadGuardProtect(Held held) {
        return held.threadGuard.protect(cell, 0).value;
    }

    /**
     * One protect in an open owned guard.
     *
     * @param held the guards held open for the iteration
     * @return the node's value
     */
    @Benchmark
    public long ownedGuardProtect(Held held) {
        return held.ownedGuard.protect(cell, 0).value;
    }

    /**
     * A thread guard and an owned guard held open for one iteration, for the protect-only benchmarks (a state of its
     * own, so that the open-and-close benchmarks open outermost guards).
     */
    @State(Scope.Thread)
    public static class Held {
        private Guard threadGuard;
        private OwnedGuard ownedGuard;

        /** Creates the state; {@link #open(OwnedGuardBenchmark)} fills it. */
        public Held() {}

        /**
         * Opens both guards, on the benchmark thread (JMH runs a thread-scoped state's fixtures on its thread).
         *
         * @param benchmark the state whose reclaimer opens them
         */
        @Setup(Level.Iteration)
        public void open(OwnedGuardBenchmark benchmark) {
            threadGuard = benchmark.reclaimer.enter();
            ownedGuard = benchmark.reclaimer.enterOwned();
        }

        /** Closes both guards. */
        @TearDown(Level.Iteration)
        public void close() {
            ownedGuard.close();
            threadGuard.close();
        }
    }

    /** A node with a value. */
    static final class Node {
        final long value;

        Node(long value) {
            this.value = value;
        }
    }
}
