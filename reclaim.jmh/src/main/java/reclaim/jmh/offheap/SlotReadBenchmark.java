package reclaim.jmh.offheap;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.baseline.RwLockSlotMemory;
import reclaim.offheap.slots.SlotMemory;
import reclaim.offheap.slots.SlotRead;

/**
 * Issue #6, slot reads: the slot memory manager ({@link SlotMemory}: lock-free reads under a guard, frees
 * deferred by the reclaimer) against the same manager with a per-slot read-write lock, one
 * {@code ReentrantReadWriteLock} per slot taken by every reader
 * ({@link RwLockSlotMemory}; {@code impl = rwlock}). Target: reads ≥ 3× the lock's.
 *
 * <p>{@value #MESSAGES} messages of {@value #PAYLOAD} bytes live in a manager of {@value #CAPACITY} slots
 * (room for what the reclaimer holds back); their handles sit in a shared array. Each operation picks a
 * message at random: with probability {@code writePercent} % it replaces it (store a new message, swap the
 * handle in with a CAS, free the old one: {@code free} waits for the slot's readers under the lock, retires
 * the slot under a scheme), otherwise it opens a read, sums the payload's 8 longs and closes. A read that
 * meets a handle freed meanwhile is refused ({@code IllegalStateException}, the same in both) and counts as
 * an operation. {@code reads1} runs 1 thread, {@code reads2} 2 threads, on the same kind of state.
 *
 * <p>{@code scan1} and {@code scan2} (1 and 2 threads) read {@value #K} random messages per invocation, the way
 * a scan does: {@code SlotMemory} opens one guard and reads each message through the guard-scoped
 * {@link SlotMemory#copy(Guard, long, byte[])} (one consistent payload, then the sum of its 8 longs), the
 * lock takes and releases each slot's read lock around its 8 loads; after the guard closes, with probability
 * {@code K * writePercent} % one message is replaced (the same 1 % of writes per read). Scores are per read
 * ({@code @OperationsPerInvocation(K)}), so they compare directly with {@code reads1}/{@code reads2}.
 *
 * <p>Run: {@code ./reclaim bench SlotReadBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class SlotReadBenchmark {
    /** Live messages. */
    static final int MESSAGES = 1024;
    /** Slots in the manager. */
    static final int CAPACITY = 4 * MESSAGES;
    /** Payload bytes per message (8 longs). */
    static final int PAYLOAD = 64;
    /** Messages read per scan invocation. */
    static final int K = 16;

    /** {@code rwlock} (per-slot read-write locks) or a scheme's short name ({@code SlotMemory} under that scheme). */
    @Param({"rwlock", "qsbr", "ebr", "hp", "hyaline", "crystalline"})
    public String impl;

    /** Replacements per 100 operations (the rest are reads). */
    @Param({"1"})
    public int writePercent;

    private Reclaimer reclaimer;
    private SlotMemory slots;
    private RwLockSlotMemory locked;
    private final AtomicLongArray handles = new AtomicLongArray(MESSAGES);
    private final byte[] payload = new byte[PAYLOAD];

    /** Creates the state. */
    public SlotReadBenchmark() {}

    /** Stores the messages. */
    @Setup(Level.Trial)
    public void setUp() {
        for (int i = 0; i < PAYLOAD; i++) payload[i] = (byte) i;
        if (impl.equals("rwlock")) {
            locked = new RwLockSlotMemory(CAPACITY, PAYLOAD);
        } else {
            reclaimer = Reclaimer.create(impl);
            slots = SlotMemory.create(reclaimer, CAPACITY, PAYLOAD);
        }
        for (int i = 0; i < MESSAGES; i++) handles.set(i, store());
    }

    /** Closes the manager and the reclaimer. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (locked != null) {
            locked.close();
        } else {
            slots.close();
            reclaimer.close();
        }
    }

    private long store() {
        long h = locked != null ? locked.tryStore(0, payload) : slots.tryStore(0, payload);
        if (h == SlotMemory.NO_HANDLE) throw new IllegalStateException("no free slot at setup");
        return h;
    }

    /**
     * One operation, 1 thread.
     *
     * @param rng the thread's random source
     * @return the sum read, or a marker
     */
    @Benchmark
    @Threads(1)
    public long reads1(Rng rng) {
        return operation(rng);
    }

    /**
     * One operation, 2 threads.
     *
     * @param rng the thread's random source
     * @return the sum read, or a marker
     */
    @Benchmark
    @Threads(2)
    public long reads2(Rng rng) {
        return operation(rng);
    }

    /**
     * A scan of {@value #K} messages under one guard (the lock: {@value #K} locked reads), 1 thread; scored per
     * read.
     *
     * @param rng the thread's random source
     * @param buf the thread's copy buffer
     * @return the sum read
     */
    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(K)
    public long scan1(Rng rng, Buffer buf) {
        return scan(rng, buf);
    }

    /**
     * A scan of {@value #K} messages under one guard (the lock: {@value #K} locked reads), 2 threads; scored per
     * read.
     *
     * @param rng the thread's random source
     * @param buf the thread's copy buffer
     * @return the sum read
     */
    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(K)
    public long scan2(Rng rng, Buffer buf) {
        return scan(rng, buf);
    }

    private long scan(Rng rng, Buffer buf) {
        long s = 0;
        if (locked != null) {
            for (int k = 0; k < K; k++) {
                long h = handles.get(rng.next(MESSAGES)); // volatile: pairs with the CAS that published it
                try (RwLockSlotMemory.Read r = locked.read(h)) {
                    for (int j = 0; j < PAYLOAD / 8; j++) s += r.getLong(8L * j);
                } catch (IllegalStateException stale) {
                    s--; // freed by a replace between our load of the handle and the read
                }
            }
        } else {
            byte[] b = buf.bytes;
            try (Guard g = reclaimer.enter()) {
                for (int k = 0; k < K; k++) {
                    long h = handles.get(rng.next(MESSAGES)); // volatile: pairs with the CAS that published it
                    try {
                        slots.copy(g, h, b);
                        for (int j = 0; j < PAYLOAD / 8; j++) s += (long) LONGS.get(b, 8 * j);
                    } catch (IllegalStateException stale) {
                        s--;
                    }
                }
            }
        }
        if (rng.next(100) < K * writePercent) {
            int i = rng.next(MESSAGES);
            s += replace(i, handles.get(i));
        }
        return s;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.nativeOrder());

    /** A thread's copy buffer for the guard-scoped scan. */
    @State(Scope.Thread)
    public static class Buffer {
        /** One payload. */
        final byte[] bytes = new byte[PAYLOAD];

        /** Creates the buffer. */
        public Buffer() {}
    }

    private long operation(Rng rng) {
        int i = rng.next(MESSAGES);
        long h = handles.get(i); // volatile: pairs with the CAS that published it
        if (rng.next(100) < writePercent) return replace(i, h);
        try {
            if (locked != null) {
                try (RwLockSlotMemory.Read r = locked.read(h)) {
                    long s = 0;
                    for (int k = 0; k < PAYLOAD / 8; k++) s += r.getLong(8L * k);
                    return s;
                }
            }
            try (SlotRead r = slots.read(h)) {
                long s = 0;
                for (int k = 0; k < PAYLOAD / 8; k++) s += r.getLong(8L * k);
                return s;
            }
        } catch (IllegalStateException stale) {
            return -1; // freed by a replace between our load of the handle and the read
        }
    }

    private long replace(int i, long old) {
        long h = locked != null ? locked.tryStore(0, payload) : slots.tryStore(0, payload);
        if (h == SlotMemory.NO_HANDLE) { // every spare slot is held back by the reclaimer: let it catch up
            reclaimer.flush();
            return -2;
        }
        boolean won = handles.compareAndSet(i, old, h);
        long dead = won ? old : h; // the loser of a race on the same message frees its own new one
        if (locked != null) {
            locked.free(dead);
        } else {
            slots.free(dead);
        }
        return h;
    }
}
