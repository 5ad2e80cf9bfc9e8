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
import reclaim.collections.RecyclingListSet;

/**
 * The IBR benchmark's list-based set (Harris&ndash;Michael): key range {@value #RANGE}, prefilled to half,
 * {@code read-mostly} or {@code write-heavy} (see {@link Mix}). Every operation walks about a quarter of the
 * list, one {@code protect} per hop, so this is where the read-side cost of hazard pointers shows.
 * {@code impl} is a scheme's short name (a {@link RecyclingListSet} recycling through it) or {@code gc}, the
 * GC-allocating twin: the baseline. Pending objects are sampled by {@link PendingSampler}.
 *
 * <p>Run: {@code ./reclaim bench ListSetBenchmark -t 2 -prof gc} (or {@code ./reclaim showcase --full}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class ListSetBenchmark {
    /** Keys are drawn from 0 .. RANGE-1. */
    static final int RANGE = 512;

    /** {@code gc} or a scheme's short name (the showcase passes every scheme present). */
    @Param({"gc", "qsbr", "ebr", "hp", "hyaline", "crystalline", "none"})
    public String impl;

    /** {@code read-mostly} or {@code write-heavy}. */
    @Param({"read-mostly", "write-heavy"})
    public String mix;

    private Reclaimer reclaimer;
    private RecyclingListSet<Integer> set;
    private Integer[] keys;
    private int readPercent;

    /** Creates the state. */
    public ListSetBenchmark() {}

    /** Builds and prefills the set. */
    @Setup(Level.Trial)
    public void setUp() {
        reclaimer = impl.equals("gc") ? null : BarrierCheck.checked(Reclaimer.create(impl));
        set = reclaimer == null ? RecyclingListSet.gcTwin() : new RecyclingListSet<>(reclaimer, 4096);
        keys = Mix.keys(RANGE);
        readPercent = Mix.readPercent(mix);
        Mix.Rng rnd = new Mix.Rng(-1);
        while (set.size() < RANGE / 2) set.add(keys[rnd.next(RANGE)]);
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
    public boolean operation(ThreadRng t, PendingSampler sampler) {
        sampler.tick(reclaimer);
        Integer k = keys[t.rnd.next(RANGE)];
        int op = t.rnd.next(100);
        if (op < readPercent) return set.contains(k);
        return (op & 1) == 0 ? set.add(k) : set.remove(k);
    }
}
