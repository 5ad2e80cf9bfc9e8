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
import reclaim.collections.RecyclingQueue;
import reclaim.collections.RecyclingStack;

/**
 * A 50%-update workload on the Michael&ndash;Scott queue and Treiber's stack: half the operations read the
 * head ({@code peek}), a quarter insert ({@code offer}/{@code push}), a quarter remove ({@code poll}/{@code pop}),
 * from a prefilled structure of {@value #PREFILL} elements. Every removal retires a node, so this is where the
 * retire side of each scheme shows. {@code impl} is a scheme's short name (nodes recycled through it) or
 * {@code gc}, the GC-allocating twin (the same code, a node allocated per insert, dropped to the GC): the
 * baseline. Pending objects are sampled by {@link PendingSampler}.
 *
 * <p>Run: {@code ./reclaim bench QueueStackBenchmark -t 2 -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class QueueStackBenchmark {
    /** Elements in the structure at the start. */
    static final int PREFILL = 1_000;

    /** {@code gc} or a scheme's short name. */
    @Param({"gc", "qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w"})
    public String impl;

    /** {@code queue} (Michael&ndash;Scott) or {@code stack} (Treiber). */
    @Param({"queue", "stack"})
    public String structure;

    private Reclaimer reclaimer;
    private RecyclingQueue<Integer> queue;
    private RecyclingStack<Integer> stack;
    private static final Integer ONE = 1;

    /** Creates the state. */
    public QueueStackBenchmark() {}

    /**
     * The node pool's capacity: larger than the default (4,096), as {@code MapBenchmark}'s, because with two threads
     * or more the objects waiting for reclamation under EBR and QSBR peak above the default, and a pool smaller
     * than that peak drops nodes when a collection frees them and allocates again before the next one.
     */
    static final int POOL_CAPACITY = 1 << 16;

    /** Builds and prefills the structure. */
    @Setup(Level.Trial)
    public void setUp() {
        reclaimer = impl.equals("gc") ? null : BarrierCheck.checked(Reclaimer.create(impl));
        if (structure.equals("queue")) {
            queue = reclaimer == null ? RecyclingQueue.gcTwin() : new RecyclingQueue<>(reclaimer, POOL_CAPACITY);
            for (int i = 0; i < PREFILL; i++) queue.offer(ONE);
        } else {
            stack = reclaimer == null ? RecyclingStack.gcTwin() : new RecyclingStack<>(reclaimer, POOL_CAPACITY);
            for (int i = 0; i < PREFILL; i++) stack.push(ONE);
        }
    }

    /** Closes the reclaimer. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (reclaimer != null) reclaimer.close();
    }

    /**
     * One operation: 50% read, 25% insert, 25% remove.
     *
     * @param t the thread's random source
     * @param sampler the pending-objects sampler
     * @return something for the blackhole
     */
    @Benchmark
    public Object operation(ThreadRng t, PendingSampler sampler) {
        sampler.tick(reclaimer);
        int op = t.rnd.next(4);
        if (queue != null) {
            return switch (op) {
                case 0, 1 -> queue.peek();
                case 2 -> queue.offer(ONE);
                default -> queue.poll();
            };
        }
        switch (op) {
            case 0, 1 -> {
                return stack.peek();
            }
            case 2 -> {
                stack.push(ONE);
                return null;
            }
            default -> {
                return stack.pop();
            }
        }
    }
}
