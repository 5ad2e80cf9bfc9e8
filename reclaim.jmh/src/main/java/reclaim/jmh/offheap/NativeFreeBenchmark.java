package reclaim.jmh.offheap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

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
import reclaim.offheap.NativeMemory;

/**
 * Issue #6, native free: a writer replaces 64-byte native blocks held in {@code cells} cells while a reader
 * reads them ({@code free:write} and {@code free:read}, one thread each), and the old block must be freed.
 *
 * <table class="striped">
 * <caption>What {@code answer} selects</caption>
 * <thead><tr><th>answer</th><th>reader</th><th>writer</th></tr></thead>
 * <tbody>
 * <tr><td>a scheme's short name</td><td>{@code enter}, {@code NativeMemory.load} of the cell (a native table of
 *     addresses; the load reserves the address, so hazard pointers match it), 8 plain reads, {@code close}</td>
 *     <td>{@code NativeMemory.allocateAddress} (no segment object), 8 writes, a volatile store into the cell,
 *     {@code retire(old)} by address
 *     ({@code free} once no reader can hold it)</td></tr>
 * <tr><td>{@code arena-shared}</td><td>plain load; a read of a closed segment throws
 *     {@code IllegalStateException} and is retried on the new one</td><td>{@code Arena.ofShared()} per block,
 *     {@code allocate}, store, {@code close()} of the old arena (a handshake with every thread)</td></tr>
 * <tr><td>{@code arena-auto}</td><td>plain load</td><td>{@code Arena.ofAuto().allocate}; the old block is freed
 *     when the garbage collector runs its cleaner</td></tr>
 * </tbody>
 * </table>
 *
 * <p>{@code cells = 1} is the hot swap (every read meets the writer); {@code cells = 16384} is a live set of
 * 1 MiB whose blocks the writer replaces at random, and there the writer's {@link NativePeak} counters give
 * the peak native memory over the measurement as a multiple of the live set ({@code free:peakRatio}; target
 * ≤ 1.5; the teardown also prints the peak over the whole trial, warm-up included). Native bytes
 * are: for the schemes, {@code NativeStats.liveBytes()} (payload bytes allocated and not yet freed, live and
 * pending) less the cell table; for {@code arena-auto}, the {@code direct} {@link BufferPoolMXBean}'s
 * {@code memoryUsed} (automatic arenas reserve their allocations there, as direct buffers do; shared and
 * confined arenas do not); for {@code arena-shared}, the writer's own count of blocks allocated and not yet
 * closed (its close is synchronous, so that count is exact). {@code none} (the leak baseline) is left out of
 * the default list: it would leak native memory at the writer's rate.
 *
 * <p>Run: {@code ./reclaim bench NativeFreeBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Group)
public class NativeFreeBenchmark {
    /** Bytes per block: one cache line. */
    static final long BLOCK = 64;
    /** Longs per block, all read by the reader and written by the writer. */
    static final int LONGS = (int) (BLOCK / 8);

    /** A scheme's short name, {@code arena-shared} or {@code arena-auto} (see the class documentation). */
    @Param({"qsbr", "ebr", "hp", "hyaline", "crystalline", "arena-shared", "arena-auto"})
    public String answer;

    /** Cells, each holding one live block: 1 (the hot swap) or 16384 (a 1 MiB live set). */
    @Param({"1", "16384"})
    public int cells;

    private enum Kind { SCHEME, ARENA_SHARED, ARENA_AUTO }

    private Kind kind;

    // schemes
    private Reclaimer reclaimer;
    private NativeMemory memory;
    /** The cell table: {@code cells} addresses, a block of {@code memory}. */
    private MemorySegment table;
    private long tableAddress;
    /** Writer-only: the address of each cell's block, to retire it. */
    private long[] blocks;

    // arenas
    /** The cells' segments, read by the reader. */
    private AtomicReferenceArray<MemorySegment> segments;
    /** Writer-only ({@code arena-shared}): each cell's arena. */
    private Arena[] arenas;
    /** Writer-only ({@code arena-shared}): arenas allocated and not yet closed. */
    private long openArenas;
    private BufferPoolMXBean direct;
    private long directBase;

    /** Writer-only: a counter written into each new block. */
    private long version;
    /** Writer-only: the largest sample over the whole trial (warmup included). */
    private long trialPeak;

    /** Creates the state. */
    public NativeFreeBenchmark() {}

    /** Fills the cells. */
    @Setup(Level.Trial)
    public void setUp() {
        kind = switch (answer) {
            case "arena-shared" -> Kind.ARENA_SHARED;
            case "arena-auto" -> Kind.ARENA_AUTO;
            default -> Kind.SCHEME;
        };
        for (BufferPoolMXBean p : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (p.getName().equals("direct")) direct = p;
        }
        directBase = direct == null ? 0 : direct.getMemoryUsed();
        if (kind == Kind.SCHEME) {
            reclaimer = Reclaimer.create(answer);
            memory = NativeMemory.builder(reclaimer).checked(false).build();
            table = memory.allocateZeroed(8L * cells, 8);
            tableAddress = table.address();
            blocks = new long[cells];
            for (int i = 0; i < cells; i++) {
                long b = newBlock();
                blocks[i] = b;
                memory.setLongVolatile(tableAddress, 8L * i, b);
            }
        } else {
            segments = new AtomicReferenceArray<>(cells);
            arenas = new Arena[cells];
            for (int i = 0; i < cells; i++) segments.set(i, newArenaBlock(i));
        }
    }

    /** Frees every block and closes the reclaimer; prints the trial's peak. */
    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.printf(Locale.ROOT, "%n[native-free] answer=%s cells=%d: trial peak %d native bytes = %.3f x the live set of %d bytes%n",
                answer, cells, trialPeak, (double) trialPeak / liveSet(), liveSet());
        if (kind == Kind.SCHEME) {
            for (long b : blocks) memory.retire(b);
            memory.free(table);
            reclaimer.close();
            memory.close();
        } else if (kind == Kind.ARENA_SHARED) {
            for (Arena a : arenas) a.close();
        }
    }

    private long newBlock() {
        long a = memory.allocateAddress(BLOCK, 8); // by address: no segment object
        long v = ++version;
        for (int k = 0; k < LONGS; k++) memory.setLong(a, 8L * k, v);
        return a;
    }

    private MemorySegment newArenaBlock(int cell) {
        MemorySegment s;
        if (kind == Kind.ARENA_SHARED) {
            Arena a = Arena.ofShared();
            arenas[cell] = a;
            openArenas++;
            s = a.allocate(BLOCK, 8);
        } else {
            s = Arena.ofAuto().allocate(BLOCK, 8);
        }
        long v = ++version;
        for (int k = 0; k < LONGS; k++) s.setAtIndex(ValueLayout.JAVA_LONG, k, v);
        return s;
    }

    /** The live set in bytes: {@code cells × 64}. */
    long liveSet() {
        return cells * BLOCK;
    }

    /** Native bytes of blocks allocated and not yet freed (see the class documentation). */
    long nativeBytes() {
        return switch (kind) {
            case SCHEME -> memory.stats().liveBytes() - table.byteSize();
            case ARENA_SHARED -> openArenas * BLOCK;
            case ARENA_AUTO -> direct == null ? -1 : direct.getMemoryUsed() - directBase;
        };
    }

    void trialPeak(long sample) {
        if (sample > trialPeak) trialPeak = sample;
    }

    /**
     * The reader: one safe read of a cell's block (8 longs).
     *
     * @param rng the reader's random source
     * @return the sum read
     */
    @Benchmark
    @Group("free")
    @GroupThreads(1)
    public long read(Rng rng) {
        int i = cells == 1 ? 0 : rng.next(cells);
        if (kind == Kind.SCHEME) {
            try (Guard g = reclaimer.enter()) {
                long b = memory.load(g, table, 8L * i, 0); // reserved: not freed until the guard closes
                long s = 0;
                for (int k = 0; k < LONGS; k++) s += memory.getLong(b, 8L * k);
                return s;
            }
        }
        while (true) {
            MemorySegment seg = segments.get(i);
            try {
                long s = 0;
                for (int k = 0; k < LONGS; k++) s += seg.getAtIndex(ValueLayout.JAVA_LONG, k);
                return s;
            } catch (IllegalStateException closed) {
                // arena-shared: the writer closed this block's arena after our load; load again
            }
        }
    }

    /**
     * The writer: a new block into a cell, and the old one's release.
     *
     * @param rng the writer's random source
     * @param peak the native-memory sampler
     */
    @Benchmark
    @Group("free")
    @GroupThreads(1)
    public void write(Rng rng, NativePeak peak) {
        int i = cells == 1 ? 0 : rng.next(cells);
        switch (kind) {
            case SCHEME -> {
                long fresh = newBlock();
                long old = blocks[i];
                blocks[i] = fresh;
                memory.setLongVolatile(tableAddress, 8L * i, fresh); // publish: release
                memory.retire(old); // freed once no reader can hold it
            }
            case ARENA_SHARED -> {
                Arena old = arenas[i];
                segments.set(i, newArenaBlock(i));
                old.close(); // the handshake with every thread
                openArenas--;
            }
            case ARENA_AUTO -> segments.set(i, newArenaBlock(i));
        }
        peak.tick(this);
    }
}
