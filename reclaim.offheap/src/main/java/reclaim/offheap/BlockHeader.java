package reclaim.offheap;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.invoke.VarHandle;

/**
 * The hidden header of a {@link NativeMemory} block: its layout, the encoding of its state word, and the
 * accesses to its two words. Every method takes the block's address (the payload's start, what the user
 * holds); the header is the {@value #SIZE} bytes just before it.
 *
 * <h2>Layout</h2>
 * A block is {@code [header: 16 bytes][payload: size bytes]}. For an alignment up to 16 the C block is
 * {@code malloc(16 + size)} and the payload starts 16 bytes in (malloc's 16-byte alignment carries over); for
 * a larger alignment {@code A} it is {@code aligned_alloc(A, A + roundUp(size, A))} and the payload starts
 * {@code A} bytes in, so that the header still sits right before it. The C block's start is therefore
 * {@code block - max(16, A)}, recomputed from the header ({@link #base(long, long)}).
 *
 * <h2>Words</h2>
 * Word 0 ({@code block - 16}), the state word:
 * <pre>
 *   bits 63..48  magic 0xB10C: a header written by NativeMemory
 *   bits 47..46  state: 1 LIVE, 2 RETIRED, 3 FREED (0: not a block's header)
 *   bits 45..40  log2 of the alignment
 *   bits 39..0   size in bytes (hence NativeMemory.MAX_BLOCK_SIZE)
 * </pre>
 * Word 1 ({@code block - 8}): the birth era, {@code reclaimer.era()} at allocation. It is written plainly
 * before the state word's release store and never changed, so a thread that read the state word with an
 * acquire (or a CAS) reads it plainly.
 *
 * <p>Only the state bits of the state word ever change after allocation, so a failed CAS of it means that
 * another thread moved the block. Accesses follow the repository's {@code docs/memory-orderings.md}.
 */
final class BlockHeader {

    /** Bytes of header before each block. */
    static final long SIZE = 16;

    /** The states of a block. {@code 0} is no state: the word is not a block's header. */
    static final int LIVE = 1, RETIRED = 2, FREED = 3;

    private static final long MAGIC = 0xB10CL << 48;
    private static final long MAGIC_MASK = 0xFFFFL << 48;
    private static final int STATE_SHIFT = 46;
    private static final long STATE_MASK = 3L << STATE_SHIFT;
    private static final int ALIGN_SHIFT = 40;
    private static final long SIZE_MASK = (1L << ALIGN_SHIFT) - 1;

    /** The largest size the state word holds. */
    static final long MAX_SIZE = SIZE_MASK;

    private BlockHeader() {
    }

    // ---- layout ----

    /** The offset of the payload in the C block, for {@code alignment} (a power of two). */
    static long payloadOffset(long alignment) {
        return alignment <= SIZE ? SIZE : alignment;
    }

    /** The size of the C block holding a payload of {@code size} bytes aligned to {@code alignment}. */
    static long totalSize(long size, long alignment) {
        return payloadOffset(alignment) + (alignment <= SIZE ? size : (size + alignment - 1) & -alignment);
    }

    /** The start of the C block of {@code block}, from its state word {@code w}. */
    static long base(long block, long w) {
        return block - Math.max(SIZE, 1L << alignmentShift(w));
    }

    // ---- the state word ----

    /** The state word of a new block: magic, {@code state}, the alignment's log2 and the size. */
    static long word(int state, long alignment, long size) {
        return MAGIC | ((long) state << STATE_SHIFT) | ((long) Long.numberOfTrailingZeros(alignment) << ALIGN_SHIFT)
                | size;
    }

    /** Whether {@code w} carries the magic of a header written by {@link NativeMemory}. */
    static boolean hasMagic(long w) {
        return (w & MAGIC_MASK) == MAGIC;
    }

    /** The state in {@code w}: {@link #LIVE}, {@link #RETIRED}, {@link #FREED}, or {@code 0}. */
    static int state(long w) {
        return (int) ((w & STATE_MASK) >>> STATE_SHIFT);
    }

    /** {@code w} with its state replaced by {@code state}. */
    static long withState(long w, int state) {
        return (w & ~STATE_MASK) | ((long) state << STATE_SHIFT);
    }

    /** The payload size in {@code w}. */
    static long size(long w) {
        return w & SIZE_MASK;
    }

    private static int alignmentShift(long w) {
        return (int) ((w >>> ALIGN_SHIFT) & 63);
    }

    // ---- accesses to the header words ----

    /** The state word, acquire: pairs with the release store of allocation or of the retire action. */
    static long stateAcquire(long block) {
        return (long) LONG.getAcquire(Libc.EVERYTHING, block - SIZE);
    }

    /** Stores the state word, release: publishes the header (and what the caller wrote before). */
    static void setStateRelease(long block, long w) {
        LONG.setRelease(Libc.EVERYTHING, block - SIZE, w);
    }

    /** Compare-and-set of the state word (volatile). */
    static boolean casState(long block, long expected, long update) {
        return LONG.compareAndSet(Libc.EVERYTHING, block - SIZE, expected, update);
    }

    /** Compare-and-exchange of the state word (volatile); returns the witness value. */
    static long compareAndExchangeState(long block, long expected, long update) {
        return (long) LONG.compareAndExchange(Libc.EVERYTHING, block - SIZE, expected, update);
    }

    /** The birth era, plain: written before the state word's release store and never changed. */
    static long eraPlain(long block) {
        return (long) LONG.get(Libc.EVERYTHING, block - 8);
    }

    /** Stores the birth era, plain: the state word's release store publishes it. */
    static void setEraPlain(long block, long era) {
        LONG.set(Libc.EVERYTHING, block - 8, era);
    }

    /** A {@code long} at an absolute address, coordinates (segment, offset). */
    private static final VarHandle LONG = JAVA_LONG.varHandle();
}
