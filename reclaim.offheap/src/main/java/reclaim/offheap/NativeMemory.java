package reclaim.offheap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import jdk.jfr.FlightRecorder;
import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;

/**
 * Native memory from the C library ({@code malloc}, {@code aligned_alloc}, {@code free}), freed through a
 * {@link Reclaimer} once no reader can still hold it.
 *
 * <h2>What it is for</h2>
 * Heap nodes of a lock-free structure need no reclamation on the JVM: the garbage collector frees a node only
 * when no thread can reach it. Native memory has no such collector. A structure that keeps its nodes off the
 * heap (to stay out of the collector's way, to share memory with native code, to control layout) must know
 * when no reader still holds a node it unlinked: that is what a reclaimer tells. {@code NativeMemory}
 * allocates blocks, and {@link #retire(MemorySegment) retire} frees a block when the reclaimer reclaims it, with
 * no work by the user beyond opening guards and reading shared addresses through {@link #load(Guard, long,
 * long, int) load}.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * try (Reclaimer reclaimer = Reclaimer.create("hp");
 *      NativeMemory memory = NativeMemory.create(reclaimer)) {
 *     MemorySegment node = memory.allocate(16, 8);           // [next][value], contents unspecified
 *     ...                                                    // publish node.address() with a CAS
 *     try (Guard guard = reclaimer.enter()) {
 *         long top = memory.load(guard, head, 0, 0);         // protected: stays allocated until the guard closes
 *         long next = memory.load(guard, top, NEXT, 1);
 *         ...
 *     }
 *     memory.retire(node);                                   // after unlinking it: freed when no reader can hold it
 * }
 * }</pre>
 * The JVM must grant this module native access ({@code --enable-native-access=reclaim.offheap}).
 *
 * <h2>Blocks</h2>
 * {@link #allocate(long, long)} returns a segment of exactly {@code byteSize} bytes (zero is allowed: the block
 * still has a distinct address), aligned to {@code byteAlignment} (a power of two; up to 16 bytes comes from
 * {@code malloc}, more from {@code aligned_alloc}), whose contents are unspecified; {@link #allocateZeroed} zeroes
 * them ({@code calloc} for alignments up to 16). The segment's scope is this allocator's: it is always alive
 * (the block's lifetime is managed by {@code retire}/{@code free}, not by the scope), and it identifies the
 * block's allocator, so that {@code retire} and {@code free} refuse foreign memory (an {@link Arena}'s segment,
 * a heap segment, another {@code NativeMemory}'s block, a slice) with {@link IllegalArgumentException} before
 * reading any of it. Each block is preceded by a hidden header of {@value #HEADER_SIZE} bytes (see the overview
 * below) holding its state, size, alignment and birth era ({@link Reclaimer#era()} at allocation): robust
 * schemes (hazard pointers, robust Hyaline, Crystalline) thus bound the blocks a stalled reader holds back with
 * no work by the user. Blocks are at most {@value #MAX_BLOCK_SIZE} bytes.
 *
 * <h2>Retiring and freeing</h2>
 * {@link #retire(MemorySegment)} (or {@link #retire(Guard, MemorySegment)} inside a guard) hands the reclaimer
 * a small heap object that is {@link Keyed} by the block's address (hazard pointers match it against the
 * addresses readers reserved with {@link Guard#reserve(long, int)}) and {@link Born} in the block's birth era;
 * its action frees the block. {@link #free(MemorySegment)} frees at once (the caller asserts that no reader can
 * hold the block). A block's state goes {@code LIVE -> RETIRED -> FREED} (or {@code LIVE -> FREED}) on its
 * header (a CAS out of {@code LIVE}; then the retire action's store, which only it can make), so a second {@code retire} or {@code free} of a block that is still retired is refused with
 * {@link IllegalStateException}, and one of a freed block with {@link UseAfterFreeException}, naming the block
 * and the scheme. The address-based {@link #allocateAddress(long, long)}, {@link #retire(long)},
 * {@link #retire(Guard, long)} and {@link #free(long)} do the same with no segment object, trusting the caller
 * to pass blocks of this allocator (see {@link #retire(long)}). Once a block has been returned to the C library its header is the C library's: a later
 * {@code retire}, {@code free} or access is undefined (as in C), caught only while the header happens to
 * survive; checked mode keeps freed blocks (and their headers) for as long as they stay in quarantine.
 *
 * <h2>Reading shared addresses</h2>
 * {@link #load(Guard, MemorySegment, long, int)} and {@link #load(Guard, long, long, int)} read an address stored
 * in native memory and protect it with {@link Guard#reserve(long, int)}: the block at that address is not freed
 * until the slot is reused or the guard closes. They allocate nothing. {@link #segment(long)} and the
 * {@code getLong}/{@code setLong}/{@code compareAndSetLong} accessors work with raw addresses, for structures that
 * store addresses rather than segments (absolute access through one segment that spans the address space).
 *
 * <h2>Checked mode</h2>
 * With {@link Builder#checked(boolean) checked(true)} (default: the system property {@value #CHECKED_PROPERTY}),
 * a block being freed is poisoned (every byte of its payload overwritten with the pattern of {@link #POISON}),
 * marked {@code FREED} and held in a FIFO quarantine instead of being returned to the C library; the oldest
 * blocks leave the quarantine (are really freed) when the quarantined bytes exceed
 * {@link Builder#quarantineBytes(long) quarantineBytes} (default {@value #DEFAULT_QUARANTINE_BYTES}), and all at
 * {@link #close()}. Every read through the library ({@code load}, {@code segment}, the accessors) first checks
 * the block's header: a block marked {@code FREED} throws {@link UseAfterFreeException} (counted in
 * {@link NativeStats#useAfterFree()}); a {@code load} that reads the poison (the holder was freed during the
 * read) throws it too. Checked mode also checks accessor offsets against the block's size.
 * <p>Cost: one acquire load of the header (on the cache line just before the block) per access, plus a bounds
 * check; a pass over the payload at each free; a small heap node per quarantined block; and memory held back:
 * at most {@code quarantineBytes} (counting {@value #HEADER_SIZE} bytes of header per block; the C library's
 * overhead comes on top) plus, transiently, the blocks other threads are freeing at that moment, beyond what
 * unchecked mode would hold. Detection is deterministic for a block freed
 * before the access began and still in quarantine; a block that has left the quarantine is the C library's
 * again.
 * <p>Unchecked mode checks no bound and no state on accessors: an offset outside the block, or an address that
 * is not a live block, is undefined behaviour (the JVM may crash), as in C. It still refuses address
 * {@code 0} and misaligned accesses.
 *
 * <h2>Thread safety and progress</h2>
 * A {@code NativeMemory} is thread-safe. {@code allocate} and the final {@code free} of a block are as
 * blocking (or not) as the C library's {@code malloc} and {@code free} (glibc takes a per-arena lock); the
 * state transitions are lock-free and the accounting wait-free (per-thread counters written with plain
 * atomic stores, no locked instruction; {@link #stats()} sums them under a lock); {@code load} is lock-free and its loop ends as soon as two
 * reads agree (see {@link Guard#reserve(long, int)}); the accessors are wait-free. The quarantine is a
 * lock-free queue.
 *
 * <h2>Memory consistency effects</h2>
 * {@code load} reads with volatile semantics; the {@code ...Volatile} and {@code compareAndSetLong} accessors are
 * volatile, {@code getLong}/{@code setLong} are plain. As with heap nodes, publish a block's address with a
 * volatile store or a CAS after initialising it with plain stores, and read it with {@code load} (or an
 * acquire/volatile read): the initialisation then happens-before the reader's accesses. Actions of a thread
 * before it retires a block happen-before the block is freed (the reclaimer's guarantee).
 *
 * <h2>Closing</h2>
 * {@link #close()} is idempotent: it refuses later allocations, returns the quarantine to the C library and
 * removes the JFR event hook. It does not close the reclaimer and frees no block that is live or still retired:
 * a retired block is freed when the reclaimer reclaims it (which {@link Reclaimer#close()} forces: a closed
 * {@code NativeMemory} still lets pending retire actions free their blocks, directly, without quarantine), and
 * live blocks stay valid until retired or freed (they leak otherwise; {@link NativeStats#liveBlocks()} shows
 * them). {@code retire}, {@code free}, the reads and {@link #stats()} keep working after close.
 *
 * <h2>Observability</h2>
 * {@link #stats()} returns the accounting; the periodic JFR event {@code reclaim.NativeMemory} carries the same
 * figures once per period for each open allocator (enable it in a recording).
 */
