package reclaim.offheap.slots;

import java.lang.invoke.VarHandle;
import reclaim.api.Guard;

/**
 * A shared read access to one message, from {@link SlotMemory#read(long)}. Readers take no lock and never
 * wait; any number of them may hold the same slot.
 *
 * <p>If an in-place {@linkplain SlotMemory#write(long) write} of the same slot overlaps the access, values
 * read through it may mix the old and the new payload; {@link #validate()} tells. Without in-place writers
 * (messages only stored, {@linkplain SlotMemory#replace replaced} and freed) every read is consistent.
 */
public final class SlotRead extends SlotAccess {

    SlotRead(SlotMemory memory, Accesses accesses, Guard guard, long handle, long base, int sequence,
            long meta) {
        super(memory, accesses, guard, handle, base, sequence, meta, false);
    }

    /**
     * Returns whether everything read through this access so far is one version of the message: no in-place
     * write of the slot was in progress when it opened, and none has started since. Call it after the reads
     * it vouches for, and retry (a new access) when it returns false, as with
     * {@link java.util.concurrent.locks.StampedLock#validate(long)}.
     *
     * @return true if the reads were consistent
     * @throws IllegalStateException if the access is closed or used from another thread
     */
    public boolean validate() {
        check();
        VarHandle.loadLoadFence(); // the payload loads above come before the sequence load below
        int now = memory.sequenceOpaque(base); // after the fence
        return (sequence & 1) == 0 && now == sequence;
    }
}
