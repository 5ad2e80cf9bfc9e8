package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * replace() while a refused {@code close()} leaves the reclaimer closing: its retire of the old slot is refused then
 * as once the close has completed, so the refusal "before anything is stored: the old message stays" that replace
 * makes for a closed reclaimer is owed here too; it tests {@code isClosed()} only, stores, stales the old handle and
 * leaves both slots out of the free list for good.
 */
@Timeout(60)
class SlotMemoryReplaceWhileClosingTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aReplaceRefusedWhileTheReclaimerIsClosingKeepsTheOldMessage(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 3, 16)) {
            long live = m.store(1, Fixtures.payload(1, 16));
            int before = m.available();
            try (Guard g = r.enter()) {
                assertThrows(IllegalStateException.class, r::close, "close() with this thread's guard open: " + g);
            }
            assertTrue(!r.isClosed(), "the refused close left the reclaimer closing, not closed");
            IllegalStateException refused =
                    assertThrows(IllegalStateException.class, () -> m.replace(live, 0, Fixtures.payload(2, 16)));
            r.close(); // completes now: no guard open
            assertAll(
                    () -> assertTrue(m.isLive(live), scheme + ": the old message was lost (its handle is stale): "
                            + refused),
                    () -> assertEquals(before, m.available(), scheme + ": slots left out of the free list"));
        }
    }
}
