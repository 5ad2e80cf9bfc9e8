package reclaim.offheap.slots;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import reclaim.api.Guard;

/**
 * An open access to one message of a {@link SlotMemory}: a {@link SlotRead} or a {@link SlotWrite}.
 *
 * <p>While it is open the slot cannot be handed out again (the access holds a guard of the manager's
 * reclaimer, with the slot reserved in it), so everything read through it belongs to the handle's message.
 * The access hands out no {@link MemorySegment} of the slab, only values and copies, so nothing can outlive
 * it: every method checks that the access is open and used by the thread that opened it, and throws
 * {@link IllegalStateException} otherwise. Offsets are relative to the payload's start; multi-byte values are
 * in native byte order and need no alignment.
 */
public abstract sealed class SlotAccess implements AutoCloseable permits SlotRead, SlotWrite {

    final SlotMemory memory;
    private final Accesses accesses;
    private final Guard guard;
    private final Thread owner;
    private final long handle;
    /** The slot's offset in the slab. */
    final long base;
    /** The header word as this access knows it: kind << 32 | length. */
    long meta;
    /** The write sequence when the access opened (a write: the odd sequence it holds). */
    final int sequence;
    /** This access's serial in its thread's stack of open accesses. */
    private final long serial;
    private boolean open = true;
    /** Whether this access raised its thread's busy count (writes do; reads need not, see SlotMemory.close). */
    private final boolean counted;

    SlotAccess(SlotMemory memory, Accesses accesses, Guard guard, long handle, long base, int sequence,
            long meta, boolean counted) {
        this.memory = memory;
        this.counted = counted;
        this.accesses = accesses;
        this.guard = guard;
        this.owner = Thread.currentThread();
        this.handle = handle;
        this.base = base;
        this.sequence = sequence;
        this.meta = meta;
        this.serial = accesses.push(handle, counted); // open once recorded; a counted access is a write
        // A shield: one more (empty) nesting level of the thread's guard on top of the access's own, so that
        // what the caller reserves or protects while the access is open (a guard-scoped read, the caller's own
        // reserve) goes to that level's slots and never replaces the access's reservation of its slot
        // (hazard pointers and Crystalline keep per-level slots). A nested enter only counts a depth.
        memory.reclaimer().enter();
    }

    /**
     * Returns the handle this access was opened on.
     *
     * @return the handle
     */
    public final long handle() {
        return handle;
    }

    /**
     * Returns the payload length.
     *
     * @return the length in bytes
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public final int length() {
        check();
        return (int) meta;
    }

    /**
     * Returns the message's user kind.
     *
     * @return the kind
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public final int kind() {
        check();
        return (int) (meta >>> 32);
    }

    /**
     * Reads a byte of the payload.
     *
     * @param offset the offset in the payload, {@code 0 <= offset < length()}
     * @return the byte
     * @throws IndexOutOfBoundsException if the byte is outside the payload
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public final byte getByte(long offset) {
        return memory.slab.get(ValueLayout.JAVA_BYTE, at(offset, 1));
    }

    /**
     * Reads an {@code int} of the payload (native byte order, any alignment).
     *
     * @param offset the offset in the payload; the 4 bytes must lie inside it
     * @return the value
     * @throws IndexOutOfBoundsException if the value is outside the payload
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public final int getInt(long offset) {
        return memory.slab.get(ValueLayout.JAVA_INT_UNALIGNED, at(offset, 4));
    }

    /**
     * Reads a {@code long} of the payload (native byte order, any alignment).
     *
     * @param offset the offset in the payload; the 8 bytes must lie inside it
     * @return the value
     * @throws IndexOutOfBoundsException if the value is outside the payload
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public final long getLong(long offset) {
        return memory.slab.get(ValueLayout.JAVA_LONG_UNALIGNED, at(offset, 8));
    }

    /**
     * Copies the payload into the start of {@code dst}.
     *
     * @param dst the destination, at least {@link #length()} long
     * @return the number of bytes copied, {@link #length()}
     * @throws NullPointerException if {@code dst} is null
     * @throws IndexOutOfBoundsException if {@code dst} is too short
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public final int copyTo(byte[] dst) {
        Objects.requireNonNull(dst, "dst");
        int n = length();
        Objects.checkFromIndexSize(0, n, dst.length);
        MemorySegment.copy(memory.slab, ValueLayout.JAVA_BYTE, base + SlotMemory.HEADER, dst, 0, n);
        return n;
    }

    /**
     * Copies {@code bytes} bytes of the payload, from {@code offset}, into {@code dst} at {@code dstOffset}.
     *
     * @param offset the offset in the payload
     * @param dst the destination segment
     * @param dstOffset the offset in {@code dst}
     * @param bytes the number of bytes
     * @throws NullPointerException if {@code dst} is null
     * @throws IndexOutOfBoundsException if the range is outside the payload or {@code dst}
     * @throws IllegalStateException if the access is closed or used from another thread, or {@code dst}'s
     *     scope is closed
     */
    public final void copyTo(long offset, MemorySegment dst, long dstOffset, long bytes) {
        Objects.requireNonNull(dst, "dst");
        MemorySegment.copy(memory.slab, at(offset, bytes), dst, dstOffset, bytes);
    }

    /**
     * Returns a copy of the payload.
     *
     * @return a new array of {@link #length()} bytes
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public final byte[] toArray() {
        byte[] out = new byte[length()];
        copyTo(out);
        return out;
    }

    /**
     * Returns whether this access is still open.
     *
     * @return true until {@link #close()}
     */
    public final boolean isOpen() {
        return open;
    }

    /**
     * Ends the access: the slot may be reused once no other access holds it.
     *
     * @throws IllegalStateException if the access is already closed, is closed from another thread, or is not
     *     the innermost access open on this thread
     */
    @Override
    public final void close() {
        check();
        accesses.pop(serial, this);
        open = false;
        try {
            beforeRelease();
        } finally {
            guard.close(); // the shield level (releases only what the caller reserved there)
            guard.close(); // the access's own level: its slot's reservation
            if (counted) SlotMemory.end(accesses);
        }
    }

    /** What a subclass does at close while it still holds the slot. */
    void beforeRelease() {
    }

    /** The slab offset of {@code bytes} bytes at payload offset {@code offset}, checked against the payload. */
    final long at(long offset, long bytes) {
        check();
        Objects.checkFromIndexSize(offset, bytes, limit());
        return base + SlotMemory.HEADER + offset;
    }

    /** The bytes this access may touch: the payload length. */
    long limit() {
        return (int) meta;
    }

    final void check() {
        if (!open) throw new IllegalStateException(this + " is closed");
        if (owner != Thread.currentThread()) {
            throw new IllegalStateException(this + " belongs to " + owner + ", used from " + Thread.currentThread());
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[slot " + SlotMemory.index(handle) + ", generation "
                + SlotMemory.generation(handle) + (open ? "" : ", closed") + "]";
    }
}
