package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.hyaline.HyalineSlots.create;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.impl.core.GuardHolder;
import reclaim.impl.core.Participant;
import reclaim.impl.core.ThreadGuard;

/**
 * A platform thread keeps its Hyaline slot under either barrier strategy: its outermost enter activates the slot's
 * session word between the core's store of the open word and (under fences) the core's fence, and its leave ends the
 * session; the participant stays the thread's own (HELD) between guards instead of going back to the free list. An
 * enter that the core refuses because {@code close()} began ends the session it had begun, so that the slot does not
 * look active to retirers and to the tidying pass.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@SuppressWarnings("try")
class SlotKeptAcrossGuardsTest {

    @ParameterizedTest(name = "{0}, robust={1}")
    @CsvSource({"FENCE, true", "FENCE, false", "ASYMMETRIC, true", "ASYMMETRIC, false"})
    void aPlatformThreadKeepsItsSlotAndItsSessionsAlternate(String barrier, boolean robust) {
        try (Reclaimer r = create(barrier, robust)) {
            HyalineParticipant slot;
            long session;
            try (Guard g = r.enter()) {
                ThreadGuard tg = (ThreadGuard) g;
                slot = (HyalineParticipant) tg.registered();
                assertNotNull(slot, "the thread holds no slot of its own inside its first guard");
                assertSame(slot, tg.record(), "the guard is not open on the thread's own slot");
                session = slot.sessionVolatile();
                assertTrue(HyalineParticipant.active(session), "the slot is not active inside the guard");
            }
            for (int i = 1; i <= 3; i++) {
                assertFalse(HyalineParticipant.active(slot.sessionVolatile()), "the slot is active after its guard closed");
                assertEquals(Participant.HELD, slot.stateVolatile(), "the slot went back to the free list between guards");
                try (Guard g = r.enter()) {
                    ThreadGuard tg = (ThreadGuard) g;
                    assertSame(slot, tg.registered(), "guard " + i + " holds another slot");
                    assertSame(slot, tg.record(), "guard " + i + " is not open on the thread's own slot");
                    assertEquals(session + 2L * i, slot.sessionVolatile(), "guard " + i + ": a session per guard, one step at enter and one at leave");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}, robust={1}")
    @CsvSource({"FENCE, true", "FENCE, false", "ASYMMETRIC, true", "ASYMMETRIC, false"})
    void anEnterRefusedWhileClosingEndsTheSessionItBegan(String barrier, boolean robust) throws Exception {
        Reclaimer r = create(barrier, robust);
        HyalineParticipant slot;
        try (Guard g = r.enter()) {
            slot = (HyalineParticipant) ((ThreadGuard) g).registered();
        }
        r.enter().close(); // the thread's short path is decided by now
        long before = slot.sessionVolatile();

        AtomicInteger ran = new AtomicInteger();
        GuardHolder holder = GuardHolder.open(r);
        for (int i = 0; i < 8; i++) r.retire(new Object(), o -> ran.incrementAndGet());
        assertThrows(IllegalStateException.class, r::close, "close() with another thread's guard open");

        assertThrows(IllegalStateException.class, r::enter, "an enter after close() began");
        long after = slot.sessionVolatile();
        assertFalse(HyalineParticipant.active(after), "the refused enter left its slot active");
        assertEquals(before + 2, after, "the refused enter did not end the session it began");

        holder.close();
        r.close();
        assertTrue(r.isClosed());
        assertEquals(8, ran.get(), "an object retired around the refused enter was not reclaimed exactly once");
    }
}
