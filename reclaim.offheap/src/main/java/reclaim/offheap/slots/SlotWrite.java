package reclaim.offheap.slots;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import reclaim.api.Guard;

/**
 * An exclusive in-place write access to one message, from {@link SlotMemory#write(long)}: at most one per
 * slot at a time; readers are never blocked by it (they may see its stores torn, and
 * {@link SlotRead#validate()} tells them). Its stores are published to reads opened after it closes.
 *
 * <p>The payload may be written anywhere in {@link SlotMemory#payloadSize()}; reads through this access are
 * bounded by the current {@link #length()}, which {@link #setLength(int)} and {@link #copyFrom(byte[])}
 * change.
 */
public final class SlotWrite extends SlotAccess {

    SlotWrite(SlotMemory memory, Accesses accesses, Guard guard, long handle, long base, int sequence,
            long meta) {
        super(memory, accesses, guard, handle, base, sequence, meta, true);
    }

    /**
     * Writes a byte of the payload.
     *
     * @param offset the offset, {@code 0 <= offset < payloadSize()}
     * @param value the byte
     * @throws IndexOutOfBoundsException if the byte is outside the slot's payload area
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public void setByte(long offset, byte value) {
        memory.slab.set(ValueLayout.JAVA_BYTE, to(offset, 1), value);
    }

    /**
     * Writes an {@code int} of the payload (native byte order, any alignment).
     *
     * @param offset the offset; the 4 bytes must lie inside the payload area
     * @param value the value
     * @throws IndexOutOfBoundsException if the value is outside the slot's payload area
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public void setInt(long offset, int value) {
        memory.slab.set(ValueLayout.JAVA_INT_UNALIGNED, to(offset, 4), value);
    }

    /**
     * Writes a {@code long} of the payload (native byte order, any alignment).
     *
     * @param offset the offset; the 8 bytes must lie inside the payload area
     * @param value the value
     * @throws IndexOutOfBoundsException if the value is outside the slot's payload area
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public void setLong(long offset, long value) {
        memory.slab.set(ValueLayout.JAVA_LONG_UNALIGNED, to(offset, 8), value);
    }

    /**
     * Replaces the payload with {@code src} and sets the length to {@code src.length}.
     *
     * @param src the new payload, at most {@link SlotMemory#payloadSize()} bytes
     * @throws NullPointerException if {@code src} is null
     * @throws IllegalArgumentException if {@code src} is longer than the payload size
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public void copyFrom(byte[] src) {
        Objects.requireNonNull(src, "src");
        if (src.length > memory.payloadSize()) {
            throw new IllegalArgumentException("payload of " + src.length + " bytes exceeds the slot payload size "
                    + memory.payloadSize());
        }
        MemorySegment.copy(src, 0, memory.slab, ValueLayout.JAVA_BYTE, to(0, src.length), src.length);
        setLength(src.length);
    }

    /**
     * Sets the payload length.
     *
     * @param length the new length, {@code 0 <= length <= payloadSize()}
     * @throws IllegalArgumentException if the length is out of range
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public void setLength(int length) {
        check();
        if (length < 0 || length > memory.payloadSize()) {
            throw new IllegalArgumentException("length must be in [0, " + memory.payloadSize() + "], was " + length);
        }
        putMeta((meta & 0xFFFF_FFFF_0000_0000L) | length);
    }

    /**
     * Sets the message's user kind.
     *
     * @param kind the kind
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public void setKind(int kind) {
        check();
        putMeta(((long) kind << 32) | (meta & 0xFFFF_FFFFL));
    }

    private void putMeta(long m) {
        meta = m;
        // One whole word (header reads never see it torn), ordered before the closing sequence release.
        memory.setMetaRelease(base, m);
    }

    private long to(long offset, long bytes) {
        check();
        Objects.checkFromIndexSize(offset, bytes, memory.payloadSize());
        return base + SlotMemory.HEADER + offset;
    }

    /** Publishes the write: the next even sequence, a release store after every payload store. */
    @Override
    void beforeRelease() {
        memory.endWrite(base, sequence);
    }
}
