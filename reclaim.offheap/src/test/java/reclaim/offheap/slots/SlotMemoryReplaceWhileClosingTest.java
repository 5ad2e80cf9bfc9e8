package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * replace() while a refused {@code close()} leaves the reclaimer closing: its retire of the old slot is refused, and
 * replace then does what its documentation says: the old message is freed as free() describes (its handle stale, its
 * slot left out: a guard may still hold it), and the new one, never handed out, goes back to the free list at once;
 * so no slot but the old one is out, and the refusal is thrown.
 */
@Timeout(60)
class SlotMemoryReplaceWhileClosingTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aReplaceRefusedWhileTheReclaimerIsClosingFreesTheOldAsFreeDoesAndTakesTheNewBack(String scheme) {
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
                    () -> assertFalse(m.isLive(live), scheme + ": the old handle is freed, as free() is: " + refused),
                    () -> assertEquals(before, m.available(), scheme + ": only the old slot is out of the free list"));
        }
    }
}
