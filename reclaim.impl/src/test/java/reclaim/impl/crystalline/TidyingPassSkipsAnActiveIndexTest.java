package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.crystalline.CrystallineIndices.OBJECTS;
import static reclaim.impl.crystalline.CrystallineIndices.allOfSession;
import static reclaim.impl.crystalline.CrystallineIndices.retireAndFlush;
import static reclaim.impl.crystalline.CrystallineIndices.activeIndex;
import static reclaim.impl.crystalline.CrystallineIndices.core;
import static reclaim.impl.crystalline.CrystallineIndices.create;
import static reclaim.impl.crystalline.CrystallineIndices.leaveWithoutSeeingTheList;
import static reclaim.impl.crystalline.CrystallineIndices.policy;

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
 * The tidying pass ({@code CrystallinePolicy.tidy()}, at the end of every collection and in {@code close()}) takes the
 * lists that indices no guard uses still hold; it must never drop a link of a session that is still active, since the
 * guard of that session may hold what the link's batch protects. Checked here with a reader inside its guard whose
 * index holds links of its own session: neither the flushes (each ending with a pass) nor passes run directly reclaim
 * anything, and the index's list is still there, until the reader's guard closes; a flush then reclaims everything,
 * exactly once. Also with links of an ended session of the same index beneath them (an insertion that raced the
 * reader's previous leave): the links of the open session stay whatever happens to the older ones.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TidyingPassSkipsAnActiveIndexTest {

    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"FENCE, SLOT", "FENCE, GUARD_WIDE", "ASYMMETRIC, SLOT", "ASYMMETRIC, GUARD_WIDE"})
    void theTidyingPassDropsNoLinkOfAnOpenGuardsSession(String barrier, Protect form) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = create(barrier)) {
            CrystallinePolicy policy = policy(core(r));
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell, form)) {
                reader.enter();
                Index index = activeIndex(core(r));
                long session = index.session();
                retireAndFlush(r, ran);
                // That flush ended with a tidying pass already.
                assertEquals(0, ran.get(), "reclaimed while the reader's guard, which the batches joined, is open");
                Object list = index.head();
                assertTrue(list instanceof Link && allOfSession(list, session),
                        "the retired batches are not in the open guard's index");
                for (int i = 0; i < 3; i++) {
                    r.flush();
                    policy.tidy();
                }
                assertEquals(0, ran.get(), "the tidying pass dropped a link of a session that is still open");
                assertSame(list, index.head(), "the tidying pass took the list of an index whose session is open");
                assertEquals(session, index.session());
                reader.leave();
                r.flush(); // no guard open anywhere
                assertEquals(OBJECTS, ran.get(), "not reclaimed after the guard closed");
                assertNull(index.head());
            }
        }
        assertEquals(OBJECTS, ran.get(), "an object was reclaimed twice");
    }

    /**
     * Links of an ended session (the reader's first guard, whose leave missed them) lie beneath links of the
     * reader's second guard on the same index: a pass may drop the older ones (their session ended) but not the
     * newer ones while the second guard is open. The reader's second guard is on the same record and index: a
     * platform thread keeps its record (aborted where it did not).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FENCE", "ASYMMETRIC"})
    void theTidyingPassDropsNoLinkOfAnOpenSessionAboveLinksOfAnEndedOne(String barrier) throws Exception {
        AtomicInteger older = new AtomicInteger();
        AtomicInteger newer = new AtomicInteger();
        try (Reclaimer r = create(barrier)) {
            CrystallinePolicy policy = policy(core(r));
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell, Protect.SLOT)) {
                reader.enter();
                Index index = activeIndex(core(r));
                long first = index.session();
                retireAndFlush(r, older);
                assertEquals(0, older.get(), "reclaimed while the reader's guard, which the batches joined, is open");
                leaveWithoutSeeingTheList(reader, index);
                // The reader enters again on the same index before any pass: its list is still there.
                reader.enter();
                Index again = activeIndex(core(r));
                Assumptions.assumeTrue(again.record() == index.record() && again.j() == index.j(),
                        "the reader's second guard did not use the same record and index");
                assertEquals(first + 2, index.session(), "the reader's second guard is not the index's next session");
                retireAndFlush(r, newer);
                assertEquals(0, newer.get(), "reclaimed while the reader's second guard, which the batches joined, is open");
                assertTrue(index.head() instanceof Link link && link.session() == first + 2,
                        "the batches retired in the second guard did not join its session");
                for (int i = 0; i < 3; i++) {
                    r.flush();
                    policy.tidy();
                }
                assertEquals(0, newer.get(), "the tidying pass dropped a link of a session that is still open");
                reader.leave();
                r.flush(); // no guard open anywhere
                assertEquals(OBJECTS, older.get(), "the links of the ended session were lost");
                assertEquals(OBJECTS, newer.get(), "not reclaimed after the guard closed");
                assertNull(index.head());
            }
        }
        assertEquals(OBJECTS, older.get(), "an object was reclaimed twice");
        assertEquals(OBJECTS, newer.get(), "an object was reclaimed twice");
    }
}
