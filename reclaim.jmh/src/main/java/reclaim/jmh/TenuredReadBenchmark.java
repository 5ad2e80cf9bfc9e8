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
import reclaim.api.Scheme;
import reclaim.jmh.ReadBenchmark.Node;

/**
 * {@link ReadBenchmark}'s guarded read and protected walk as a long-running service sees them: the reclaimer's
 * per-thread state (hazard arrays, reservations) has been promoted to the old generation, and the nodes read are
 * young. In a short benchmark everything the reclaimer allocated is still young, which hides a cost of the
 * collector's write barrier that a service pays.
 *
 * <p>Why it matters: a reader that publishes a <em>reference</em> (a hazard pointer, a reservation slot) stores it
 * into an array that lives as long as its thread. Under G1 on JDK 25, a reference store into an object in an old
 * region, of a value from another region, runs the post-write barrier's slow half, and that half starts with a
 * store–load fence ({@code lock addl} on x86) before it reads the card — whatever the barrier strategy of this
 * library. A store of a long (EBR's announcement, Hyaline's slot, era words) has no GC barrier. Compare the two
 * benchmarks under {@code -XX:+UseParallelGC} (a card mark without a fence) to see the collector's share.
 *
 * <p>Setup, on the benchmark thread: create the reclaimer, open a guard and protect a node (the thread's
 * participant and its arrays are allocated), run the collector twice (they are promoted), then allocate the nodes.
 * Nothing else is allocated while measuring, so the nodes stay young; HP renews its slot arrays every 2^18 protects
 * (its answer to the fence above), so after the first few hundred walks its hazards go to a young array again, as in
 * a service.
 *
 * <pre>{@code
 * java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar TenuredReadBenchmark \
 *      -p scheme=hp,crystalline -f 1 -wi 3 -i 4 -w 1s -r 1s
 * # the same with a collector whose card mark has no fence:
 * ... -jvmArgsAppend "--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC"
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 4, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class TenuredReadBenchmark {
    /** The scheme, by short name. */
    @Param({"ebr", "hp", "hyaline", "crystalline"})
    public String scheme;

    /** The barrier strategy, as in {@link ReadBenchmark#barrier}. */
    @Param({"asymmetric", "fence"})
    public String barrier;

    private Reclaimer reclaimer;
    private final AtomicReference<Node> single = new AtomicReference<>();
    private final AtomicReference<Node> head = new AtomicReference<>();

    /** Creates the benchmark state; {@link #setUp()} fills it. */
    public TenuredReadBenchmark() {}

    /** Creates the reclaimer and this thread's participant, tenures them, then allocates young nodes. */
    @Setup(Level.Trial)
    public void setUp() {
        reclaimer = Reclaimer.create(Scheme.named(scheme),
                Options.DEFAULT.withBarrier(Options.Barrier.valueOf(barrier.toUpperCase(java.util.Locale.ROOT))));
        AtomicReference<Node> first = new AtomicReference<>(new Node(0));
        try (Guard g = reclaimer.enter()) {
            g.protect(first, 0);
            g.protect(first, 1);
        }
        System.gc(); // twice: what survives is in the old generation
        System.gc();
        single.set(new Node(42));
        head.set(ReadBenchmark.list(ReadBenchmark.LIST_SIZE));
    }

    /** Closes the reclaimer. */
    @TearDown(Level.Trial)
    public void tearDown() {
        reclaimer.close();
    }

    /**
     * One read inside its own guard.
     *
     * @return the node's value
     */
    @Benchmark
    public long guardedRead() {
        try (Guard g = reclaimer.enter()) {
            return g.protect(single, 0).value;
        }
    }

    /**
     * The GC baseline for the walk below.
     *
     * @return the sum of the list's values
     */
    @Benchmark
    public long unprotectedTraversal() {
        return ReadBenchmark.walk(head);
    }

    /**
     * The hand-over-hand walk of {@link ReadBenchmark#protectedTraversal()}.
     *
     * @return the sum of the list's values
     */
    @Benchmark
    public long protectedTraversal() {
        return ReadBenchmark.protectedWalk(reclaimer, head);
    }
}
