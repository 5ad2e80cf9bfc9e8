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

import reclaim.api.Reclaimer;
import reclaim.collections.RecyclingHashMap;

/**
 * The IBR benchmark's hash map (Wen et al., PPoPP 2018; the setting of the Hyaline and Crystalline papers):
 * key range {@value #RANGE}, prefilled to half, {@code read-mostly} or {@code write-heavy} (see {@link Mix}),
 * run with {@code -t 1,2,4,8,16}. {@code impl} is a scheme's short name (a {@link RecyclingHashMap} whose
 * nodes are recycled through that scheme) or {@code gc}, the GC-allocating twin (same code, a node allocated
 * per insert and dropped to the GC): the baseline. Pending objects are sampled by {@link PendingSampler}.
 *
 * <p>Run: {@code ./reclaim bench MapBenchmark -t 2 -prof gc} (or {@code ./reclaim showcase --full}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class MapBenchmark {
    /** Keys are drawn from 0 .. RANGE-1. */
    static final int RANGE = 100_000;

    /** {@code gc} or a scheme's short name (the showcase passes every scheme present). */
    @Param({"gc", "qsbr", "ebr", "hp", "hyaline", "crystalline", "none"})
    public String impl;

    /** {@code read-mostly} or {@code write-heavy}. */
    @Param({"read-mostly", "write-heavy"})
    public String mix;

    private Reclaimer reclaimer;
    private RecyclingHashMap<Integer, Integer> map;
    private Integer[] keys;
    private int readPercent;

    /** Creates the state. */
    public MapBenchmark() {}

    /** Builds and prefills the map. */
    @Setup(Level.Trial)
    public void setUp() {
        reclaimer = impl.equals("gc") ? null : BarrierCheck.checked(Reclaimer.create(impl));
        map = reclaimer == null ? RecyclingHashMap.gcTwin(RANGE) : new RecyclingHashMap<>(reclaimer, RANGE, 1 << 16);
        keys = Mix.keys(RANGE);
        readPercent = Mix.readPercent(mix);
        Mix.Rng rnd = new Mix.Rng(-1);
        while (map.size() < RANGE / 2) map.putIfAbsent(keys[rnd.next(RANGE)], 1);
    }

    /** Closes the reclaimer. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (reclaimer != null) reclaimer.close();
    }

    /**
     * One operation of the mix.
     *
     * @param t the thread's random source
     * @param sampler the pending-objects sampler
     * @return something for the blackhole
     */
    @Benchmark
    public Object operation(ThreadRng t, PendingSampler sampler) {
        sampler.tick(reclaimer);
        Integer k = keys[t.rnd.next(RANGE)];
        int op = t.rnd.next(100);
        if (op < readPercent) return map.get(k);
        return (op & 1) == 0 ? map.putIfAbsent(k, k) : map.remove(k);
    }
}
