package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Reclaimer;

/** free() when the reclaimer refuses the retire because its close has completed. */
@Timeout(60)
class SlotMemoryFreeAfterReclaimerCloseTest {

    /**
     * free() after the reclaimer's close has completed: the generation CAS succeeds (the handle is stale) but
     * the retire is refused. Unless free pushes the slot back itself, the slot is neither live nor ever pushed
     * back: lost for good. A completed close means no guard is open or can open, so the slot can go back at once
     * (as MappedFileSwap unmaps at once in the same case).
     */
    @Test
    void freeAfterTheReclaimerClosedLosesNoSlot() {
        Reclaimer r = Reclaimer.create("hp");
        SlotMemory m = SlotMemory.create(r, 2, 8);
        long h = m.store(new byte[] {1});
        assertEquals(1, m.available());
        r.close();
        try {
            m.free(h);
        } catch (IllegalStateException reported) {
            // reporting the refused retire is fine; losing the slot is not
        }
        assertFalse(m.isLive(h));
        assertEquals(2, m.available(), "the freed slot never returned to the free list");
        assertNotEquals(SlotMemory.NO_HANDLE, m.tryStore(0, new byte[] {2}));
        assertNotEquals(SlotMemory.NO_HANDLE, m.tryStore(0, new byte[] {3}));
        m.close();
    }
}
