package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.hyaline.HyalineSlots.activeSlot;
import static reclaim.impl.hyaline.HyalineSlots.core;
import static reclaim.impl.hyaline.HyalineSlots.create;
import static reclaim.impl.hyaline.HyalineSlots.leaveWithoutSeeingTheList;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import reclaim.api.Reclaimer;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.hyaline.HyalineSlots.Reader;

/**
 * Hyaline's leave is a store of the slot's session word and a load of its list head, not a swap: an insertion that
 * races the leave lands in the list after the leave looked. These tests put a slot in exactly that state (the list of
 * a guard's session, in the slot after its guard left) and check that it is neither lost nor dropped early: the next
 * collection ({@code flush()}) or {@code close()} reclaims it, and a link of a session that began after the tidying
 * pass read the slot goes back into the list until that session ends.
 *
 * <p>The race itself is a window of a few instructions; the state it leaves is made here by taking the list away
 * while the guard is open and putting it back after the guard left, through the slot's own words.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LateInsertionIntoALeftSlotTest {
    private static final int OBJECTS = 8;

    /** Retires {@link #OBJECTS} objects from this thread and flushes, so that they are inserted into the open guard's slot. */
    private static void retireIntoTheOpenGuard(Reclaimer r, AtomicInteger ran) {
        Consumer<Object> count = o -> ran.incrementAndGet();
        for (int i = 0; i < OBJECTS; i++) r.retire(new Object(), count);
        r.flush();
        assertEquals(0, ran.get(), "reclaimed while the reader's guard, which the batches joined, is open");
    }

    @ParameterizedTest(name = "{0}, robust={1}")
    @CsvSource({"FENCE, true", "FENCE, false", "ASYMMETRIC, true", "ASYMMETRIC, false"})
    void aBatchInsertedAsItsGuardLeftIsReclaimedByTheNextFlush(String barrier, boolean robust) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = create(barrier, robust)) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell)) {
                assertTrue(reader.inGuard.await(10, TimeUnit.SECONDS));
                HyalineParticipant slot = activeSlot(core(r));
                retireIntoTheOpenGuard(r, ran);
                leaveWithoutSeeingTheList(reader, slot);
                assertEquals(0, ran.get());
                r.flush(); // no guard open anywhere: everything retired before is reclaimed when it returns
                assertEquals(OBJECTS, ran.get(), "a batch left in a slot after its guard left was not reclaimed by flush()");
                assertNull(slot.headVolatile(), "the list is still in the slot");
            }
        }
        assertEquals(OBJECTS, ran.get(), "an object was reclaimed twice");
    }

    @ParameterizedTest(name = "{0}, robust={1}")
    @CsvSource({"FENCE, true", "FENCE, false", "ASYMMETRIC, true", "ASYMMETRIC, false"})
    void aBatchInsertedAsItsGuardLeftIsReclaimedByClose(String barrier, boolean robust) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Reclaimer r = create(barrier, robust);
        AtomicReference<Object> cell = new AtomicReference<>(new Object());
        try (Reader reader = new Reader(r, cell)) {
            assertTrue(reader.inGuard.await(10, TimeUnit.SECONDS));
            HyalineParticipant slot = activeSlot(core(r));
            retireIntoTheOpenGuard(r, ran);
            leaveWithoutSeeingTheList(reader, slot);
            r.close(); // the reader thread is alive and outside its guards
            assertEquals(OBJECTS, ran.get(), "a batch left in a slot after its guard left was lost by close()");
        }
    }

    /**
     * The tidying pass reads the slot's session word, then takes the list: a link stamped with a session at or after the
     * value it read belongs to a guard that may be open, and goes back into the list rather than being dropped; the
     * guard's own leave then drops it. Under the asymmetric strategy, where a thread keeps its slot, so that its next
     * guard is the next session of the same slot.
     */
    @org.junit.jupiter.api.Test
    void aLinkOfASessionTheTidyingPassDidNotSeeGoesBackIntoTheList() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = create("ASYMMETRIC", true)) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell)) {
                assertTrue(reader.inGuard.await(10, TimeUnit.SECONDS));
                HyalineParticipant slot = activeSlot(core(r));
                long first = slot.sessionVolatile();
                retireIntoTheOpenGuard(r, ran);
                Object list = slot.takeList();
                assertTrue(list instanceof Link, "the retired batch did not join the open guard's slot");
                reader.leave.countDown();
                assertTrue(reader.left.await(10, TimeUnit.SECONDS));
                // As if the pass had read the word before the reader's leave (first + 1) and its enter again, and a
                // retirer had inserted for that next session: stamp the links with the session the pass cannot know.
                for (Object l = list; l instanceof Link link; l = link.next()) link.stamp(first + 2);
                assertTrue(slot.casHead(null, list));
                r.flush();
                assertEquals(0, ran.get(), "a link of a session the pass did not see ended was dropped");
                assertTrue(slot.headVolatile() instanceof Link, "the link was not put back into the list");
                // That session now happens and ends: its leave takes the list and drops the references.
                reader.enterAgain();
                assertTrue(reader.inSecondGuard.await(10, TimeUnit.SECONDS));
                assertEquals(first + 2, slot.sessionVolatile());
                reader.leaveAgain.countDown();
                assertTrue(reader.leftAgain.await(10, TimeUnit.SECONDS));
                r.flush();
                assertEquals(OBJECTS, ran.get(), "the put-back link was lost");
            }
        }
        assertEquals(OBJECTS, ran.get(), "an object was reclaimed twice");
    }
}
