package reclaim.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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

import reclaim.api.Reclaimer;
import reclaim.collections.RecyclingHashMap;
import reclaim.collections.RecyclingQueue;

/**
 * What a guard-scoped view saves: the cost per operation of {@value #BATCH} operations run in one view
 * ({@code pin()}, one guard for the batch) against the same {@value #BATCH} operations through the
 * per-operation API (a guard opened and closed by each). Both methods run the same operations, drawn the
 * same way; the score is per operation ({@code @OperationsPerInvocation}).
 *
 * <p>{@code structure}: {@code map}, a {@link RecyclingHashMap} over keys 0..{@value #RANGE}-1 prefilled to
 * half ({@code read-mostly}: 90% {@code get}, 10% {@code putIfAbsent}/{@code remove}; {@code write-heavy}:
 * half each, see {@link Mix}); or {@code queue}, a {@link RecyclingQueue} prefilled with {@value #RANGE}
 * elements ({@code read-mostly}: 90% {@code peek}, 10% {@code offer}/{@code poll}; {@code write-heavy}:
 * half each). {@code impl}: a scheme's short name, or {@code gc} for the GC-allocating twin of the same
 * structure ({@link RecyclingHashMap#gcTwin}, {@link RecyclingQueue#gcTwin}), the figure a view is measured
 * against: the twin's guard is free, so its two methods cost the same.
 *
 * <p>{@code reopened} runs the same operations in a view the thread keeps and reopens for each batch
 * ({@code reopen()}): no view object per batch, so nothing to allocate whether or not the JIT inlines the view's
 * methods (a view from {@code pin()} is removed by escape analysis only where it does).
 *
 * <p>Run: {@code ./reclaim bench PinnedBenchmark -t 1} (add {@code -p structure=map -p mix=read-mostly} to
 * narrow it; {@code -t 2} for contention).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class PinnedBenchmark {
    /** Operations per view, and per invocation of either method. */
    static final int BATCH = 16;
    /** Map keys are drawn from 0 .. RANGE-1; the queue starts with RANGE elements. */
    static final int RANGE = 1024;

    /** A scheme's short name. */
    @Param({"gc", "qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w"})
    public String impl;

    /** {@code map} or {@code queue}. */
    @Param({"map", "queue"})
    public String structure;

    /** {@code read-mostly} or {@code write-heavy}. */
    @Param({"read-mostly", "write-heavy"})
    public String mix;

    /**
     * {@code young}: the structure's nodes and the reclaimer's pooled batches stay where the setup allocated them
     * (with nothing allocated in steady state, no collection moves them: young); {@code tenured}: two full
     * collections before each iteration move them to the old generation, where a service's would be, so that G1's
     * post-write barrier runs its old-object half on every reference store into them.
     */
    @Param({"young"})
    public String heap;

    private Reclaimer reclaimer;
    private RecyclingHashMap<Integer, Integer> map;
    private RecyclingQueue<Integer> queue;
    private boolean onMap;
    private Integer[] keys;
    private int readPercent;

    /** Creates the state. */
    public PinnedBenchmark() {}

    /** Builds and prefills the structure. */
    @Setup(Level.Trial)
    public void setUp() {
        reclaimer = impl.equals("gc") ? null : BarrierCheck.checked(Reclaimer.create(impl));
        keys = Mix.keys(RANGE);
        readPercent = Mix.readPercent(mix);
        onMap = switch (structure) {
            case "map" -> true;
            case "queue" -> false;
            default -> throw new IllegalArgumentException("unknown structure '" + structure + "': map or queue");
        };
        if (onMap) {
            map = reclaimer == null ? RecyclingHashMap.gcTwin(RANGE) : new RecyclingHashMap<>(reclaimer, RANGE, 1 << 12);
            Mix.Rng rnd = new Mix.Rng(-1);
            while (map.size() < RANGE / 2) map.putIfAbsent(keys[rnd.next(RANGE)], 1);
        } else {
            queue = reclaimer == null ? RecyclingQueue.gcTwin() : new RecyclingQueue<>(reclaimer, 1 << 12);
            for (int i = 0; i < RANGE; i++) queue.offer(keys[i]);
        }
    }

    /** With {@code heap=tenured}, moves what survives to the old generation before each iteration. */
    @Setup(Level.Iteration)
    public void tenure() {
        Heaps.prepare(heap);
    }

    /** Closes the reclaimer. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (reclaimer != null) reclaimer.close();
    }

    /**
     * {@value #BATCH} operations, each in its own guard (the per-operation API).
     *
     * @param t the thread's random source
     * @return how many operations found something, for the blackhole
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int perOperationGuard(ThreadRng t) {
        int found = 0;
        if (onMap) {
            for (int i = 0; i < BATCH; i++) {
                Integer k = keys[t.rnd.next(RANGE)];
                int op = t.rnd.next(100);
                Integer r = op < readPercent ? map.get(k) : (op & 1) == 0 ? map.putIfAbsent(k, k) : map.remove(k);
                if (r != null) found++;
            }
        } else {
            for (int i = 0; i < BATCH; i++) {
                int op = t.rnd.next(100);
                Integer r = op < readPercent ? queue.peek() : (op & 1) == 0 ? offer(queue, keys[op]) : queue.poll();
                if (r != null) found++;
            }
        }
        return found;
    }

    /**
     * The same {@value #BATCH} operations in one guard-scoped view.
     *
     * @param t the thread's random source
     * @return how many operations found something, for the blackhole
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int pinned(ThreadRng t) {
        int found = 0;
        if (onMap) {
            try (RecyclingHashMap.Pinned<Integer, Integer> m = map.pin()) {
                for (int i = 0; i < BATCH; i++) {
                    Integer k = keys[t.rnd.next(RANGE)];
                    int op = t.rnd.next(100);
                    Integer r = op < readPercent ? m.get(k) : (op & 1) == 0 ? m.putIfAbsent(k, k) : m.remove(k);
                    if (r != null) found++;
                }
            }
        } else {
            try (RecyclingQueue.Pinned<Integer> q = queue.pin()) {
                for (int i = 0; i < BATCH; i++) {
                    int op = t.rnd.next(100);
                    Integer r = op < readPercent ? q.peek() : (op & 1) == 0 ? offer(q, keys[op]) : q.poll();
                    if (r != null) found++;
                }
            }
        }
        return found;
    }

    /**
     * The same {@value #BATCH} operations in a view the thread keeps, reopened for the batch. The loop is written out
     * in each method, not shared: a view passed to a helper the JIT does not inline escapes, and {@code pinned} would
     * measure its allocation rather than the view's cost.
     *
     * @param t the thread's random source
     * @param kept the thread's views
     * @return how many operations found something, for the blackhole
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int reopened(ThreadRng t, KeptViews kept) {
        int found = 0;
        if (onMap) {
            try (RecyclingHashMap.Pinned<Integer, Integer> m = kept.map.reopen()) {
                for (int i = 0; i < BATCH; i++) {
                    Integer k = keys[t.rnd.next(RANGE)];
                    int op = t.rnd.next(100);
                    Integer r = op < readPercent ? m.get(k) : (op & 1) == 0 ? m.putIfAbsent(k, k) : m.remove(k);
                    if (r != null) found++;
                }
            }
        } else {
            try (RecyclingQueue.Pinned<Integer> q = kept.queue.reopen()) {
                for (int i = 0; i < BATCH; i++) {
                    int op = t.rnd.next(100);
                    Integer r = op < readPercent ? q.peek() : (op & 1) == 0 ? offer(q, keys[op]) : q.poll();
                    if (r != null) found++;
                }
            }
        }
        return found;
    }

    /** A benchmark thread's views, opened and closed once by the thread at the start; reopened per batch. */
    @State(Scope.Thread)
    public static class KeptViews {
        RecyclingHashMap.Pinned<Integer, Integer> map;
        RecyclingQueue.Pinned<Integer> queue;

        /** Creates the state. */
        public KeptViews() {}

        /**
         * Opens and closes this thread's view of the benchmark's structure (on the benchmark thread: it owns them).
         *
         * @param b the benchmark's state
         */
        @Setup(Level.Trial)
        public void open(PinnedBenchmark b) {
            if (b.onMap) {
                map = b.map.pin();
                map.close();
            } else {
                queue = b.queue.pin();
                queue.close();
            }
        }
    }

    private static Integer offer(RecyclingQueue<Integer> q, Integer e) {
        return q.offer(e) ? e : null;
    }

    private static Integer offer(RecyclingQueue.Pinned<Integer> q, Integer e) {
        return q.offer(e) ? e : null;
    }
}
