package reclaim.offheap.slots;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * One thread's record in a {@link SlotMemory}: its busy count, which {@link SlotMemory#close()} reads, and its
 * stack of open accesses, which only the thread itself touches.
 *
 * <p>The busy count is the number of write accesses open and operations in progress (reads are not counted).
 * Only the owner writes it; close() reads it from any thread. The owner raises it with a volatile store
 * before its volatile load of the manager's state, and close() stores its state before its volatile loads of
 * the counts: a store&ndash;load pair on each side (Dekker's pattern), so either the operation sees the close
 * or the close sees the operation. The stack of open accesses is the owner's alone and read plainly.
 * Accesses follow the repository's {@code docs/memory-orderings.md}.
 */
final class Accesses {

    final Thread owner;
    /** Only through the busy helpers below. */
    @SuppressWarnings("unused") // read and written through BUSY
    private int busy;
    /*
     * The open accesses as (serial, handle) pairs, innermost last: primitives only, so that an access object
     * is referenced by its caller alone and escape analysis may keep a read allocation-free.
     */
    private long[] serials = new long[4];
    private long[] handles = new long[4];
    /** Whether each open access is a write. */
    private boolean[] writes = new boolean[4];
    /** Open accesses of the owner (read by the owner only). */
    int depth;
    private long lastSerial;

    Accesses(Thread owner) {
        this.owner = owner;
    }

    /** Records a new innermost access on {@code handle}, a write or a read; returns its serial. */
    long push(long handle, boolean write) {
        if (depth == serials.length) {
            serials = Arrays.copyOf(serials, depth * 2);
            handles = Arrays.copyOf(handles, depth * 2);
            writes = Arrays.copyOf(writes, depth * 2);
        }
        serials[depth] = ++lastSerial;
        writes[depth] = write;
        handles[depth++] = handle;
        return lastSerial;
    }

    /**
     * Throws if this thread holds a write access to slot {@code index}: a read of that slot that waits for the
     * slot's write to close would wait for itself.
     */
    void refuseOwnWrite(int index, String op) {
        for (int d = 0; d < depth; d++) {
            if (writes[d] && SlotMemory.index(handles[d]) == index) {
                throw new IllegalStateException(op + " of slot " + index + " waits for the slot's open write to close,"
                        + " and this thread holds that write (opened on handle " + Long.toHexString(handles[d])
                        + "): read through the SlotWrite, or close it first");
            }
        }
    }

    /** Pops the access {@code serial}, which must be the innermost open one. */
    void pop(long serial, SlotAccess x) {
        if (depth == 0 || serials[depth - 1] != serial) {
            throw new IllegalStateException("accesses must be closed in the reverse order of opening"
                    + " (try-with-resources does it); " + x + " is not the innermost open access");
        }
        depth--;
    }

    /** Throws if this thread holds an access to slot {@code index} (it is about to free {@code handle}). */
    void refuseHeld(int index, long handle) {
        for (int d = 0; d < depth; d++) {
            if (SlotMemory.index(handles[d]) == index) {
                throw new IllegalStateException("cannot free slot " + index + " (handle "
                        + Long.toHexString(handle) + "): this thread still holds an access to it (opened on"
                        + " handle " + Long.toHexString(handles[d]) + "); close it first");
            }
        }
    }

    // ---- the busy count (names per docs/memory-orderings.md) ----

    /** Any thread's read of the count (close()): volatile, after close's volatile store of its state. */
    int busyVolatile() {
        return (int) BUSY.getVolatile(this);
    }

    /** The owner's read of its own count: plain (only the owner writes it). */
    int busyPlain() {
        return (int) BUSY.get(this);
    }

    /** The owner raises its count: volatile, ordered before its volatile load of the manager's state. */
    void setBusyVolatile(int v) {
        BUSY.setVolatile(this, v);
    }

    /** The owner lowers its count: release, after its slab accesses. */
    void setBusyRelease(int v) {
        BUSY.setRelease(this, v);
    }

    private static final VarHandle BUSY;

    static {
        try {
            BUSY = MethodHandles.lookup().findVarHandle(Accesses.class, "busy", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
