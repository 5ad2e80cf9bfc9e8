package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.crystalline.CrystallineIndices.OBJECTS;
import static reclaim.impl.crystalline.CrystallineIndices.retireAndFlush;
import static reclaim.impl.crystalline.CrystallineIndices.activeIndex;
import static reclaim.impl.crystalline.CrystallineIndices.core;
import static reclaim.impl.crystalline.CrystallineIndices.create;
import static reclaim.impl.crystalline.CrystallineIndices.expectedIndex;
import static reclaim.impl.crystalline.CrystallineIndices.leaveWithoutSeeingTheList;
import static reclaim.impl.crystalline.CrystallineIndices.length;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Reclaimer;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.crystalline.CrystallineIndices.Index;
import reclaim.impl.crystalline.CrystallineIndices.Protect;
import reclaim.impl.crystalline.CrystallineIndices.Reader;

/**
 * Crystalline-L's leave ({@code CrystallineGuard.detach}) is a store of each used index's session word, a reset of its
 * era and a load of its list head, not a swap: an insertion that races the leave lands in the index's list after the
 * leave looked. These tests put an index in exactly that state (the list of a guard's session, in the index after its
 * guard left) and check that it is neither lost nor dropped early, for a slot of the outermost level
 * ({@code protect(ref, 0)}) and for the guard-wide index ({@code protect(ref)}):
 * <ul>
 *   <li>the next collection ({@code flush()}, whose tidying pass takes lists from indices no guard uses) reclaims it,
 *       and the index's list is empty after;</li>
 *   <li>{@code close()} of the reclaimer reclaims it;</li>
 *   <li>a link stamped with a session the tidying pass could not have seen end (one after the session value it reads)
 *       stays in the list through a flush, and is reclaimed once that session happens, ends and a flush runs;</li>
 *   <li>each object is reclaimed exactly once.</li>
 * </ul>
 *
 * <p>The race itself is a window of a few instructions; the state it leaves is made here by taking the list away
 * while the guard is open and putting it back after the guard left, through the index's own words.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LateInsertionIntoALeftIndexTest {
    /** {@link CrystallineIndices#retireAndFlush}, checking that nothing was reclaimed: the batches joined the open guard. */
    static void retireIntoTheOpenGuard(Reclaimer r, AtomicInteger ran) {
        retireAndFlush(r, ran);
        assertEquals(0, ran.get(), "reclaimed while the reader's guard, which the batches joined, is open");
    }

    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"FENCE, SLOT", "FENCE, GUARD_WIDE", "ASYMMETRIC, SLOT", "ASYMMETRIC, GUARD_WIDE"})
    void aBatchInsertedAsItsGuardLeftIsReclaimedByTheNextFlush(String barrier, Protect form) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = create(barrier)) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell, form)) {
                reader.enter();
                Index index = activeIndex(core(r));
                assertEquals(expectedIndex(form), index.j(), "the guard did not use the index expected");
                retireIntoTheOpenGuard(r, ran);
                leaveWithoutSeeingTheList(reader, index);
                assertEquals(0, ran.get());
                r.flush(); // no guard open anywhere: everything retired before is reclaimed when it returns
                assertEquals(OBJECTS, ran.get(), "a batch left in an index after its guard left was not reclaimed by flush()");
                assertNull(index.head(), "the list is still in the index");
            }
        }
        assertEquals(OBJECTS, ran.get(), "an object was reclaimed twice");
    }

    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"FENCE, SLOT", "FENCE, GUARD_WIDE", "ASYMMETRIC, SLOT", "ASYMMETRIC, GUARD_WIDE"})
    void aBatchInsertedAsItsGuardLeftIsReclaimedByClose(String barrier, Protect form) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Reclaimer r = create(barrier);
        AtomicReference<Object> cell = new AtomicReference<>(new Object());
        try (Reader reader = new Reader(r, cell, form)) {
            reader.enter();
            Index index = activeIndex(core(r));
            retireIntoTheOpenGuard(r, ran);
            leaveWithoutSeeingTheList(reader, index);
            assertEquals(0, ran.get());
            r.close(); // the reader thread is alive and outside its guards
            assertEquals(OBJECTS, ran.get(), "a batch left in an index after its guard left was lost by close()");
        }
        assertEquals(OBJECTS, ran.get(), "an object was reclaimed twice");
    }

    /**
     * The tidying pass reads the index's head, then its session word: a link stamped with a session at or after the
     * value it read belongs to a guard that may be open (or not yet ended when the pass looked), and stays in the list
     * rather than being dropped; that session's own leave then drops it. The reader's next guard is that next session of
     * the same index: a platform thread keeps its record (aborted where it did not). The guard-wide index, which keeps
     * its list until its guard closes: a slot's first protect at a moved era would release the list at once, as a slot
     * protected again does ({@code ProtectAtAMovedEraTest}).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FENCE", "ASYMMETRIC"})
    void aLinkOfASessionTheTidyingPassDidNotSeeEndStaysUntilThatSessionLeaves(String barrier) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = create(barrier)) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell, Protect.GUARD_WIDE)) {
                reader.enter();
                Index index = activeIndex(core(r));
                long first = index.session();
                retireIntoTheOpenGuard(r, ran);
                Object list = index.rs().takeList(index.j());
                assertTrue(list instanceof Link, "the retired batches did not join the open guard's index");
                int links = length(list);
                reader.leave();
                assertEquals(first + 1, index.session(), "the leave did not end the index's session");
                // As if a pass had read the word before the reader's leave and its next guard, and a retirer had
                // inserted for that next session: stamp the links with the session the pass cannot know ended.
                for (Object l = list; l instanceof Link link; l = link.next()) link.stamp(first + 2);
                assertTrue(index.rs().casHead(index.j(), null, list));
                r.flush();
                assertEquals(0, ran.get(), "a link of a session the tidying pass did not see end was dropped");
                assertSame(list, index.head(), "the links of a later session did not stay in the index's list");
                assertEquals(links, length(index.head()), "a link of a later session left the index's list");
                // That session now happens on the same index and ends: its leave takes the list and drops the links.
                reader.enter();
                Index again = activeIndex(core(r));
                Assumptions.assumeTrue(again.record() == index.record() && again.j() == index.j(),
                        "the reader's second guard did not use the same record and index");
                assertEquals(first + 2, again.session(), "the reader's second guard is not the index's next session");
                assertEquals(0, ran.get(), "reclaimed while the session the links are stamped with is open");
                reader.leave();
                r.flush();
                assertEquals(OBJECTS, ran.get(), "the links kept in the list were lost");
                assertNull(index.head());
            }
        }
        assertEquals(OBJECTS, ran.get(), "an object was reclaimed twice");
    }
}
