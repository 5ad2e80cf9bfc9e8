package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A full manager whose reclaimer is closing (a {@code close()} refused because a guard was open) answers as a full
 * manager does: {@code tryStore} returns {@link SlotMemory#NO_HANDLE}, {@code store} and {@code replace} throw
 * {@link SlotsExhaustedException} (the old message kept). The flush they try first is refused while the reclaimer
 * closes, and that refusal is not theirs to pass on.
 */
@Timeout(60)
class SlotMemoryFullWhileClosingTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aFullManagerAnswersNoSlotWhileTheReclaimerIsClosing(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 2, 16)) {
            long a = m.store(1, Fixtures.payload(1, 16));
            long b = m.store(2, Fixtures.payload(2, 16));
            try (Guard g = r.enter()) {
                assertThrows(IllegalStateException.class, r::close, "close() with this thread's guard open: " + g);
            }
            assertTrue(!r.isClosed(), "the refused close left the reclaimer closing");
            assertEquals(SlotMemory.NO_HANDLE, m.tryStore(3, Fixtures.payload(3, 16)), scheme + ": tryStore");
            assertThrows(SlotsExhaustedException.class, () -> m.store(3, Fixtures.payload(3, 16)), scheme + ": store");
            assertThrows(SlotsExhaustedException.class, () -> m.replace(a, 3, Fixtures.payload(3, 16)),
                    scheme + ": replace");
            assertTrue(m.isLive(a) && m.isLive(b), scheme + ": both messages kept");
            r.close();
        }
    }
}
