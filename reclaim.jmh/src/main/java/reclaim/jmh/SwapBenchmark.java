package reclaim.jmh;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;

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

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The JVM's own answers, side by side with every scheme: a block of native memory that a writer replaces
 * (and frees the old one) while a reader reads it. {@code swap:read} and {@code swap:write} are reported
 * separately (one thread each).
 *
 * <table class="striped">
 * <caption>What {@code answer} selects</caption>
 * <thead><tr><th>answer</th><th>reader</th><th>writer</th></tr></thead>
 * <tbody>
 * <tr><td>a scheme's short name</td><td>{@code enter}, {@code protect}, read, {@code close}</td>
 *     <td>{@code malloc} a new block, swap, {@code retire(old, free)}</td></tr>
 * <tr><td>{@code gc}</td><td>plain volatile load (the physical limit)</td>
 *     <td>a new heap {@code long[]}, swap; the old one is the GC's</td></tr>
 * <tr><td>{@code refcount}</td><td>retain (CAS loop on an atomic count, as Netty's
 *     {@code ReferenceCounted}), read, release</td><td>{@code malloc}, swap, release the old (freed at 0)</td></tr>
 * <tr><td>{@code rwlock}</td><td>{@code ReentrantReadWriteLock} read lock</td>
 *     <td>write lock, swap, {@code free} the old</td></tr>
 * <tr><td>{@code arena-shared}</td><td>plain load; an access to a closed segment throws and is retried</td>
 *     <td>{@code Arena.ofShared()} per block, swap, {@code close()} the old arena (a handshake with every
 *     thread)</td></tr>
 * <tr><td>{@code arena-auto}</td><td>plain load</td><td>{@code Arena.ofAuto()} per block, swap; freed when
 *     the GC runs its cleaner</td></tr>
 * </tbody>
 * </table>
 *
 * <p>Run: {@code ./reclaim bench SwapBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Group)
@SuppressWarnings("restricted") // malloc/free downcalls: the forks run with --enable-native-access=ALL-UNNAMED
public class SwapBenchmark {
    /** Bytes per block: one cache line (small, so that the leak baseline {@code none} stays small too). */
    static final long BLOCK = 64;
    /** Longs the reader sums per read (one cache line). */
    static final int READ_LONGS = 8;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MALLOC = LINKER.downcallHandle(
            LINKER.defaultLookup().find("malloc").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("free").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

    /** A scheme's short name, or one of the JVM's answers (see the class documentation). */
    @Param({"gc", "qsbr", "ebr", "hp", "hyaline", "crystalline", "none", "refcount", "rwlock", "arena-shared", "arena-auto"})
    public String answer;

    private Reclaimer reclaimer;
    private final AtomicReference<Block> current = new AtomicReference<>();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private Kind kind;

    private enum Kind { SCHEME, GC, REFCOUNT, RWLOCK, ARENA_SHARED, ARENA_AUTO }

    /** Creates the state. */
    public SwapBenchmark() {}

    /** Creates the first block. */
    @Setup(Level.Trial)
    public void setUp() {
        kind = switch (answer) {
            case "gc" -> Kind.GC;
            case "refcount" -> Kind.REFCOUNT;
            case "rwlock" -> Kind.RWLOCK;
            case "arena-shared" -> Kind.ARENA_SHARED;
            case "arena-auto" -> Kind.ARENA_AUTO;
            default -> Kind.SCHEME;
        };
        if (kind == Kind.SCHEME) reclaimer = BarrierCheck.checked(Reclaimer.create(answer));
        current.set(newBlock());
    }

    /** Frees the last block and closes the reclaimer (which frees what is pending). */
    @TearDown(Level.Trial)
    public void tearDown() {
        Block last = current.getAndSet(null);
        switch (kind) {
            case SCHEME -> reclaimer.retire(last, Block::free);
            case REFCOUNT -> last.release();
            case RWLOCK -> last.free();
            case ARENA_SHARED -> last.arena.close();
            default -> { }
        }
        if (reclaimer != null) reclaimer.close();
    }

    private Block newBlock() {
        return switch (kind) {
            case GC -> new Block(new long[(int) (BLOCK / 8)]);
            case ARENA_SHARED -> {
                Arena a = Arena.ofShared();
                yield new Block(a.allocate(BLOCK), a);
            }
            case ARENA_AUTO -> new Block(Arena.ofAuto().allocate(BLOCK), null);
            default -> new Block(malloc(BLOCK), null);
        };
    }

    /**
     * The reader: one safe read of the current block.
     *
     * @return the sum read
     */
    @Benchmark
    @Group("swap")
    @GroupThreads(1)
    public long read() {
        switch (kind) {
            case SCHEME -> {
                try (Guard g = reclaimer.enter()) {
                    return g.protect(current).sum();
                }
            }
            case REFCOUNT -> {
                Block b;
                do {
                    b = current.get();
                } while (!b.retain());
                try {
                    return b.sum();
                } finally {
                    b.release();
                }
            }
            case RWLOCK -> {
                ReentrantReadWriteLock.ReadLock l = lock.readLock();
                l.lock();
                try {
                    return current.get().sum();
                } finally {
                    l.unlock();
                }
            }
            case ARENA_SHARED -> {
                while (true) {
                    try {
                        return current.get().sum();
                    } catch (IllegalStateException closed) {
                        // the writer closed this block's arena after our load: load again
                    }
                }
            }
            default -> {
                return current.get().sum();
            }
        }
    }

    /** The writer: one replacement, and the old block's release. */
    @Benchmark
    @Group("swap")
    @GroupThreads(1)
    public void write() {
        Block fresh = newBlock();
        switch (kind) {
            case SCHEME -> reclaimer.retire(current.getAndSet(fresh), Block::free);
            case REFCOUNT -> current.getAndSet(fresh).release();
            case RWLOCK -> {
                ReentrantReadWriteLock.WriteLock l = lock.writeLock();
                l.lock();
                try {
                    current.getAndSet(fresh).free();
                } finally {
                    l.unlock();
                }
            }
            case ARENA_SHARED -> current.getAndSet(fresh).arena.close();
            default -> current.set(fresh);
        }
    }

    private static MemorySegment malloc(long size) {
        try {
            MemorySegment p = (MemorySegment) MALLOC.invokeExact(size);
            if (p.equals(MemorySegment.NULL)) throw new OutOfMemoryError("malloc(" + size + ")");
            return p.reinterpret(size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) return e;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** A block: native memory (or a heap array for the GC baseline), with a reference count for refcount. */
    static final class Block {
        final MemorySegment segment;
        final long[] heap;
        final Arena arena;
        private final AtomicInteger refs = new AtomicInteger(1);

        Block(MemorySegment segment, Arena arena) {
            this.segment = segment;
            this.heap = null;
            this.arena = arena;
        }

        Block(long[] heap) {
            this.segment = null;
            this.heap = heap;
            this.arena = null;
        }

        long sum() {
            long s = 0;
            if (heap != null) {
                for (int i = 0; i < READ_LONGS; i++) s += heap[i];
            } else {
                for (int i = 0; i < READ_LONGS; i++) s += segment.getAtIndex(ValueLayout.JAVA_LONG, i);
            }
            return s;
        }

        /** Netty-style retain: fails once the count has dropped to 0 (the block is being freed). */
        boolean retain() {
            int c;
            do {
                c = refs.get();
                if (c == 0) return false;
            } while (!refs.compareAndSet(c, c + 1));
            return true;
        }

        void release() {
            if (refs.decrementAndGet() == 0) free();
        }

        void free() {
            try {
                FREE.invokeExact(segment);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }
}