@SuppressWarnings("restricted") // the whole point: downcalls to the C library, segments over native blocks
public final class NativeMemory implements SegmentAllocator, AutoCloseable {

    /*
     * Overview.
     *
     * A block is [header: 16 bytes][payload: byteSize bytes]; the header is the 16 bytes just before the
     * address handed out. For alignment <= 16 the C block is malloc(16 + size) and the payload starts 16 bytes
     * in (malloc's 16-byte alignment carries over); for a larger alignment A it is
     * aligned_alloc(A, A + roundUp(size, A)) and the payload starts A bytes in, so that the header still sits
     * right before it. The C block's start is therefore block - max(16, A), recomputed from the header.
     *
     * Header word 0 (block - 16), the state word:
     *   bits 63..48  magic 0xB10C: a header written by this class
     *   bits 47..46  state: 1 LIVE, 2 RETIRED, 3 FREED
     *   bits 45..40  log2 of the alignment
     *   bits 39..0   size in bytes (hence MAX_BLOCK_SIZE)
     * Header word 1 (block - 8): the birth era, reclaimer.era() at allocation (plain; written before the state
     * word's release store and never changed).
     *
     * State transitions: retire LIVE -> RETIRED and free LIVE -> FREED are CASes on the state word; the retire
     * action's RETIRED -> FREED is a release store after an acquire check (the reclaimer runs each action once,
     * and nothing else moves a RETIRED block: retire and free CAS from LIVE and fail, retire's undo runs only if
     * the action was never handed over). Only the state bits ever change, so a failed CAS means another thread
     * moved the block, and the loser reports what it found. The payload is poisoned (checked mode) only after
     * the FREED store (a store-store fence between them), so
     * a reader that checks the header and finds it LIVE or RETIRED, then reads the poison, knows the block was
     * freed during its read (POISON is not a canonical address on x86-64 or AArch64, so no real link has it).
     *
     * Foreign segments: every segment handed out has this allocator's scope (reinterpret with `arena`, an
     * automatic arena held for the allocator's life, so the scope never dies). retire/free compare the scope
     * first, so a segment from an Arena, the heap or another NativeMemory is refused without touching memory;
     * then the address must be 16-aligned and the header's magic and size must match the segment's, which
     * refuses slices (a slice's "header" is bytes of a payload: 16-aligned, inside our own block, so readable).
     *
     * Quarantine (checked mode): the action that frees a block adds its bytes, then offers it to `quarantine`,
     * then reads `closed`; close() CASes `closed`, then drains. Both pairs are volatile accesses, so either the
     * action sees `closed` and drains itself, or close() sees the block in the queue: no block is left behind.
     * Trimming polls the oldest blocks while the quarantined weight (size + header) exceeds the limit.
     *
     * Naming of memory accesses, as in the package documentation: ...Plain, ...Acquire, ...Release,
     * ...Volatile, cas... name the ordering of each access to shared native words.
     */

    /** The system property read for the default of {@link Builder#checked(boolean)}: {@value}. */
    public static final String CHECKED_PROPERTY = "reclaim.offheap.checked";

    /** The default quarantine limit of checked mode, in bytes: {@value} (64 MiB). */
    public static final long DEFAULT_QUARANTINE_BYTES = 64L << 20;

    /** The largest block size, in bytes: {@value} (one TiB less one byte; the header keeps 40 bits of size). */
    public static final long MAX_BLOCK_SIZE = (1L << 40) - 1;

    /** The largest alignment accepted: {@value} (one GiB). */
    public static final long MAX_ALIGNMENT = 1L << 30;

    /** The size of the hidden header before each block: {@value} bytes. */
    public static final long HEADER_SIZE = 16;

    /**
     * The pattern checked mode writes over a freed block's payload (as {@code long}s in native byte order,
     * the tail bytes continuing the same pattern): not a canonical address on x86-64 and AArch64, so a link
     * read from a freed block is recognised.
     */
    public static final long POISON = 0xDEADBEEFDEADBEEFL;

    // ---- header encoding ----
    private static final long MAGIC = 0xB10CL << 48;
    private static final long MAGIC_MASK = 0xFFFFL << 48;
    private static final int STATE_SHIFT = 46;
    private static final long STATE_MASK = 3L << STATE_SHIFT;
    private static final int LIVE = 1;
    private static final int RETIRED = 2;
    private static final int FREED = 3;
    private static final int ALIGN_SHIFT = 40;
    private static final long SIZE_MASK = MAX_BLOCK_SIZE;

    // ---- the C library ----
    /** {@code void *malloc(size_t)}: pointer and size_t passed as {@code long} (LP64). */
    private static final MethodHandle MALLOC;
    /** {@code void *calloc(size_t, size_t)}. */
    private static final MethodHandle CALLOC;
    /** {@code void *aligned_alloc(size_t alignment, size_t size)}, or null where the C library lacks it. */
    private static final MethodHandle ALIGNED_ALLOC;
    /** {@code void free(void *)}. */
    private static final MethodHandle FREE;

    /** Every address, for absolute access: offset {@code a} of this segment is address {@code a}. */
    private static final MemorySegment EVERYTHING;

