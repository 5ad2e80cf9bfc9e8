package reclaim.offheap;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;
import reclaim.offheap.internal.NativeAccess;

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
 * The JVM must grant this module native access: {@code --enable-native-access=reclaim.offheap} when it is on
 * the module path, {@code --enable-native-access=ALL-UNNAMED} when it is on the class path. Without it,
 * {@link #create} refuses with an {@link IllegalStateException} naming the flag, before any restricted method
 * runs (so the JDK prints no restricted-method warning, and nothing is left half-initialized).
 *
 * <h2>Blocks</h2>
 * {@link #allocate(long, long)} returns a segment of exactly {@code byteSize} bytes (zero is allowed: the block
 * still has a distinct address), aligned to {@code byteAlignment} (a power of two; up to 16 bytes comes from
 * {@code malloc}, more from {@code aligned_alloc}), whose contents are unspecified; {@link #allocateZeroed} zeroes
 * them ({@code calloc} for alignments up to 16). The segment's scope is this allocator's: it is always alive
 * (the block's lifetime is managed by {@code retire}/{@code free}, not by the scope), and it identifies the
 * block's allocator, so that {@code retire} and {@code free} refuse foreign memory (an {@link Arena}'s segment,
 * a heap segment, another {@code NativeMemory}'s block, a slice) with {@link IllegalArgumentException} before
 * reading any of it. Each block is preceded by a hidden header of {@value #HEADER_SIZE} bytes holding its
 * state, size, alignment and birth era ({@link Reclaimer#era()} at allocation): robust
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
 * until the slot takes another address or the guard closes (a load that reads {@code 0} keeps what the slot held). They allocate nothing. {@link #segment(long)} and the
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
 * {@link NativeStats#useAfterFree()}); a {@code load} that reads the poison throws it too (the holder was freed
 * during the read), unless the word provably holds the poison's value as data: the holder is a segment not of this
 * allocator, or a whole block whose header, read again, says it is live. Read through a slice of a block of this
 * allocator, it is reported as freed. Checked mode also checks accessor offsets against the block's size.
 * <p>Cost: one acquire load of the header (on the cache line just before the block) per access, plus a bounds
 * check; a pass over the payload at each free; a small heap node per quarantined block; and memory held back:
 * at most {@code quarantineBytes} (counting {@value #HEADER_SIZE} bytes of header per block; the C library's
 * overhead comes on top), or the last block freed alone where it weighs more (it stays until the next free, so that
 * an immediate second free or read of it is still caught), plus, transiently, the blocks other threads are freeing at that moment, beyond what
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
 * state transitions and the accounting are lock-free (one {@link java.util.concurrent.atomic.LongAdder} per
 * figure, which {@link #stats()} sums); {@code load} is lock-free and its loop ends as soon as two reads agree
 * (see {@link Guard#reserve(long, int)}); the accessors are wait-free. The quarantine is a lock-free queue.
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
     * Overview: how the parts fit.
     *
     * This class checks arguments, moves blocks between states and reads shared addresses; each other job has
     * its own package-private class, which can be read alone:
     *   Libc         the C library's malloc, calloc, aligned_alloc and free (critical downcalls);
     *   BlockHeader  the 16-byte header before each block: layout, state word, birth era, and their accesses;
     *   Quarantine   checked mode's poisoned FIFO of freed blocks, and its store-load pair with close();
     *   Counters     the accounting, one LongAdder per figure.
     *
     * State transitions: retire LIVE -> RETIRED and free LIVE -> FREED are CASes on the state word; the retire
     * action's RETIRED -> FREED is a release store after an acquire check (the reclaimer runs each action once,
     * and nothing else moves a RETIRED block: retire and free CAS from LIVE and fail, retire's undo runs only if
     * the action was never handed over). Only the state bits ever change, so a failed CAS means another thread
     * moved the block, and the loser reports what it found. The payload is poisoned (checked mode) only after
     * the FREED store (a store-store fence between them, in Quarantine.hold), so a reader that checks the
     * header and finds it LIVE or RETIRED, then reads the poison, knows the block was freed during its read
     * (POISON is not a canonical address on x86-64 or AArch64, so no real link has it).
     *
     * Foreign segments: every segment handed out has this allocator's scope (reinterpret with `arena`, an
     * automatic arena held for the allocator's life, so the scope never dies). retire/free compare the scope
     * first, so a segment from an Arena, the heap or another NativeMemory is refused without touching memory;
     * then the address must be 16-aligned and the header's magic and size must match the segment's, which
     * refuses slices (a slice's "header" is bytes of a payload: 16-aligned, inside our own block, so readable).
     *
     * Shared accesses follow the repository's docs/memory-orderings.md: a helper's name states its ordering
     * (fooPlain, fooAcquire, setFooRelease, fooVolatile, casFoo, compareAndExchangeFoo).
     */

    /** The system property read for the default of {@link Builder#checked(boolean)}: {@value}. */
    public static final String CHECKED_PROPERTY = "reclaim.offheap.checked";

    /** The default quarantine limit of checked mode, in bytes: {@value} (64 MiB). */
    public static final long DEFAULT_QUARANTINE_BYTES = 64L << 20;

    /** The largest block size, in bytes: {@value} (one TiB less one byte; the header keeps 40 bits of size). */
    public static final long MAX_BLOCK_SIZE = BlockHeader.MAX_SIZE;

    /** The largest alignment accepted: {@value} (one GiB). */
    public static final long MAX_ALIGNMENT = 1L << 30;

    /** The size of the hidden header before each block: {@value} bytes. */
    public static final long HEADER_SIZE = BlockHeader.SIZE;

    /**
     * The pattern checked mode writes over a freed block's payload (as {@code long}s in native byte order,
     * the tail bytes continuing the same pattern): not a canonical address on x86-64 and AArch64, so a link
     * read from a freed block is recognised.
     */
    public static final long POISON = 0xDEADBEEFDEADBEEFL;

    private static final AtomicLong IDS = new AtomicLong();

    /** The action of every retired block: frees it. One instance, so retiring allocates only the record. */
    private static final Consumer<Retired> RECLAIM = r -> r.owner.reclaim(r.key);

    private final Reclaimer reclaimer;
    private final String scheme;
    private final boolean checked;
    private final String name;
    /** Owns the scope of every segment handed out; held for the allocator's life, so the scope stays alive. */
    private final Arena arena;
    private final MemorySegment.Scope scope;

    /** 0 open, 1 closed; only through {@link #closedVolatile()} and {@link #casClosed}. */
    @SuppressWarnings("unused") // read and written through CLOSED
    private int closed;

    private final Counters counters = new Counters();
    /** Checked mode: freed, poisoned blocks (unused, and empty, in unchecked mode). */
    private final Quarantine quarantine;

    /** The JFR event's hook, or null where the runtime has no {@code jdk.jfr} (see {@link Jfr}). */
    private final Runnable jfrHook;

    private NativeMemory(Builder b) {
        NativeAccess.require("NativeMemory"); // before any restricted method and before Libc's initialization
        this.reclaimer = b.reclaimer;
        this.scheme = reclaimer.scheme().name();
        this.checked = b.checked;
        this.quarantine = new Quarantine(b.quarantineBytes);
        this.name = "NativeMemory#" + IDS.incrementAndGet() + " (" + scheme + (checked ? ", checked)" : ")");
        this.arena = Arena.ofAuto();
        this.scope = arena.scope();
        this.jfrHook = Jfr.register(this, name);
    }

    /**
     * Creates an allocator whose blocks are retired to {@code reclaimer}, with the default settings (checked
     * mode from the system property {@value #CHECKED_PROPERTY}). The reclaimer is not checked here: on one that is
     * closed (or closing) the allocator still allocates and frees with {@link #free}, and {@link #retire} throws
     * as the reclaimer's retire does.
     *
     * @param reclaimer the reclaimer that decides when retired blocks are freed
     * @return a new allocator
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalStateException if the JVM does not grant this module native access (the message names
     *     the flag: {@code --enable-native-access=reclaim.offheap} on the module path,
     *     {@code --enable-native-access=ALL-UNNAMED} on the class path); checked before any restricted method
     *     runs, so the JDK prints no warning
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
         * poisoned first; but once the C library has it, its header is the library's, so a later use of it is
         * undefined, as in unchecked mode, and caught only while the header happens to survive). Ignored in unchecked
         * mode.
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
         * @throws IllegalStateException if the JVM does not grant this module native access (see
         *     {@link NativeMemory#create(Reclaimer)})
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
        long total = BlockHeader.totalSize(size, alignment);
        long base;
        if (alignment <= HEADER_SIZE) {
            base = zero ? Libc.calloc(1L, total) : Libc.malloc(total);
        } else {
            if (!Libc.hasAlignedAlloc()) {
                throw new UnsupportedOperationException("the C library has no aligned_alloc: alignment "
                        + alignment + " > " + HEADER_SIZE + " is not supported");
            }
            base = Libc.alignedAlloc(alignment, total);
        }
        if (base == 0) {
            throw new OutOfMemoryError("cannot allocate " + size + " bytes of native memory (aligned to "
                    + alignment + ", " + total + " bytes with the header): the C library returned NULL");
        }
        long block = base + BlockHeader.payloadOffset(alignment);
        if (zero && alignment > HEADER_SIZE) {
            MemorySegment.ofAddress(block).reinterpret(size).fill((byte) 0);
        }
        BlockHeader.setEraPlain(block, era);
        BlockHeader.setStateRelease(block, BlockHeader.word(BlockHeader.LIVE, alignment, size)); // publication
        counters.allocated(size);
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
        retireAt(null, blockAddress(block, "retire"));
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
        checkGuard(guard, "retire"); // a null guard is not "no guard": retire(block) is that
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
        checkGuard(guard, "retire");
        retireAt(guard, checkAddress(block, "retire"));
    }

    private void retireAt(Guard guard, long a) {
        // A closed reclaimer refuses every retire: refuse before the block turns RETIRED, so that a free racing
        // this call is not refused for a retire that will not happen. (A reclaimer that closes during the call
        // still refuses after the transition: the block goes back to LIVE below; see free's documentation.)
        // (A block that is not live gets its state error from the transition, as before.)
        if (reclaimer.isClosed() && isLive(BlockHeader.stateAcquire(a))) {
            throw new IllegalStateException("retire: the reclaimer of " + name + " is closed");
        }
        long w = transition(a, BlockHeader.LIVE, BlockHeader.RETIRED, "retire");
        long size = BlockHeader.size(w);
        counters.retired(1, size);
        Retired r = new Retired(this, a, BlockHeader.eraPlain(a)); // plain: published with the state word
        try {
            if (guard == null) reclaimer.retire(r, RECLAIM);
            else guard.retire(r, RECLAIM);
        } catch (RuntimeException | Error e) {
            // not retired after all (closed reclaimer, foreign guard): back to LIVE, the counts undone
            BlockHeader.casState(a, BlockHeader.withState(w, BlockHeader.RETIRED), w);
            counters.retired(-1, -size);
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
     * @throws IllegalStateException if the block is retired (its retire action will free it), or a retire of it
     *     is in progress on another thread (a free and a retire of one block race: a double disposal; in the rare
     *     case that the reclaimer closes during that retire and refuses it, the retire throws and the block stays
     *     live, so its caller still owns it)
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
     * @throws IllegalStateException if the block is retired, or a retire of it is in progress, as for
     *     {@link #free(MemorySegment)}
     * @throws UseAfterFreeException if the block was already freed (see {@link #retire(long)})
     */
    public void free(long block) {
        freeAt(checkAddress(block, "free"));
    }

    private void freeAt(long a) {
        long w = transition(a, BlockHeader.LIVE, BlockHeader.FREED, "free");
        long size = BlockHeader.size(w);
        counters.freed(size);
        release(a, size);
    }

    /**
     * The retire action: RETIRED -> FREED by a release store (no CAS: the reclaimer runs each action exactly
     * once, retire and free only move a block out of LIVE, and retire's undo runs only when the action was
     * never handed over, so no other thread writes the state word of a RETIRED block), then poison and
     * quarantine, or free.
     */
    private void reclaim(long a) {
        long w = BlockHeader.stateAcquire(a);
        int s = BlockHeader.state(w);
        if (!BlockHeader.hasMagic(w) || s != BlockHeader.RETIRED) throw stateError(a, s, "retire action");
        BlockHeader.setStateRelease(a, BlockHeader.withState(w, BlockHeader.FREED)); // linearization point
        long size = BlockHeader.size(w);
        counters.reclaimed(size);
        release(a, size);
    }

    /** Checks an address the caller asserts is one of our blocks: non-zero, 16-aligned, a header of ours. */
    private long checkAddress(long a, String op) {
        if (a == 0) throw new NullPointerException(op + ": block address 0");
        if ((a & (HEADER_SIZE - 1)) != 0) {
            throw new IllegalArgumentException(op + ": 0x" + Long.toHexString(a) + " is not a block's address");
        }
        long w = BlockHeader.stateAcquire(a);
        if (!BlockHeader.hasMagic(w) || BlockHeader.state(w) == 0) {
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
        long w = BlockHeader.stateAcquire(a); // our scope and 16-aligned: a header, or bytes of one of our payloads
        if (!BlockHeader.hasMagic(w) || BlockHeader.size(w) != s.byteSize() || BlockHeader.state(w) == 0) {
            throw notWhole(op, s);
        }
        return a;
    }

    private IllegalArgumentException notWhole(String op, MemorySegment s) {
        return new IllegalArgumentException(op + ": the segment at 0x" + Long.toHexString(s.address()) + " of "
                + s.byteSize() + " bytes is not a whole block of " + name
                + " (a slice, or a block already returned to the C library)");
    }

    /** CASes the state of block {@code a} from {@code from} to {@code to}; returns the old state word. */
    private long transition(long a, int from, int to, String op) {
        long w = BlockHeader.stateAcquire(a);
        for (;;) {
            int s = BlockHeader.state(w);
            if (!BlockHeader.hasMagic(w) || s != from) throw stateError(a, s, op);
            long next = BlockHeader.withState(w, to);
            // linearization point of retire/free/the action: the block's state moves
            long witness = BlockHeader.compareAndExchangeState(a, w, next);
            if (witness == w) return w;
            w = witness; // only the state bits change: another thread moved this block
        }
    }

    private static boolean isLive(long headerWord) {
        return BlockHeader.hasMagic(headerWord) && BlockHeader.state(headerWord) == BlockHeader.LIVE;
    }

    private RuntimeException stateError(long a, int s, String op) {
        String where = "block 0x" + Long.toHexString(a) + " of " + name + " (scheme " + scheme + ")";
        return switch (s) {
            case BlockHeader.RETIRED -> new IllegalStateException(op + ": " + where + " is already retired"
                    + ("retire".equals(op) ? " (double retire)" : " (its retire action will free it)"));
            case BlockHeader.LIVE -> new IllegalStateException(op + ": " + where + " is live, not retired");
            default -> uaf(a, op + ": double " + op + " or " + op + " after free");
        };
    }

    private UseAfterFreeException uaf(long a, String detail) {
        counters.useAfterFree();
        return new UseAfterFreeException(a, scheme, detail);
    }

    /** Refuses a null guard, or one of another reclaimer, whose reservations would not protect this allocator's blocks. */
    private void checkGuard(Guard guard, String op) {
        Objects.requireNonNull(guard, "guard");
        if (guard.reclaimer() != reclaimer) {
            throw new IllegalArgumentException(op + ": the guard belongs to another reclaimer than " + name + "'s");
        }
    }

    /** Returns a block that reached FREED to the C library, or (checked mode) poisons and quarantines it. */
    private void release(long a, long size) {
        if (checked) {
            quarantine.hold(a, size);
        } else {
            Libc.free(BlockHeader.base(a, BlockHeader.stateAcquire(a)));
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Protected reads

    /**
     * Reads the address stored at {@code offset} in {@code holder} (volatile) and reserves it in {@code slot} of
     * {@code guard}, re-reading until the reservation covers what was read: the block at the returned address
     * is not freed until the slot is reserved again for another address or the guard closes (reading {@code 0}
     * releases nothing). Allocates nothing. In checked mode, if
     * {@code holder} is a block of this allocator its header is checked first, and reading the poison throws unless
     * the word provably holds it as data (see <em>Checked mode</em> above).
     *
     * @param guard an open guard of this allocator's reclaimer, on the current thread
     * @param holder the memory holding the address (a block, or any segment: an {@code Arena}'s, a heap one over a
     *     {@code long[]}; the volatile read needs 8-byte alignment, which a heap segment over a {@code byte[]} (or
     *     another array of smaller elements) does not promise at any offset, so it is refused as misaligned)
     * @param offset the offset of the address in {@code holder}, 8-aligned
     * @param slot the guard's key slot, {@code 0 <= slot < guard.slots()}
     * @return the address read, protected (may be {@code 0})
     * @throws NullPointerException if {@code guard} or {@code holder} is null
     * @throws IndexOutOfBoundsException if {@code offset} is outside {@code holder}
     * @throws IllegalArgumentException if {@code slot} is out of range, the access is misaligned, or
     *     {@code guard} belongs to another reclaimer (its reservation would not hold back this allocator's frees)
     * @throws IllegalStateException if the guard is closed or used from another thread
     * @throws UseAfterFreeException in checked mode, if {@code holder} is a freed block
     */
    public long load(Guard guard, MemorySegment holder, long offset, int slot) {
        if (checked) checkHolder(holder, offset); // a use after free is reported first, whatever the guard
        checkGuard(guard, "load");
        long v = longVolatile(holder, offset); // volatile: pairs with reserve's fence (Guard.reserve)
        while (!guard.reserve(v, slot)) {
            v = longVolatile(holder, offset);
        }
        // The poison comes after the FREED store (Quarantine.hold: a store-store fence between them), and this acquire
        // re-read of the header comes after the poison's read: a holder freed during the read says so now. Returned
        // as read only where the word is provably not poison: a foreign segment's, or a whole block still readable.
        if (checked && v == POISON && !holdsLiveWord(holder)) {
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
     * @throws IllegalArgumentException if {@code slot} is out of range, the access is misaligned, or
     *     {@code guard} belongs to another reclaimer (its reservation would not hold back this allocator's frees)
     * @throws IllegalStateException if the guard is closed or used from another thread
     * @throws UseAfterFreeException in checked mode, if the block was freed
     */
    public long load(Guard guard, long block, long offset, int slot) {
        long p = at(block, offset, "load"); // a use after free is reported first, whatever the guard
        checkGuard(guard, "load");
        long v = longVolatile(p); // volatile: pairs with reserve's fence (Guard.reserve)
        while (!guard.reserve(v, slot)) {
            v = longVolatile(p);
        }
        if (checked && v == POISON && !isReadable(BlockHeader.stateAcquire(block))) { // the block, as holdsLiveWord
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
        long w = BlockHeader.stateAcquire(block);
        if (!isReadable(w)) throw uaf(block, "segment(" + "0x" + Long.toHexString(block) + ")");
        return MemorySegment.ofAddress(block).reinterpret(BlockHeader.size(w), arena, null);
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
        return longPlain(at(block, offset, "getLong"));
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
        return longVolatile(at(block, offset, "getLongVolatile"));
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
        setLongPlain(at(block, offset, "setLong"), value);
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
        setLongVolatile(at(block, offset, "setLongVolatile"), value);
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
        return casLong(at(block, offset, "compareAndSetLong"), expected, value);
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
        long w = BlockHeader.stateAcquire(block);
        if (!isReadable(w)) throw uaf(block, op + " at offset " + offset);
        long size = BlockHeader.size(w);
        if (offset < 0 || offset > size - 8) {
            throw new IndexOutOfBoundsException(op + ": offset " + offset + " is outside block 0x"
                    + Long.toHexString(block) + " of " + size + " bytes");
        }
    }

    /** Checked mode: if {@code holder} is one of our blocks (not a slice), its header must not say FREED. */
    private void checkHolder(MemorySegment holder, long offset) {
        long a = holder.address();
        if (!scope.equals(holder.scope()) || (a & (HEADER_SIZE - 1)) != 0) return; // foreign, or a slice
        long w = BlockHeader.stateAcquire(a);
        if (!BlockHeader.hasMagic(w)) return; // a slice 16k bytes into a payload
        if (BlockHeader.state(w) == BlockHeader.FREED) throw uaf(a, "load at offset " + offset);
    }

    /**
     * Checked mode: whether a word read from {@code holder} cannot be the poison of a free: {@code holder} is not of
     * this allocator (nothing poisons it), or it is a whole block whose header says LIVE or RETIRED. A slice of one
     * of our blocks has no header of its own to ask, so a poison read through it counts as freed.
     */
    private boolean holdsLiveWord(MemorySegment holder) {
        if (!scope.equals(holder.scope())) return true;
        long a = holder.address();
        if ((a & (HEADER_SIZE - 1)) != 0) return false; // a slice
        long w = BlockHeader.stateAcquire(a);
        return isReadable(w) && BlockHeader.size(w) == holder.byteSize(); // else freed, or a slice at offset 0
    }

    /** Whether a state word is a header of ours whose block may be read: LIVE or RETIRED. */
    private static boolean isReadable(long w) {
        int s = BlockHeader.state(w);
        return BlockHeader.hasMagic(w) && s != BlockHeader.FREED && s != 0;
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
        return quarantine.limit();
    }

    /**
     * Returns a snapshot of the accounting; works after close.
     *
     * @return the stats
     */
    public NativeStats stats() {
        return counters.stats(scheme, checked, quarantine);
    }

    /**
     * Returns whether {@link #close()} has been called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closedVolatile();
    }

    /**
     * Closes this allocator: refuses later allocations, returns the quarantined blocks to the C library and
     * removes the JFR event hook. Idempotent. Blocks still live stay valid; blocks still retired are freed
     * when the reclaimer reclaims them (see the class documentation).
     */
    @Override
    public void close() {
        if (!casClosed(0, 1)) return; // once
        Jfr.unregister(jfrHook);
        quarantine.close();
    }

    /**
     * Returns this allocator's name, {@code NativeMemory#n (scheme)}, or {@code NativeMemory#n (scheme, checked)}
     * in checked mode.
     *
     * @return the name
     */
    @Override
    public String toString() {
        return name;
    }

    /** A retired block as the reclaimer sees it: keyed by its address, born in its birth era. */
    private record Retired(NativeMemory owner, long key, long birthEra) implements Keyed, Born {
    }

    // ------------------------------------------------------------------------------------------------
    // Shared accesses and their VarHandles (names per docs/memory-orderings.md)

    /** The {@code long} at an absolute address, plain. */
    private static long longPlain(long address) {
        return (long) LONG.get(Libc.EVERYTHING, address);
    }

    private static void setLongPlain(long address, long value) {
        LONG.set(Libc.EVERYTHING, address, value);
    }

    private static long longVolatile(long address) {
        return (long) LONG.getVolatile(Libc.EVERYTHING, address);
    }

    /** The {@code long} at {@code offset} of any segment (the holder of a shared address), volatile. */
    private static long longVolatile(MemorySegment holder, long offset) {
        return (long) LONG.getVolatile(holder, offset);
    }

    private static void setLongVolatile(long address, long value) {
        LONG.setVolatile(Libc.EVERYTHING, address, value);
    }

    private static boolean casLong(long address, long expected, long value) {
        return LONG.compareAndSet(Libc.EVERYTHING, address, expected, value);
    }

    private boolean closedVolatile() {
        return (int) CLOSED.getVolatile(this) != 0;
    }

    private boolean casClosed(int expected, int update) {
        return CLOSED.compareAndSet(this, expected, update);
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
