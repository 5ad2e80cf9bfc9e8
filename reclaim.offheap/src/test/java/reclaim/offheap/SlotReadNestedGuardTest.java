package reclaim.offheap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.slots.SlotMemory;
import reclaim.offheap.slots.SlotRead;

/**
 * A SlotRead nests a level of the thread's guard. A guard-scoped read given the caller's guard while that
 * SlotRead is open reserves in reserve slot 0 of the innermost level under hazard pointers, and must not drop
 * the SlotRead's reservation of its own slot: the access opens an empty shield level above its own for the
 * caller, so the read's slot is not reused under it.
 */
class SlotReadNestedGuardTest {

    private static byte[] msg(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(v).array();
    }

    @Test
    void guardScopedReadInsideAnOpenSlotReadKeepsTheReadsSlot() throws Exception {
        Reclaimer r = Reclaimer.create("hp");
        SlotMemory m = SlotMemory.create(r, 2, 8);
        long h1 = m.store(msg(1));
        long h2 = m.store(msg(2));
        try (Guard g = r.enter(); SlotRead rd = m.read(h1)) {
            // reserves h2's slot in the shield level the read opened above its own: the read keeps its slot
            assertEquals(2L, m.getLong(g, h2, 0));
            long key = 0x1234;
            while (!g.reserve(key, 0)) Thread.onSpinWait(); // the caller's own reserve in slot 0: the shield's too
            AtomicReference<Throwable> err = new AtomicReference<>();
            Thread other = new Thread(() -> {
                try {
                    m.free(h1);
                    r.flush();
                    m.store(msg(99)); // takes h1's slot if its ticket was reclaimed under the open read
                } catch (Throwable t) {
                    err.set(t);
                }
            });
            other.start();
            other.join();
            assertArrayEquals(msg(1), rd.toArray(), "the open SlotRead's slot was reused under it");
        } finally {
            m.close();
            r.close();
        }
    }
}