    static {
        if (ADDRESS.byteSize() != 8) {
            throw new ExceptionInInitializerError("reclaim.offheap needs a 64-bit platform (LP64)");
        }
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        // Critical downcalls: no thread-state transition (a plain call, as the JDK's own Unsafe.allocateMemory
        // makes), right for short functions that never call back into Java and do not block for long: the C
        // library's allocator takes at most a per-arena lock held for a few instructions.
        Linker.Option critical = Linker.Option.critical(false);
        MALLOC = linker.downcallHandle(libc.find("malloc").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), critical);
        CALLOC = linker.downcallHandle(libc.find("calloc").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), critical);
        ALIGNED_ALLOC = libc.find("aligned_alloc")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), critical))
                .orElse(null);
        FREE = linker.downcallHandle(libc.find("free").orElseThrow(), FunctionDescriptor.ofVoid(JAVA_LONG), critical);
        EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    }

    private static final AtomicLong IDS = new AtomicLong();

    /** The action of every retired block: frees it. One instance, so retiring allocates only the record. */
    private static final Consumer<Retired> RECLAIM = r -> r.owner.reclaim(r.key);

    private final Reclaimer reclaimer;
    private final String scheme;
    private final boolean checked;
    private final long quarantineLimit;
    private final String name;
    /** Owns the scope of every segment handed out; held for the allocator's life, so the scope stays alive. */
    private final Arena arena;
    private final MemorySegment.Scope scope;

    /** 0 open, 1 closed; accessed through CLOSED (volatile). */
    private volatile int closed;

    /** The current thread's counters (see {@link Counts}); registered on a thread's first event. */
    private final ThreadLocal<Counts> counts = ThreadLocal.withInitial(this::register);
    /** Guards {@link #registered}, {@link #registeredCount}, {@link #pruneAt} and {@link #base}. */
    private final Object registry = new Object();
    /** The counters of threads that may still count, {@code registeredCount} of them. */
    private Counts[] registered = new Counts[8];
    private int registeredCount;
    /** The next registration at this count first folds the counters of ended threads into {@link #base}. */
    private int pruneAt = 8;
    /** The counts of ended threads, folded in by {@link #prune()} (under {@link #registry}). */
    private final Counts base = new Counts(null);
    private final LongAdder useAfterFree = new LongAdder();

    /** Checked mode: freed, poisoned blocks, oldest first. */
    private final ConcurrentLinkedQueue<Long> quarantine = new ConcurrentLinkedQueue<>();
    private final LongAdder quarantinedBlocks = new LongAdder();
    private final LongAdder quarantinedBytes = new LongAdder();
    /** Checked mode: the quarantine's weight for the limit, size + header per block (zero-size blocks count). */
    private final AtomicLong quarantineWeight = new AtomicLong();

    private final Runnable jfrHook;

    private NativeMemory(Builder b) {
        this.reclaimer = b.reclaimer;
        this.scheme = reclaimer.scheme().name();
        this.checked = b.checked;
        this.quarantineLimit = b.quarantineBytes;
        this.name = "NativeMemory#" + IDS.incrementAndGet() + " (" + scheme + (checked ? ", checked)" : ")");
        this.arena = Arena.ofAuto();
        this.scope = arena.scope();
        this.jfrHook = new JfrHook(new WeakReference<>(this), name);
        FlightRecorder.addPeriodicEvent(NativeMemoryEvent.class, jfrHook);
    }

    /**
     * Creates an allocator whose blocks are retired to {@code reclaimer}, with the default settings (checked
     * mode from the system property {@value #CHECKED_PROPERTY}).
     *
     * @param reclaimer the reclaimer that decides when retired blocks are freed
     * @return a new allocator
     * @throws NullPointerException if {@code reclaimer} is null
     */
    public static NativeMemory create(Reclaimer reclaimer) {
        return builder(reclaimer).build();
    }

    /**
     * Returns a builder for an allocator whose blocks are retired to {@code reclaimer}.
     *
     * @param reclaimer the reclaimer that decides when retired blocks are freed
     * @return a new builder
     * @throws NullPointerException if {@code reclaimer} is null
     */
    public static Builder builder(Reclaimer reclaimer) {
        return new Builder(Objects.requireNonNull(reclaimer, "reclaimer"));
    }

    /** Settings of a {@link NativeMemory}. Not thread-safe; {@link #build()} may be called more than once. */
    public static final class Builder {
        private final Reclaimer reclaimer;
        private boolean checked = Boolean.getBoolean(CHECKED_PROPERTY);
        private long quarantineBytes = DEFAULT_QUARANTINE_BYTES;

        private Builder(Reclaimer reclaimer) {
            this.reclaimer = reclaimer;
        }

        /**
         * Sets checked mode (see the class documentation). Default: the system property
         * {@value NativeMemory#CHECKED_PROPERTY} ({@code true} turns it on), false otherwise.
         *
         * @param checked whether to poison, quarantine and check blocks
         * @return this builder
         */
        public Builder checked(boolean checked) {
            this.checked = checked;
            return this;
        }

        /**
         * Sets how many bytes of freed blocks checked mode holds in quarantine before returning the oldest to
         * the C library (each block weighs its size plus {@value NativeMemory#HEADER_SIZE}). Default
         * {@value NativeMemory#DEFAULT_QUARANTINE_BYTES}; {@code 0} returns each block at once (it is still
         * poisoned, and {@code retire}/{@code free} still check its state). Ignored in unchecked mode.
         *
         * @param bytes the quarantine limit, {@code >= 0}
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder quarantineBytes(long bytes) {
            if (bytes < 0) throw new IllegalArgumentException("negative quarantine size: " + bytes);
            this.quarantineBytes = bytes;
            return this;
        }

        /**
         * Creates the allocator.
         *
         * @return a new allocator
         */
        public NativeMemory build() {
            return new NativeMemory(this);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Allocation

    /**
     * Allocates a block of exactly {@code byteSize} bytes, aligned to {@code byteAlignment}, whose contents are
     * unspecified (whatever the C library returns). A zero-size block is allowed: it has a distinct address and
     * must be retired or freed like any other.
     *
     * @param byteSize the size in bytes, {@code 0 <= byteSize <= MAX_BLOCK_SIZE}
     * @param byteAlignment the alignment, a power of two {@code <= MAX_ALIGNMENT}
     * @return the block, a segment of this allocator's scope
     * @throws IllegalArgumentException if {@code byteSize} is negative or too large, or {@code byteAlignment} is
     *     not a power of two or too large
     * @throws OutOfMemoryError if the C library cannot allocate the block
     * @throws IllegalStateException if this allocator is closed
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return allocate(byteSize, byteAlignment, false);
    }

    /**
     * As {@link #allocate(long, long)}, with the contents zeroed ({@code calloc} for alignments up to 16, a fill
     * otherwise).
     *
     * @param byteSize the size in bytes, {@code 0 <= byteSize <= MAX_BLOCK_SIZE}
     * @param byteAlignment the alignment, a power of two {@code <= MAX_ALIGNMENT}
     * @return the block, zeroed
     * @throws IllegalArgumentException if {@code byteSize} is negative or too large, or {@code byteAlignment} is
     *     not a power of two or too large
     * @throws OutOfMemoryError if the C library cannot allocate the block
     * @throws IllegalStateException if this allocator is closed
     */
    public MemorySegment allocateZeroed(long byteSize, long byteAlignment) {
        return allocate(byteSize, byteAlignment, true);
    }

    private MemorySegment allocate(long size, long alignment, boolean zero) {
        long block = allocateAddress(size, alignment, zero);
        return MemorySegment.ofAddress(block).reinterpret(size, arena, null);
    }

    /**
     * As {@link #allocate(long, long)}, but returns the block's address instead of a segment: the same block
     * (same header, alignment and accounting), with no segment object allocated. Retire or free it with
     * {@link #retire(long)}, {@link #retire(Guard, long)} or {@link #free(long)}, or view it with
     * {@link #segment(long)}.
     *
     * @param byteSize the size in bytes, {@code 0 <= byteSize <= MAX_BLOCK_SIZE}
     * @param byteAlignment the alignment, a power of two {@code <= MAX_ALIGNMENT}
     * @return the block's address, never {@code 0}; contents unspecified
     * @throws IllegalArgumentException if {@code byteSize} is negative or too large, or {@code byteAlignment} is
     *     not a power of two or too large
     * @throws OutOfMemoryError if the C library cannot allocate the block
     * @throws IllegalStateException if this allocator is closed
     */
    public long allocateAddress(long byteSize, long byteAlignment) {
        return allocateAddress(byteSize, byteAlignment, false);
    }

    private long allocateAddress(long size, long alignment, boolean zero) {
        if (size < 0) throw new IllegalArgumentException("negative block size: " + size);
        if (size > MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException("block size " + size + " exceeds the maximum " + MAX_BLOCK_SIZE);
        }
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("alignment " + alignment + " is not a power of two");
        }
        if (alignment > MAX_ALIGNMENT) {
            throw new IllegalArgumentException("alignment " + alignment + " exceeds the maximum " + MAX_ALIGNMENT);
        }
        if (isClosed()) throw new IllegalStateException(name + " is closed: cannot allocate " + size + " bytes");

        long era = reclaimer.era(); // before malloc: nothing to undo if it throws; never later than publication
        long offset = alignment <= HEADER_SIZE ? HEADER_SIZE : alignment;
        long total = offset + (alignment <= HEADER_SIZE ? size : (size + alignment - 1) & -alignment);
        long base;
        try {
            if (alignment <= HEADER_SIZE) {
                base = zero ? (long) CALLOC.invokeExact(1L, total) : (long) MALLOC.invokeExact(total);
            } else {
                if (ALIGNED_ALLOC == null) {
                    throw new UnsupportedOperationException("the C library has no aligned_alloc: alignment "
                            + alignment + " > " + HEADER_SIZE + " is not supported");
                }
                base = (long) ALIGNED_ALLOC.invokeExact(alignment, total);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t); // the downcalls declare no checked exception
        }
        if (base == 0) {
            throw new OutOfMemoryError("cannot allocate " + size + " bytes of native memory (aligned to "
                    + alignment + ", " + total + " bytes with the header): the C library returned NULL");
        }
        long block = base + offset;
        if (zero && alignment > HEADER_SIZE) {
            MemorySegment.ofAddress(block).reinterpret(size).fill((byte) 0);
        }
        setEraPlain(block, era);
        setStateRelease(block, MAGIC | ((long) LIVE << STATE_SHIFT)
                | ((long) Long.numberOfTrailingZeros(alignment) << ALIGN_SHIFT) | size);
        counts.get().allocated(size);
        return block;
    }

    // ------------------------------------------------------------------------------------------------
    // Retire and free

    /**
     * Retires a block that has been unlinked: it is freed once no reader can hold it (no guard that could have
     * read its address is open; under hazard pointers, no guard reserves its address).
     *
     * @param block a whole block allocated by this allocator (or returned by {@link #segment(long)})
     * @throws NullPointerException if {@code block} is null
     * @throws IllegalArgumentException if {@code block} was not allocated by this allocator, or is a slice of one
     *     of its blocks
     * @throws IllegalStateException if the block is already retired, or the reclaimer is closed
     * @throws UseAfterFreeException if the block was already freed
     */
    public void retire(MemorySegment block) {
        retire(null, block);
    }

    /**
     * Retires a block from inside a guard (as {@link Guard#retire}, cheaper than {@link #retire(MemorySegment)}
     * there): it is freed once no reader can hold it, this guard included.
     *
     * @param guard an open guard of this allocator's reclaimer, on the current thread
     * @param block a whole block allocated by this allocator
     * @throws NullPointerException if {@code guard} or {@code block} is null
     * @throws IllegalArgumentException if {@code block} was not allocated by this allocator, is a slice, or
     *     {@code guard} belongs to another reclaimer
     * @throws IllegalStateException if the block is already retired, the guard is closed or belongs to
     *     another thread, or the reclaimer is closed
     * @throws UseAfterFreeException if the block was already freed
     */
    public void retire(Guard guard, MemorySegment block) {
        if (guard != null && guard.reclaimer() != reclaimer) {
            throw new IllegalArgumentException("the guard belongs to another reclaimer than " + name + "'s");
        }
        retireAt(guard, blockAddress(block, "retire"));
    }

    /**
     * Retires the block at {@code block}, as {@link #retire(MemorySegment)}, with no segment object: for
     * structures that keep addresses (see {@link #allocateAddress(long, long)}).
     *
     * <p>An address-based call trusts its caller more than a segment-based one: a segment's scope proves that
     * the block is this allocator's, an address proves nothing. The caller asserts that {@code block} is the
     * address of a block of this allocator that it has not handed back: the header just before it is read
     * (so an address that is no block at all is undefined behaviour, as in C), and a block of another
     * {@code NativeMemory} (same header format) is not told apart: it would be retired to this allocator's
     * reclaimer and counted here. What is still refused, in both modes: address {@code 0}, an address not
     * 16-aligned, a header without this class's mark (a slice, most foreign memory), a block already retired
     * (double retire) and, while its header survives (certainly, in checked mode, while it is in
     * quarantine), a block already freed.
     *
     * @param block the address of a live block of this allocator
     * @throws NullPointerException if {@code block} is {@code 0}
     * @throws IllegalArgumentException if {@code block} is not 16-aligned or its header is not a block's
     * @throws IllegalStateException if the block is already retired, or the reclaimer is closed
     * @throws UseAfterFreeException if the block was already freed (see above)
     */
    public void retire(long block) {
        retireAt(null, checkAddress(block, "retire"));
    }

    /**
     * Retires the block at {@code block} from inside a guard, as {@link #retire(Guard, MemorySegment)}, with no
     * segment object; the caller asserts that it is a live block of this allocator (see {@link #retire(long)}).
     *
     * @param guard an open guard of this allocator's reclaimer, on the current thread
     * @param block the address of a live block of this allocator
     * @throws NullPointerException if {@code guard} is null or {@code block} is {@code 0}
     * @throws IllegalArgumentException if {@code block} is not 16-aligned or its header is not a block's, or
     *     {@code guard} belongs to another reclaimer
     * @throws IllegalStateException if the block is already retired, the guard is closed or belongs to
     *     another thread, or the reclaimer is closed
     * @throws UseAfterFreeException if the block was already freed (see {@link #retire(long)})
     */
    public void retire(Guard guard, long block) {
        Objects.requireNonNull(guard, "guard");
        if (guard.reclaimer() != reclaimer) {
            throw new IllegalArgumentException("the guard belongs to another reclaimer than " + name + "'s");
        }
        retireAt(guard, checkAddress(block, "retire"));
    }

    private void retireAt(Guard guard, long a) {
        long w = transition(a, LIVE, RETIRED, "retire");
        long size = w & SIZE_MASK;
        Counts c = counts.get();
        c.retired(1, size);
        Retired r = new Retired(this, a, eraPlain(a));
        try {
            if (guard == null) reclaimer.retire(r, RECLAIM);
            else guard.retire(r, RECLAIM);
        } catch (RuntimeException | Error e) {
            // not retired after all (closed reclaimer, foreign guard): back to LIVE, the counts undone
            casState(a, (w & ~STATE_MASK) | ((long) RETIRED << STATE_SHIFT), w);
            c.retired(-1, -size);
            throw e;
        }
    }

    /**
     * Frees a block now: the caller asserts that no reader can hold it (it was never published, or every
     * reader is known to be done).
     *
     * @param block a whole block allocated by this allocator
     * @throws NullPointerException if {@code block} is null
     * @throws IllegalArgumentException if {@code block} was not allocated by this allocator, or is a slice
     * @throws IllegalStateException if the block is retired (its retire action will free it)
     * @throws UseAfterFreeException if the block was already freed
     */
    public void free(MemorySegment block) {
        freeAt(blockAddress(block, "free"));
    }

    /**
     * Frees the block at {@code block} now, as {@link #free(MemorySegment)}, with no segment object; the caller
     * asserts that it is a live block of this allocator (see {@link #retire(long)} for what an address-based
     * call still catches).
     *
     * @param block the address of a live block of this allocator
     * @throws NullPointerException if {@code block} is {@code 0}
     * @throws IllegalArgumentException if {@code block} is not 16-aligned or its header is not a block's
     * @throws IllegalStateException if the block is retired (its retire action will free it)
     * @throws UseAfterFreeException if the block was already freed (see {@link #retire(long)})
     */
    public void free(long block) {
        freeAt(checkAddress(block, "free"));
    }

    private void freeAt(long a) {
        long w = transition(a, LIVE, FREED, "free");
        long size = w & SIZE_MASK;
        counts.get().freed(size);
        release(a, size);
    }

    /**
     * The retire action: RETIRED -> FREED by a release store (no CAS: the reclaimer runs each action exactly
     * once, retire and free only move a block out of LIVE, and retire's undo runs only when the action was
     * never handed over, so no other thread writes the state word of a RETIRED block), then poison and
     * quarantine, or free.
     */
    private void reclaim(long a) {
        long w = stateAcquire(a);
        if ((w & MAGIC_MASK) != MAGIC || state(w) != RETIRED) throw stateError(a, state(w), "retire action");
        setStateRelease(a, (w & ~STATE_MASK) | ((long) FREED << STATE_SHIFT)); // linearization point
        long size = w & SIZE_MASK;
        counts.get().reclaimed(size);
        release(a, size);
    }

    /** Checks an address the caller asserts is one of our blocks: non-zero, 16-aligned, a header of ours. */
    private long checkAddress(long a, String op) {
        if (a == 0) throw new NullPointerException(op + ": block address 0");
        if ((a & (HEADER_SIZE - 1)) != 0) {
            throw new IllegalArgumentException(op + ": 0x" + Long.toHexString(a) + " is not a block's address");
        }
        long w = stateAcquire(a);
        if ((w & MAGIC_MASK) != MAGIC || state(w) == 0) {
            throw new IllegalArgumentException(op + ": 0x" + Long.toHexString(a) + " is not a block of " + name
                    + " (no block header: a slice, foreign memory, or a block already returned to the C library)");
        }
        return a;
    }

    /**
     * Checks that {@code s} is a whole block of this allocator, without touching foreign memory, and returns its
     * address.
     */
    private long blockAddress(MemorySegment s, String op) {
        Objects.requireNonNull(s, "block");
        long a = s.address();
        if (!scope.equals(s.scope())) {
            throw new IllegalArgumentException(op + ": the segment at 0x" + Long.toHexString(a) + " of "
                    + s.byteSize() + " bytes was not allocated by " + name
                    + " (foreign memory: an Arena's, the heap's, or another NativeMemory's)");
        }
        if ((a & (HEADER_SIZE - 1)) != 0) throw notWhole(op, s);
        long w = stateAcquire(a); // our scope and 16-aligned: a header, or bytes of one of our payloads
        if ((w & MAGIC_MASK) != MAGIC || (w & SIZE_MASK) != s.byteSize() || state(w) == 0) throw notWhole(op, s);
        return a;
    }

    private IllegalArgumentException notWhole(String op, MemorySegment s) {
        return new IllegalArgumentException(op + ": the segment at 0x" + Long.toHexString(s.address()) + " of "
                + s.byteSize() + " bytes is not a whole block of " + name
                + " (a slice, or a block already returned to the C library)");
    }

    /** CASes the state of block {@code a} from {@code from} to {@code to}; returns the old state word. */
    private long transition(long a, int from, int to, String op) {
        long w = stateAcquire(a);
        for (;;) {
            int s = state(w);
            if ((w & MAGIC_MASK) != MAGIC || s != from) throw stateError(a, s, op);
            long next = (w & ~STATE_MASK) | ((long) to << STATE_SHIFT);
            // linearization point of retire/free/the action: the block's state moves
            long witness = caeState(a, w, next);
            if (witness == w) return w;
            w = witness; // only the state bits change: another thread moved this block
        }
    }

    private RuntimeException stateError(long a, int s, String op) {
        String where = "block 0x" + Long.toHexString(a) + " of " + name + " (scheme " + scheme + ")";
        return switch (s) {
            case RETIRED -> new IllegalStateException(op + ": " + where + " is already retired"
                    + ("retire".equals(op) ? " (double retire)" : " (its retire action will free it)"));
            case LIVE -> new IllegalStateException(op + ": " + where + " is live, not retired");
            default -> uaf(a, op + ": double " + op + " or " + op + " after free");
        };
    }

    private UseAfterFreeException uaf(long a, String detail) {
        useAfterFree.increment();
        return new UseAfterFreeException(a, scheme, detail);
    }

    /** Returns a block that reached FREED to the C library, or (checked mode) poisons and quarantines it. */
    private void release(long a, long size) {
        if (!checked) {
            freeRaw(a);
            return;
        }
        VarHandle.storeStoreFence(); // the FREED store (a release store in the retire action) before the poison
        poison(a, size);
        long weight = size + HEADER_SIZE;
        quarantinedBlocks.increment();
        quarantinedBytes.add(size);
        long total = quarantineWeight.addAndGet(weight);
        quarantine.offer(a);        // volatile write, then the volatile read of closed (see the overview)
        if (isClosed()) {
            drainQuarantine(0);
        } else if (total > quarantineLimit) {
            drainQuarantine(quarantineLimit);
        }
    }

    /** Returns the oldest quarantined blocks to the C library until the weight is at most {@code limit}. */
    private void drainQuarantine(long limit) {
        while (quarantineWeight.get() > limit) {
            Long q = quarantine.poll();
            if (q == null) return; // the blocks counted are being offered by other threads: they trim after
            long a = q;
            long size = stateAcquire(a) & SIZE_MASK; // FREED, header intact: blocks in quarantine are ours
            quarantineWeight.addAndGet(-(size + HEADER_SIZE));
            quarantinedBlocks.decrement();
            quarantinedBytes.add(-size);
            freeRaw(a);
        }
    }

    private static void poison(long a, long size) {
        MemorySegment p = MemorySegment.ofAddress(a).reinterpret(size);
        if (size < 8) {
            for (long i = 0; i < size; i++) p.set(ValueLayout.JAVA_BYTE, i, (byte) (POISON >>> (8 * i)));
            return;
        }
        p.set(JAVA_LONG, 0, POISON); // the native byte order, as the readers see it
        long filled = 8;
        while (filled < size) { // doubling copies: the pattern has period 8 and every copy starts at 0
            long n = Math.min(filled, size - filled);
            MemorySegment.copy(p, 0, p, filled, n);
            filled += n;
        }
    }

    private static void freeRaw(long a) {
        long w = stateAcquire(a);
        int shift = (int) ((w >>> ALIGN_SHIFT) & 63);
        long base = a - Math.max(HEADER_SIZE, 1L << shift);
        try {
            FREE.invokeExact(base);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Protected reads

    /**
     * Reads the address stored at {@code offset} in {@code holder} (volatile) and reserves it in {@code slot} of
     * {@code guard}, re-reading until the reservation covers what was read: the block at the returned address
     * is not freed until the slot is reserved again or the guard closes. Allocates nothing. In checked mode, if
     * {@code holder} is a block of this allocator its header is checked first, and reading the poison throws.
     *
     * @param guard an open guard of this allocator's reclaimer, on the current thread
     * @param holder the memory holding the address (a block, or any segment: an {@code Arena}'s, a heap one)
     * @param offset the offset of the address in {@code holder}, 8-aligned
     * @param slot the guard's key slot, {@code 0 <= slot < guard.slots()}
     * @return the address read, protected (may be {@code 0})
     * @throws NullPointerException if {@code guard} or {@code holder} is null
     * @throws IndexOutOfBoundsException if {@code offset} is outside {@code holder}
     * @throws IllegalArgumentException if {@code slot} is out of range or the access is misaligned
     * @throws IllegalStateException if the guard is closed or used from another thread
     * @throws UseAfterFreeException in checked mode, if {@code holder} is a freed block
     */
    public long load(Guard guard, MemorySegment holder, long offset, int slot) {
        if (checked) checkHolder(holder, offset);
        long v = (long) LONG.getVolatile(holder, offset); // volatile: pairs with reserve's fence (Guard.reserve)
        while (!guard.reserve(v, slot)) {
            v = (long) LONG.getVolatile(holder, offset);
        }
        if (checked && v == POISON) {
            throw uaf(holder.address(), "load at offset " + offset + " read the poison: freed during the read");
        }
        return v;
    }

    /**
     * Reads the address stored at {@code block + offset} (volatile) and reserves it in {@code slot} of
     * {@code guard}, as {@link #load(Guard, MemorySegment, long, int)}; {@code block} is the address of a block
     * of this allocator that the caller holds (protected, or not yet retired). Allocates nothing.
     *
     * @param guard an open guard of this allocator's reclaimer, on the current thread
     * @param block the address of the block holding the address
     * @param offset the offset of the address in the block, 8-aligned
     * @param slot the guard's key slot, {@code 0 <= slot < guard.slots()}
     * @return the address read, protected (may be {@code 0})
     * @throws NullPointerException if {@code guard} is null or {@code block} is {@code 0}
     * @throws IndexOutOfBoundsException in checked mode, if {@code offset} is outside the block
     * @throws IllegalArgumentException if {@code slot} is out of range or the access is misaligned
     * @throws IllegalStateException if the guard is closed or used from another thread
     * @throws UseAfterFreeException in checked mode, if the block was freed
     */
    public long load(Guard guard, long block, long offset, int slot) {
        long p = at(block, offset, "load");
        long v = (long) LONG.getVolatile(EVERYTHING, p); // volatile: pairs with reserve's fence (Guard.reserve)
        while (!guard.reserve(v, slot)) {
            v = (long) LONG.getVolatile(EVERYTHING, p);
        }
        if (checked && v == POISON) {
            throw uaf(block, "load at offset " + offset + " read the poison: freed during the read");
        }
        return v;
    }

    /**
     * Returns a view of the live (or retired, still readable) block at {@code block}, of its full size, in this
     * allocator's scope (so it can be retired or freed). Reads the block's header; in checked mode, the read
     * also checks the block's state.
     *
     * @param block the address of a block of this allocator
     * @return the block as a segment
     * @throws NullPointerException if {@code block} is {@code 0}
     * @throws IllegalArgumentException if {@code block} is not 16-aligned (not a block's address)
     * @throws UseAfterFreeException if the header says the block was freed, or holds no block (the check is
     *     certain in checked mode while the block stays in quarantine)
     */
    public MemorySegment segment(long block) {
        if (block == 0) throw new NullPointerException("block address 0");
        if ((block & (HEADER_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("0x" + Long.toHexString(block) + " is not a block's address");
        }
        long w = stateAcquire(block);
        if ((w & MAGIC_MASK) != MAGIC || state(w) == FREED || state(w) == 0) {
            throw uaf(block, "segment(" + "0x" + Long.toHexString(block) + ")");
        }
        return MemorySegment.ofAddress(block).reinterpret(w & SIZE_MASK, arena, null);
    }

    // ------------------------------------------------------------------------------------------------
    // Accessors by address

    /**
     * Reads the {@code long} at {@code block + offset}, plain.
     *
     * @param block the address of a block of this allocator, live or protected
     * @param offset the offset in the block, 8-aligned
     * @return the value
     * @throws NullPointerException if {@code block} is {@code 0}
     * @throws IndexOutOfBoundsException in checked mode, if {@code offset} is outside the block
     * @throws IllegalArgumentException if the access is misaligned
     * @throws UseAfterFreeException in checked mode, if the block was freed
     */
    public long getLong(long block, long offset) {
        return (long) LONG.get(EVERYTHING, at(block, offset, "getLong"));
    }

    /**
     * Reads the {@code long} at {@code block + offset}, volatile (an acquire, at least).
     *
     * @param block the address of a block of this allocator, live or protected
     * @param offset the offset in the block, 8-aligned
     * @return the value
     * @throws NullPointerException if {@code block} is {@code 0}
     * @throws IndexOutOfBoundsException in checked mode, if {@code offset} is outside the block
     * @throws IllegalArgumentException if the access is misaligned
     * @throws UseAfterFreeException in checked mode, if the block was freed
     */
    public long getLongVolatile(long block, long offset) {
        return (long) LONG.getVolatile(EVERYTHING, at(block, offset, "getLongVolatile"));
    }

    /**
     * Writes the {@code long} at {@code block + offset}, plain (to initialise a block before publishing it).
     *
     * @param block the address of a block of this allocator, live
     * @param offset the offset in the block, 8-aligned
     * @param value the value
     * @throws NullPointerException if {@code block} is {@code 0}
     * @throws IndexOutOfBoundsException in checked mode, if {@code offset} is outside the block
     * @throws IllegalArgumentException if the access is misaligned
     * @throws UseAfterFreeException in checked mode, if the block was freed
     */
    public void setLong(long block, long offset, long value) {
        LONG.set(EVERYTHING, at(block, offset, "setLong"), value);
    }

    /**
     * Writes the {@code long} at {@code block + offset}, volatile (a release, at least: publishes what was
     * written before it).
     *
     * @param block the address of a block of this allocator, live
     * @param offset the offset in the block, 8-aligned
     * @param value the value
     * @throws NullPointerException if {@code block} is {@code 0}
     * @throws IndexOutOfBoundsException in checked mode, if {@code offset} is outside the block
     * @throws IllegalArgumentException if the access is misaligned
     * @throws UseAfterFreeException in checked mode, if the block was freed
     */
    public void setLongVolatile(long block, long offset, long value) {
        LONG.setVolatile(EVERYTHING, at(block, offset, "setLongVolatile"), value);
    }

    /**
     * Atomically sets the {@code long} at {@code block + offset} to {@code value} if it equals
     * {@code expected} (volatile semantics, as {@code VarHandle.compareAndSet}).
     *
     * @param block the address of a block of this allocator, live or protected
     * @param offset the offset in the block, 8-aligned
     * @param expected the value expected
     * @param value the new value
     * @return whether the value was set
     * @throws NullPointerException if {@code block} is {@code 0}
     * @throws IndexOutOfBoundsException in checked mode, if {@code offset} is outside the block
     * @throws IllegalArgumentException if the access is misaligned
     * @throws UseAfterFreeException in checked mode, if the block was freed
     */
    public boolean compareAndSetLong(long block, long offset, long expected, long value) {
        return LONG.compareAndSet(EVERYTHING, at(block, offset, "compareAndSetLong"), expected, value);
    }

    /** The absolute address of the long at {@code block + offset}; in checked mode, after checking the block. */
    private long at(long block, long offset, String op) {
        if (block == 0) throw new NullPointerException("block address 0");
        if (checked) checkLive(block, offset, op);
        return block + offset;
    }

    /** Checked mode: the block's header must be ours and not FREED, and the long must lie inside the block. */
    private void checkLive(long block, long offset, String op) {
        if ((block & (HEADER_SIZE - 1)) != 0) {
            throw new IllegalArgumentException(op + ": 0x" + Long.toHexString(block) + " is not a block's address");
        }
        long w = stateAcquire(block);
        if ((w & MAGIC_MASK) != MAGIC || state(w) == FREED || state(w) == 0) {
            throw uaf(block, op + " at offset " + offset);
        }
        long size = w & SIZE_MASK;
        if (offset < 0 || offset > size - 8) {
            throw new IndexOutOfBoundsException(op + ": offset " + offset + " is outside block 0x"
                    + Long.toHexString(block) + " of " + size + " bytes");
        }
    }

    /** Checked mode: if {@code holder} is one of our blocks (not a slice), its header must not say FREED. */
    private void checkHolder(MemorySegment holder, long offset) {
        long a = holder.address();
        if (!scope.equals(holder.scope()) || (a & (HEADER_SIZE - 1)) != 0) return; // foreign, or a slice
        long w = stateAcquire(a);
        if ((w & MAGIC_MASK) != MAGIC) return; // a slice 16k bytes into a payload
        if (state(w) == FREED) throw uaf(a, "load at offset " + offset);
    }

    // ------------------------------------------------------------------------------------------------
    // State, stats, close

    /**
     * Returns the reclaimer that frees this allocator's retired blocks.
     *
     * @return the reclaimer
     */
    public Reclaimer reclaimer() {
        return reclaimer;
    }

    /**
     * Returns whether this allocator runs in checked mode.
     *
     * @return true if freed blocks are poisoned, quarantined and checked on access
     */
    public boolean isChecked() {
        return checked;
    }

    /**
     * Returns the quarantine limit of checked mode.
     *
     * @return the limit in bytes
     */
    public long quarantineBytes() {
        return quarantineLimit;
    }

    /**
     * Returns a snapshot of the accounting; works after close.
     *
     * @return the stats
     */
    public NativeStats stats() {
        // each difference reads its subtrahend first: the counters only grow (but for retire's undo), and a
        // block is counted in the minuend before the subtrahend, so the difference stays >= 0 up to the sums'
        // non-atomic reads; freed = freed directly + reclaimed
        long recBlocks;
        long recBytes;
        long fBlocks;
        long fBytes;
        long rBlocks;
        long rBytes;
        long aBlocks;
        long aBytes;
        synchronized (registry) {
            Counts[] cs = registered;
            int n = registeredCount;
            recBlocks = base.reclaimedBlocks;
            recBytes = base.reclaimedBytes;
            for (int i = 0; i < n; i++) {
                recBlocks += cs[i].reclaimedBlocks();
                recBytes += cs[i].reclaimedBytes();
            }
            fBlocks = recBlocks + base.freedBlocks;
            fBytes = recBytes + base.freedBytes;
            rBlocks = base.retiredBlocks;
            rBytes = base.retiredBytes;
            aBlocks = base.allocatedBlocks;
            aBytes = base.allocatedBytes;
            for (int i = 0; i < n; i++) {
                fBlocks += cs[i].freedBlocks();
                fBytes += cs[i].freedBytes();
            }
            for (int i = 0; i < n; i++) {
                rBlocks += cs[i].retiredBlocks();
                rBytes += cs[i].retiredBytes();
            }
            for (int i = 0; i < n; i++) {
                aBlocks += cs[i].allocatedBlocks();
                aBytes += cs[i].allocatedBytes();
            }
        }
        return new NativeStats(scheme, checked, aBlocks, aBytes, rBlocks, rBytes, fBlocks, fBytes,
                Math.max(0, rBlocks - recBlocks), Math.max(0, rBytes - recBytes),
                Math.max(0, quarantinedBlocks.sum()), Math.max(0, quarantinedBytes.sum()), useAfterFree.sum());
    }

    /**
     * Returns whether {@link #close()} has been called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return (int) CLOSED.getVolatile(this) != 0;
    }

    /**
     * Closes this allocator: refuses later allocations, returns the quarantined blocks to the C library and
     * removes the JFR event hook. Idempotent. Blocks still live stay valid; blocks still retired are freed
     * when the reclaimer reclaims them (see the class documentation).
     */
    @Override
    public void close() {
        if (!CLOSED.compareAndSet(this, 0, 1)) return; // volatile: then the quarantine read (see the overview)
        FlightRecorder.removePeriodicEvent(jfrHook);
        drainQuarantine(0);
    }

    /**
     * Returns this allocator's name, {@code NativeMemory#n (scheme)}.
     *
     * @return the name
     */
    @Override
    public String toString() {
        return name;
    }

    private static int state(long w) {
        return (int) ((w & STATE_MASK) >>> STATE_SHIFT);
    }

    /** Registers the current thread's counters (its first event on this allocator). */
    private Counts register() {
        Counts c = new Counts(Thread.currentThread());
        synchronized (registry) {
            if (registeredCount == pruneAt) prune();
            if (registeredCount == registered.length) {
                registered = java.util.Arrays.copyOf(registered, registeredCount * 2);
            }
            registered[registeredCount++] = c;
        }
        return c;
    }

    /**
     * Folds the counters of ended threads into {@link #base} and drops them (under {@link #registry}); runs when
     * the registrations reach twice the survivors of the last pass, so that thread churn (virtual threads)
     * costs amortized O(1) per registration and the list stays within twice the live counting threads.
     * {@code isAlive()} returning false happens-after the thread's last action (JLS 17.4.4): its plain
     * counts are final and visible here.
     */
    private void prune() {
        Counts[] cs = registered;
        int kept = 0;
        for (int i = 0; i < registeredCount; i++) {
            Counts c = cs[i];
            if (c.owner.isAlive()) {
                cs[kept++] = c;
            } else {
                base.allocatedBlocks += c.allocatedBlocks;
                base.allocatedBytes += c.allocatedBytes;
                base.retiredBlocks += c.retiredBlocks;
                base.retiredBytes += c.retiredBytes;
                base.reclaimedBlocks += c.reclaimedBlocks;
                base.reclaimedBytes += c.reclaimedBytes;
                base.freedBlocks += c.freedBlocks;
                base.freedBytes += c.freedBytes;
            }
        }
        java.util.Arrays.fill(cs, kept, registeredCount, null);
        registeredCount = kept;
        pruneAt = Math.max(8, 2 * kept);
    }

    /**
     * One thread's accounting. Only the owner writes (opaque stores of its own plain reads: no locked
     * instruction); {@link #stats()} reads with opaque loads, which see each count whole, and exactly once the
     * owner's events happen-before the read (a join, a reclaimer's flush) or the owner ended ({@link #prune()}).
     * {@code freed} counts blocks freed directly ({@code free}); the retire actions' frees are {@code reclaimed}.
     */
    private static final class Counts {
        final Thread owner;
        long allocatedBlocks;
        long allocatedBytes;
        long retiredBlocks;
        long retiredBytes;
        long reclaimedBlocks;
        long reclaimedBytes;
        long freedBlocks;
        long freedBytes;

        Counts(Thread owner) {
            this.owner = owner;
        }

        void allocated(long size) {
            A_BLOCKS.setOpaque(this, allocatedBlocks + 1);
            A_BYTES.setOpaque(this, allocatedBytes + size);
        }

        void retired(long blocks, long size) {
            R_BLOCKS.setOpaque(this, retiredBlocks + blocks);
            R_BYTES.setOpaque(this, retiredBytes + size);
        }

        void reclaimed(long size) {
            REC_BLOCKS.setOpaque(this, reclaimedBlocks + 1);
            REC_BYTES.setOpaque(this, reclaimedBytes + size);
        }

        void freed(long size) {
            F_BLOCKS.setOpaque(this, freedBlocks + 1);
            F_BYTES.setOpaque(this, freedBytes + size);
        }

        long allocatedBlocks() {
            return (long) A_BLOCKS.getOpaque(this);
        }

        long allocatedBytes() {
            return (long) A_BYTES.getOpaque(this);
        }

        long retiredBlocks() {
            return (long) R_BLOCKS.getOpaque(this);
        }

        long retiredBytes() {
            return (long) R_BYTES.getOpaque(this);
        }

        long reclaimedBlocks() {
            return (long) REC_BLOCKS.getOpaque(this);
        }

        long reclaimedBytes() {
            return (long) REC_BYTES.getOpaque(this);
        }

        long freedBlocks() {
            return (long) F_BLOCKS.getOpaque(this);
        }

        long freedBytes() {
            return (long) F_BYTES.getOpaque(this);
        }

        private static final VarHandle A_BLOCKS = handle("allocatedBlocks");
        private static final VarHandle A_BYTES = handle("allocatedBytes");
        private static final VarHandle R_BLOCKS = handle("retiredBlocks");
        private static final VarHandle R_BYTES = handle("retiredBytes");
        private static final VarHandle REC_BLOCKS = handle("reclaimedBlocks");
        private static final VarHandle REC_BYTES = handle("reclaimedBytes");
        private static final VarHandle F_BLOCKS = handle("freedBlocks");
        private static final VarHandle F_BYTES = handle("freedBytes");

        private static VarHandle handle(String field) {
            try {
                return MethodHandles.lookup().findVarHandle(Counts.class, field, long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    /** A retired block as the reclaimer sees it: keyed by its address, born in its birth era. */
    private record Retired(NativeMemory owner, long key, long birthEra) implements Keyed, Born {
    }

    /** Emits the JFR event for one allocator; holds it weakly, so a forgotten allocator can still be collected. */
    private static final class JfrHook implements Runnable {
        private final WeakReference<NativeMemory> memory;
        private final String name;

        JfrHook(WeakReference<NativeMemory> memory, String name) {
            this.memory = memory;
            this.name = name;
        }

        @Override
        public void run() {
            NativeMemory m = memory.get();
            if (m == null) return; // collected without close(): nothing to report
            NativeMemoryEvent e = new NativeMemoryEvent();
            e.set(name, m.stats());
            e.commit();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Header words and VarHandles

    private static long stateAcquire(long block) {
        return (long) LONG.getAcquire(EVERYTHING, block - HEADER_SIZE);
    }

    private static void setStateRelease(long block, long w) {
        LONG.setRelease(EVERYTHING, block - HEADER_SIZE, w);
    }

    /** Compare-and-exchange of the state word (volatile); returns the witness value. */
    private static long caeState(long block, long expected, long next) {
        return (long) LONG.compareAndExchange(EVERYTHING, block - HEADER_SIZE, expected, next);
    }

    private static boolean casState(long block, long expected, long next) {
        return LONG.compareAndSet(EVERYTHING, block - HEADER_SIZE, expected, next);
    }

    private static long eraPlain(long block) {
        return (long) LONG.get(EVERYTHING, block - 8);
    }

    private static void setEraPlain(long block, long era) {
        LONG.set(EVERYTHING, block - 8, era);
    }

    /** A {@code long} in a segment, coordinates (segment, offset). */
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(NativeMemory.class, "closed", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
