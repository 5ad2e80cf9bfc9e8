package reclaim.jmh;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
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
import org.openjdk.jmh.infra.Blackhole;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * A writer's cost per retire with a reader running: one writer swaps a heap node into a cell and retires the old
 * one (a trivial reclaim action), while one reader enters a guard, protects and reads the cell, and closes. Unlike
 * {@link RetireBenchmark} (no reader) and {@link SwapBenchmark} (native blocks, {@code malloc}/{@code free} in the
 * figure), this isolates what the scheme adds to a writer of plain heap nodes: the bag, the seal, the scans or
 * epoch advances, the heavy barrier and the cache lines it shares with the reader.
 *
 * <ul>
 *   <li>{@code write}: the writer's throughput, the figure of interest ({@code retire} outside any guard).</li>
 *   <li>{@code read}: the reader's throughput, reported for completeness.</li>
 * </ul>
 *
 * <p>{@code scheme=gc} is the baseline: the writer swaps and drops the old node (the GC reclaims it), the reader
 * loads the cell with no guard. The other schemes run under {@code barrier} ({@link Options.Barrier}); {@code gc}
 * ignores it. At the end of a trial the reclaimer's {@link Stats} (retired, reclaimed, pending) and its
 * {@code toString()} (which counts collections and heavy barriers) are printed.
 *
 * <p>Run (from the repository root):
 * <pre>{@code
 * mvn -B -q -DskipTests -Dreclaim.internal=true package -pl reclaim.jmh -am
 * java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar WriterBenchmark
 * # one scheme, a short run:
 * java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar WriterBenchmark \
 *      -p scheme=gc,ebr -p barrier=asymmetric -f 1 -wi 2 -i 3 -w 1s -r 1s
 * }</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Group)
public class WriterBenchmark {
    private static final Consumer<Node> NOTHING = n -> { };

    /** {@code gc} (the writer drops the old node), or a scheme's short name. */
    @Param({"gc", "qsbr", "ebr", "hp", "hyaline", "crystalline"})
    public String scheme;

    /** The barrier strategy: {@code fence} or {@code asymmetric} ({@link Options.Barrier}); ignored by {@code gc}. */
    @Param({"fence", "asymmetric"})
    public String barrier;

    /**
     * Work between two reads, in {@link Blackhole#consumeCPU} tokens: 0 keeps the cell's cache line busy with reads
     * (the writer's swap then waits for it, which slows the {@code gc} writer as much as any scheme's); a pause
     * lets the writer own the line most of the time, so that what the scheme adds to a writer shows.
     */
    @Param({"0", "200"})
    public int readerPause;

    private Reclaimer reclaimer;
    private final AtomicReference<Node> cell = new AtomicReference<>();
    private long counter;

    /** Creates the state; {@link #setUp()} fills it. */
    public WriterBenchmark() {}

    /** Creates the reclaimer (none for {@code gc}) and the first node. */
    @Setup(Level.Trial)
    public void setUp() {
        if (!scheme.equals("gc")) {
            reclaimer = Reclaimer.create(Scheme.named(scheme),
                    Options.DEFAULT.withBarrier(Options.Barrier.valueOf(barrier.toUpperCase(Locale.ROOT))));
        }
        cell.set(new Node(0));
    }

    /** Retires the last node, closes the reclaimer and prints its stats. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (reclaimer == null) return;
        reclaimer.retire(cell.getAndSet(null), NOTHING);
        Stats before = reclaimer.stats();
        String counters = reclaimer.toString(); // the core's collections and heavy barriers, where it counts them
        reclaimer.close();
        System.out.println("\n" + scheme + "/" + barrier + " before close: " + before + " " + counters
                + " after: " + reclaimer.stats());
    }

    /** The writer: a new node swapped in, the old one retired (or dropped, for {@code gc}). */
    @Benchmark
    @Group("swap")
    @GroupThreads(1)
    public void write() {
        Node fresh = new Node(++counter);
        Node old = cell.getAndSet(fresh);
        if (reclaimer != null) reclaimer.retire(old, NOTHING);
    }

    /**
     * The reader: one guarded read of the cell (a plain load for {@code gc}).
     *
     * @return the value read
     */
    @Benchmark
    @Group("swap")
    @GroupThreads(1)
    public long read() {
        if (readerPause > 0) Blackhole.consumeCPU(readerPause);
        if (reclaimer == null) return cell.get().value;
        try (Guard g = reclaimer.enter()) {
            return g.protect(cell).value;
        }
    }

    /** A cell's node. */
    static final class Node {
        final long value;

        Node(long value) {
            this.value = value;
        }
    }
}
