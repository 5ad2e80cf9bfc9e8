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
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;

/**
 * The read side of reclamation: what a guard and {@code protect} add to a read, against the unprotected
 * read that the GC alone makes safe for plain heap nodes (the physical limit).
 *
 * <ul>
 *   <li>{@link #unprotectedRead}: one {@code AtomicReference.get()} of a node and a field of it.</li>
 *   <li>{@link #guardedRead}: the same inside {@code enter()}/{@code protect}/{@code close()}: a map
 *       lookup's shape, where every operation opens its own guard.</li>
 *   <li>{@link #registeredGuardedRead}: {@code guardedRead} on a thread that registered explicitly
 *       ({@link Reclaimer#register()}, executor style), which spares the per-guard lease of a record.</li>
 *   <li>{@link #unprotectedTraversal}: a walk over a 1,000-node linked list whose links are
 *       {@code AtomicReference}s, summing a field.</li>
 *   <li>{@link #protectedTraversal}: the same walk inside one guard, each hop read with
 *       {@code g.protect(node.next, slot)}, alternating slots 0 and 1 (hand-over-hand, as a structure
 *       written once for every scheme reads under hazard pointers).</li>
 * </ul>
 *
 * <p>No writer runs: this isolates the readers' cost. The reclaimer is shared by the benchmark's threads
 * ({@link Scope#Benchmark}); guards are per thread, as the API requires, so {@code -t N} measures N readers
 * entering the same reclaimer. The list is allocated in order, so it is laid out sequentially in the heap
 * (the best case for the traversal; the ratio between the two traversals is what matters). The project's
 * targets: a guarded read at least 0.5x the unprotected one, a protected traversal at least 0.95x for EBR,
 * and 0 B/op on every read path ({@code -prof gc}'s {@code gc.alloc.rate.norm}).
 *
 * <p>Run (from the repository root):
 * <pre>{@code
 * mvn -B -pl reclaim.jmh package
 * java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar ReadBenchmark \
 *      -prof gc -jvmArgsAppend --sun-misc-unsafe-memory-access=allow
 * # one scheme, a short run:
 * java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar ReadBenchmark \
 *      -p scheme=ebr -p barrier=asymmetric -f 1 -wi 2 -i 3 -w 1s -r 1s
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class ReadBenchmark {
    /** Nodes in the traversed list. */
    static final int LIST_SIZE = 1_000;

    /** The scheme, by short name; only schemes whose provider is present can run. */
    @Param({"qsbr", "ebr", "hp", "hyaline", "crystalline", "none"})
    public String scheme;

    /**
     * The barrier strategy ({@link Options.Barrier}): {@code fence} (readers fence) or {@code asymmetric} (readers
     * store, the reclaimer runs membarrier); the forks enable native access so that the latter is available.
     * {@code auto} (what a user gets by default) is accepted too; the showcase runs it.
     */
    @Param({"fence", "asymmetric"})
    public String barrier;

    private Reclaimer reclaimer;
    private final AtomicReference<Node> single = new AtomicReference<>();
    private final AtomicReference<Node> head = new AtomicReference<>();

    /** Creates the benchmark state; {@link #setUp()} fills it. */
    public ReadBenchmark() {}

    /** Creates the reclaimer, the single node and the list. */
    @Setup(Level.Trial)
    public void setUp() {
        reclaimer = Reclaimer.create(Scheme.named(scheme),
                Options.DEFAULT.withBarrier(Options.Barrier.valueOf(barrier.toUpperCase(java.util.Locale.ROOT))));
        single.set(new Node(42));
        head.set(list(LIST_SIZE));
    }

    /**
     * Allocates a list of {@code size} nodes in order (so laid out sequentially in the heap).
     *
     * @param size the number of nodes
     * @return the first node
     */
    static Node list(int size) {
        Node next = null;
        for (int i = size; i > 0; i--) {
            Node n = new Node(i);
            n.next.set(next);
            next = n;
        }
        return next;
    }

    /** Closes the reclaimer (nothing was retired; this checks that no guard was left open). */
    @TearDown(Level.Trial)
    public void tearDown() {
        reclaimer.close();
    }

    /**
     * The GC baseline for one read.
     *
     * @return the node's value
     */
    @Benchmark
    public long unprotectedRead() {
        return single.get().value;
    }

    /** A critical section alone: {@code enter()} then {@code close()} (kovan's pin + drop: 3.0 ns in Rust). */
    @Benchmark
    public void enterClose() {
        reclaimer.enter().close();
    }

    /**
     * A critical section alone on a registered thread, entered through its registration (no thread-local lookup).
     *
     * @param registered this thread's registration (held for the whole trial)
     */
    @Benchmark
    public void registeredEnterClose(Registered registered) {
        registered.registration.enter().close();
    }

    /**
     * One read inside its own guard.
     *
     * @return the node's value
     */
    @Benchmark
    public long guardedRead() {
        try (Guard g = reclaimer.enter()) {
            return g.protect(single).value;
        }
    }

    /**
     * One read inside its own guard, on a thread registered with the reclaimer.
     *
     * @param registered this thread's registration (held for the whole trial)
     * @return the node's value
     */
    @Benchmark
    public long registeredGuardedRead(Registered registered) {
        try (Guard g = reclaimer.enter()) {
            return g.protect(single).value;
        }
    }

    /**
     * The GC baseline for a traversal.
     *
     * @return the sum of the list's values
     */
    @Benchmark
    public long unprotectedTraversal() {
        return walk(head);
    }

    /** The unprotected walk: sums the values of the list at {@code head}. */
    static long walk(AtomicReference<Node> head) {
        long sum = 0;
        for (Node n = head.get(); n != null; n = n.next.get()) {
            sum += n.value;
        }
        return sum;
    }

    /**
     * A hand-over-hand traversal inside one guard: the next node is protected in the other slot before the
     * current one's slot is reused.
     *
     * @return the sum of the list's values
     */
    @Benchmark
    public long protectedTraversal() {
        return protectedWalk(reclaimer, head);
    }

    /** The hand-over-hand walk of the list at {@code head} inside one guard of {@code reclaimer}. */
    static long protectedWalk(Reclaimer reclaimer, AtomicReference<Node> head) {
        try (Guard g = reclaimer.enter()) {
            long sum = 0;
            int slot = 0;
            for (Node n = g.protect(head, slot); n != null; n = g.protect(n.next, slot)) {
                sum += n.value;
                slot ^= 1;
            }
            return sum;
        }
    }

    /** A benchmark thread's explicit registration, opened and closed on that thread. */
    @State(Scope.Thread)
    public static class Registered {
        private Registration registration;

        /** Creates the state; {@link #register(ReadBenchmark)} fills it. */
        public Registered() {}

        /**
         * Registers the benchmark thread (JMH runs a thread-scoped state's trial fixtures on its thread).
         *
         * @param benchmark the shared state, whose reclaimer this thread registers with
         */
        @Setup(Level.Trial)
        public void register(ReadBenchmark benchmark) {
            registration = benchmark.reclaimer.register();
        }

        /** Ends the registration. */
        @TearDown(Level.Trial)
        public void unregister() {
            registration.close();
        }
    }

    /** A list node; its link is an {@code AtomicReference}, as {@code protect} reads it. */
    static final class Node {
        final long value;
        final AtomicReference<Node> next = new AtomicReference<>();

        Node(long value) {
            this.value = value;
        }
    }
}
