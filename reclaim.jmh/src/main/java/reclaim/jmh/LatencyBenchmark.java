package reclaim.jmh;

import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.infra.IterationParams;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.collections.RecyclingHashMap;
import reclaim.collections.RecyclingQueue;

/**
 * The latency case: the distribution of one operation's time (JMH {@code SampleTime}: p50, p99, p99.9) on
 * the recycling hash map and the Michael&ndash;Scott queue, beside their GC-allocating twins and the JDK's
 * {@link ConcurrentHashMap} / {@link ConcurrentLinkedQueue}, while a background thread churns a large heap
 * so that the collector works as it does in a service (old-generation marking and compaction, not only
 * young collections of the benchmark's own garbage).
 *
 * <p>{@code impl}: a scheme's short name (the structure's nodes recycled through it), {@code gc} (the
 * GC-allocating twin: the same code, a node allocated per insert and dropped to the GC) or {@code jdk}
 * ({@code ConcurrentHashMap} for {@code map}, {@code ConcurrentLinkedQueue} for {@code queue}).
 * {@code structure}: {@code map}, keys 0..{@value #RANGE}-1 prefilled to half, 50% {@code get}, 25%
 * {@code putIfAbsent}, 25% {@code remove}; or {@code queue}, prefilled with {@value #PREFILL} elements, 50%
 * {@code peek}, 25% {@code offer}, 25% {@code poll}. {@code actions}: {@code inline} (reclamation runs on the
 * operations that set it off) or {@code thread} (on {@link Options#withActionThread()}, so that an operation pays
 * only the hand-off: {@code -p actions=inline,thread} compares them).
 *
 * <p>What is sampled: {@link #operation} is one operation, so each sample is one operation's time.
 * {@link #view} runs {@value #BATCH} operations of the same mix in one guard-scoped view ({@code pin()}; for
 * {@code jdk}, which has no guards, the same {@value #BATCH} operations plainly), and one sample is the whole
 * view: its {@value #BATCH} operations together, not divided (a pause that hits a view delays all of them).
 * {@link #everyOperation} times every operation of the same mix instead of sampling them, for the tail of the
 * operations themselves (see there why both).
 *
 * <p>The churn ({@link Churn}): a daemon thread, started at trial setup and stopped at teardown, keeps a
 * ring of {@value Churn#ENTRIES} live entries (about {@value Churn#LIVE_MIB} MiB: each a small array
 * holding a byte array of 64..1,984 bytes and a {@code long[8]}) and replaces random entries at about
 * {@value Churn#MIB_PER_SECOND} MiB/s, so that tenured entries die continuously and the old generation must
 * be marked and evacuated while the benchmark runs. The heap is 2 GiB, so the ring fills about a sixth.
 * {@code -Dreclaim.latency.churnEntries=N} in the fork's JVM arguments sets another ring size.
 *
 * <p>Two collectors, as nested classes that only choose the fork's JVM flags: {@link G1} and {@link Zgc}.
 * Run: {@code java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar
 * LatencyBenchmark -f 1 -wi 2 -i 3 -w 2s -r 2s} (one benchmark thread; the churn thread and the collector's
 * threads share the other core on a 2-core machine). Compare percentiles only within one run.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@State(Scope.Benchmark)
public abstract class LatencyBenchmark {
    /** Map keys are drawn from 0 .. RANGE-1. */
    static final int RANGE = 100_000;
    /** Elements in the queue at the start. */
    static final int PREFILL = 1_000;
    /** Operations per view (and per sample of {@link #view}). */
    static final int BATCH = 16;

    /** A scheme's short name, {@code gc} (the GC twin) or {@code jdk} (ConcurrentHashMap / ConcurrentLinkedQueue). */
    @Param({"gc", "qsbr", "ebr", "hp", "hyaline", "crystalline", "jdk"})
    public String impl;

    /** {@code map} or {@code queue}. */
    @Param({"map", "queue"})
    public String structure;

    /**
     * Where the schemes' reclamation runs: {@code inline} (the default: on the operation that sets it off) or
     * {@code thread} ({@link Options#withActionThread()}: collections and reclaim actions on the shared action
     * thread). Ignored by {@code gc} and {@code jdk}.
     */
    @Param({"inline"})
    public String actions;

    private Reclaimer reclaimer;
    private RecyclingHashMap<Integer, Integer> map;
    private RecyclingQueue<Integer> queue;
    private Map<Integer, Integer> jdkMap;
    private Queue<Integer> jdkQueue;
    private Integer[] keys;
    private Churn churn;

    /** Creates the state. */
    protected LatencyBenchmark() {}

    /** Builds and prefills the structure, then starts the heap churn. */
    @Setup(Level.Trial)
    public void setUp() {
        boolean onMap = switch (structure) {
            case "map" -> true;
            case "queue" -> false;
            default -> throw new IllegalArgumentException("unknown structure '" + structure + "': map or queue");
        };
        Options options = switch (actions) {
            case "inline" -> Options.fromSystemProperties();
            case "thread" -> Options.fromSystemProperties().withActionThread();
            default -> throw new IllegalArgumentException("unknown actions '" + actions + "': inline or thread");
        };
        reclaimer = impl.equals("gc") || impl.equals("jdk") ? null
                : BarrierCheck.checked(Reclaimer.create(Scheme.named(impl), options));
        keys = Mix.keys(RANGE);
        if (onMap) {
            if (impl.equals("jdk")) jdkMap = new ConcurrentHashMap<>(RANGE);
            else map = reclaimer == null ? RecyclingHashMap.gcTwin(RANGE) : new RecyclingHashMap<>(reclaimer, RANGE, 1 << 16);
            Mix.Rng rnd = new Mix.Rng(-1);
            Map<Integer, Integer> m = jdkMap != null ? jdkMap : map;
            while (m.size() < RANGE / 2) m.putIfAbsent(keys[rnd.next(RANGE)], 1);
        } else {
            if (impl.equals("jdk")) jdkQueue = new ConcurrentLinkedQueue<>();
            else queue = reclaimer == null ? RecyclingQueue.gcTwin() : new RecyclingQueue<>(reclaimer);
            Queue<Integer> q = jdkQueue != null ? jdkQueue : queue;
            for (int i = 0; i < PREFILL; i++) q.offer(keys[i]);
        }
        churn = new Churn();
        churn.start();
    }

    /** Stops the churn and closes the reclaimer. */
    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        churn.stop();
        if (reclaimer != null) reclaimer.close();
    }

    /**
     * One operation; one sample.
     *
     * @param t the thread's random source
     * @return something for the blackhole
     */
    @Benchmark
    public Object operation(ThreadRng t) {
        int op = t.rnd.next(4);
        if (map != null) {
            Integer k = keys[t.rnd.next(RANGE)];
            return switch (op) {
                case 0, 1 -> map.get(k);
                case 2 -> map.putIfAbsent(k, k);
                default -> map.remove(k);
            };
        }
        if (queue != null) {
            return switch (op) {
                case 0, 1 -> queue.peek();
                case 2 -> queue.offer(keys[op]);
                default -> queue.poll();
            };
        }
        if (jdkMap != null) {
            Integer k = keys[t.rnd.next(RANGE)];
            return switch (op) {
                case 0, 1 -> jdkMap.get(k);
                case 2 -> jdkMap.putIfAbsent(k, k);
                default -> jdkMap.remove(k);
            };
        }
        return switch (op) {
            case 0, 1 -> jdkQueue.peek();
            case 2 -> jdkQueue.offer(keys[op]);
            default -> jdkQueue.poll();
        };
    }

    /** Buckets of {@link #everyOperation}'s histogram: 10 ns each, the last one holding every time from 100 µs up. */
    static final int BUCKETS = 10_001;

    /**
     * The percentiles of one call of {@link #everyOperation}, in nanoseconds, as JMH secondary results. A call runs
     * for its whole iteration and a little past it, so each iteration is one call and its lines are that call's. JMH
     * adds such counters up over the measured iterations: the benchmark measures one iteration, so the summary line
     * is that iteration's (with {@code -i N}, divide it by N, or read the iteration lines). A time of 100 µs or more
     * counts as 100 µs.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Percentiles {
        /** The median. */
        public long p50Nanos;
        /** The 99th percentile. */
        public long p99Nanos;
        /** The 99.9th percentile. */
        public long p999Nanos;
        /** The 99.99th percentile. */
        public long p9999Nanos;
        /** Operations the call ran. */
        public long operations;
        private final long[] histogram = new long[BUCKETS];
        /** How long the next call runs: its iteration's time and 20 ms more. */
        private long runNanos;

        /** Creates the state. */
        public Percentiles() {}

        /**
         * Sets the next call's length from its iteration's.
         *
         * @param iteration the iteration's parameters
         */
        @Setup(Level.Iteration)
        public void length(IterationParams iteration) {
            runNanos = iteration.getTime().convertTo(TimeUnit.NANOSECONDS) + 20_000_000L;
        }

        private long at(double fraction, long n) {
            long want = (long) Math.ceil(fraction * n);
            long seen = 0;
            for (int b = 0; b < BUCKETS; b++) {
                seen += histogram[b];
                if (seen >= want) return b * 10L;
            }
            return (BUCKETS - 1) * 10L;
        }
    }

    /**
     * Every operation timed, for one whole iteration: the mix of {@link #operation}, each call between two
     * {@code System.nanoTime()} reads, counted in a histogram of 10 ns buckets; the percentiles are the
     * {@link Percentiles} counters. {@link #operation}'s {@code SampleTime} times one call in many (JMH adapts the
     * share to keep its buffer small): some hundred thousand samples a run, so its p99.9 rests on a few hundred of
     * them and moves by an order of magnitude from one run to the next, as a collector's pause or the scheduler does
     * or does not fall on a sampled call. Timing every call (some hundred million a run) measures the tail of the
     * operations themselves; the timer's own cost (about 20 ns here) is in every figure, the same for every
     * implementation. The primary score is the call's length (about an iteration's): read the counters.
     *
     * @param t the thread's random source
     * @param p where the percentiles go
     * @param bh the blackhole for the operations' results
     * @return the operations run
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, time = 2)
    @Measurement(iterations = 1, time = 6)
    public long everyOperation(ThreadRng t, Percentiles p, Blackhole bh) {
        long[] h = p.histogram;
        java.util.Arrays.fill(h, 0);
        long n = 0;
        long end = System.nanoTime() + p.runNanos;
        long t1;
        do {
            long t0 = System.nanoTime();
            bh.consume(operation(t));
            t1 = System.nanoTime();
            h[(int) Math.min((t1 - t0) / 10, BUCKETS - 1)]++;
            n++;
        } while (t1 < end);
        p.operations = n;
        p.p50Nanos = p.at(0.5, n);
        p.p99Nanos = p.at(0.99, n);
        p.p999Nanos = p.at(0.999, n);
        p.p9999Nanos = p.at(0.9999, n);
        return n;
    }

    /**
     * {@value #BATCH} operations of the same mix in one guard-scoped view ({@code jdk}: plainly); the whole
     * view is one sample.
     *
     * @param t the thread's random source
     * @return how many operations found something, for the blackhole
     */
    @Benchmark
    public int view(ThreadRng t) {
        int found = 0;
        if (map != null) {
            try (RecyclingHashMap.Pinned<Integer, Integer> m = map.pin()) {
                for (int i = 0; i < BATCH; i++) {
                    Integer k = keys[t.rnd.next(RANGE)];
                    Integer r = switch (t.rnd.next(4)) {
                        case 0, 1 -> m.get(k);
                        case 2 -> m.putIfAbsent(k, k);
                        default -> m.remove(k);
                    };
                    if (r != null) found++;
                }
            }
        } else if (queue != null) {
            try (RecyclingQueue.Pinned<Integer> q = queue.pin()) {
                for (int i = 0; i < BATCH; i++) {
                    int op = t.rnd.next(4);
                    Object r = switch (op) {
                        case 0, 1 -> q.peek();
                        case 2 -> q.offer(keys[op]) ? keys[op] : null;
                        default -> q.poll();
                    };
                    if (r != null) found++;
                }
            }
        } else if (jdkMap != null) {
            for (int i = 0; i < BATCH; i++) {
                Integer k = keys[t.rnd.next(RANGE)];
                Integer r = switch (t.rnd.next(4)) {
                    case 0, 1 -> jdkMap.get(k);
                    case 2 -> jdkMap.putIfAbsent(k, k);
                    default -> jdkMap.remove(k);
                };
                if (r != null) found++;
            }
        } else {
            for (int i = 0; i < BATCH; i++) {
                int op = t.rnd.next(4);
                Object r = switch (op) {
                    case 0, 1 -> jdkQueue.peek();
                    case 2 -> jdkQueue.offer(keys[op]) ? keys[op] : null;
                    default -> jdkQueue.poll();
                };
                if (r != null) found++;
            }
        }
        return found;
    }

    /** Under G1 (the JDK's default collector), 2 GiB heap. */
    @Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
            "-XX:+UseG1GC", "-Xms2g", "-Xmx2g"})
    public static class G1 extends LatencyBenchmark {
        /** Creates the state. */
        public G1() {}
    }

    /** Under ZGC (generational, concurrent: short pauses, load barriers), 2 GiB heap. */
    @Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
            "-XX:+UseZGC", "-Xms2g", "-Xmx2g"})
    public static class Zgc extends LatencyBenchmark {
        /** Creates the state. */
        public Zgc() {}
    }

    /**
     * The heap churn: a daemon thread that keeps a ring of live entries and replaces random ones at a paced
     * rate, so that tenured objects keep dying and the collector must work on the old generation.
     */
    static final class Churn {
        /** Entries in the ring by default. */
        static final int ENTRIES = 300_000;
        /** About the live size of the default ring: ENTRIES entries of about 1.1 KiB. */
        static final int LIVE_MIB = 330;
        /**
         * The system property that sets another ring size (entries) in the fork, for a shorter setup: the
         * showcase's quick mode passes it.
         */
        static final String ENTRIES_PROPERTY = "reclaim.latency.churnEntries";
        /** Allocation rate of the churn. */
        static final int MIB_PER_SECOND = 200;
        /** Entries replaced between two pacing checks. */
        private static final int STEP = 256;

        private final int entries = Integer.getInteger(ENTRIES_PROPERTY, ENTRIES);
        private final Object[] ring = new Object[entries];
        private final Thread thread;
        private volatile boolean stop; // written by the benchmark thread, read by the churn thread

        Churn() {
            SplittableRandom rnd = new SplittableRandom(42);
            for (int i = 0; i < entries; i++) ring[i] = entry(rnd);
            thread = Thread.ofPlatform().daemon().name("heap-churn").unstarted(this::churn);
        }

        private static Object entry(SplittableRandom rnd) {
            return new Object[] {new byte[64 + rnd.nextInt(1921)], new long[8]};
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            stop = true;
            thread.join();
        }

        private void churn() {
            SplittableRandom rnd = new SplittableRandom(7);
            // an entry is about 1.1 KiB: STEP entries are about STEP * 1.1 KiB of allocation
            long nanosPerStep = (long) (STEP * 1.1 * 1024 / (MIB_PER_SECOND * 1024.0 * 1024.0) * 1e9);
            long next = System.nanoTime();
            while (!stop) {
                for (int i = 0; i < STEP; i++) ring[rnd.nextInt(entries)] = entry(rnd);
                next += nanosPerStep;
                long wait = next - System.nanoTime();
                if (wait > 0) LockSupport.parkNanos(wait); // pacing the allocation rate, not synchronization
                else if (wait < -100_000_000L) next = System.nanoTime(); // fell behind (descheduled): do not burst
            }
        }
    }
}
