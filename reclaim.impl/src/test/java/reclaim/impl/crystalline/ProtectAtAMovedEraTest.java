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
import static reclaim.impl.crystalline.CrystallineIndices.expectedIndex;
import static reclaim.impl.crystalline.CrystallineIndices.length;
import static reclaim.impl.crystalline.CrystallineIndices.policy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Reclaimer;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.crystalline.CrystallineIndices.Index;
import reclaim.impl.crystalline.CrystallineIndices.Protect;
import reclaim.impl.crystalline.CrystallineIndices.Reader;

/**
 * A guard that protects again after the global era moved, inside one session of its index.
 *
 * <p>In a slot ({@code protect(ref, 0)}), {@code Guard.protect}'s contract is that protecting a new value "releases
 * what that slot held before"; Crystalline-L does it in {@code doUpdate}, which takes the active index's list (the
 * batches inserted while it reserved the old era) and drops their references before it publishes the new era. Checked
 * here: nothing is reclaimed while the slot still protects at the old era; after the re-protect the index's list is
 * empty and a {@code flush()} reclaims the released batches although the guard is still open; batches retired after
 * the re-protect join the index at its new era and stay unreclaimed until the guard closes; a flush then reclaims
 * them; each object exactly once.
 *
 * <p>The guard-wide index ({@code protect(ref)}) protects until the guard closes: its era only grows and its list is
 * kept, so nothing is reclaimed before the guard closes, however the era moves.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProtectAtAMovedEraTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FENCE", "ASYMMETRIC"})
    void reprotectingASlotAtANewEraReleasesTheOldListAndKeepsWhatJoinsAfter(String barrier) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = create(barrier)) {
            CrystallinePolicy policy = policy(core(r));
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell, Protect.SLOT)) {
                reader.enter();
                Index index = activeIndex(core(r));
                assertEquals(expectedIndex(Protect.SLOT), index.j());
                long session = index.session();
                long oldEra = index.rs().eraVolatile(index.j());
                retireAndFlush(r, ran);
                assertTrue(policy.eraVolatile() > oldEra, "the global era did not move");
                assertTrue(length(index.head()) > 0 && allOfSession(index.head(), session),
                        "the retired batches did not join the open guard's index");
                r.flush();
                assertEquals(0, ran.get(), "reclaimed while the slot still protects at the era the batches joined");
                // The same guard protects again in the same slot: the era moved, so the slot gives up its list.
                reader.protectAgain();
                assertEquals(session, index.session(), "the re-protect ended the index's session");
                assertTrue(index.rs().eraVolatile(index.j()) > oldEra, "the slot did not reserve the new era");
                assertNull(index.head(), "the re-protect at a new era did not take the index's list");
                r.flush();
                assertEquals(OBJECTS, ran.get(), "what the slot held at its old era was not released by the re-protect");
                // Batches retired now join the index at its new era, and stay while the guard is open.
                retireAndFlush(r, ran);
                assertTrue(length(index.head()) > 0 && allOfSession(index.head(), session),
                        "the batches retired after the re-protect did not join the open guard's index");
                r.flush();
                assertEquals(OBJECTS, ran.get(), "reclaimed while the slot protects at the era the batches joined");
                reader.leave();
                r.flush(); // no guard open anywhere
                assertEquals(2 * OBJECTS, ran.get(), "not reclaimed after the guard closed");
            }
        }
        assertEquals(2 * OBJECTS, ran.get(), "an object was reclaimed twice");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FENCE", "ASYMMETRIC"})
    void reprotectingTheGuardWideIndexAtANewEraKeepsItsList(String barrier) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = create(barrier)) {
            CrystallinePolicy policy = policy(core(r));
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell, Protect.GUARD_WIDE)) {
                reader.enter();
                Index index = activeIndex(core(r));
                assertEquals(expectedIndex(Protect.GUARD_WIDE), index.j());
                long oldEra = index.rs().eraVolatile(index.j());
                retireAndFlush(r, ran);
                assertTrue(policy.eraVolatile() > oldEra, "the global era did not move");
                Object list = index.head();
                assertTrue(list instanceof Link, "the retired batches did not join the open guard's index");
                reader.protectAgain();
                assertTrue(index.rs().eraVolatile(index.j()) > oldEra, "the guard-wide index did not reserve the new era");
                assertSame(list, index.head(), "the guard-wide index gave up its list inside the guard");
                retireAndFlush(r, ran);
                r.flush();
                assertEquals(0, ran.get(), "reclaimed while the guard that protected it with protect(ref) is open");
                reader.leave();
                r.flush(); // no guard open anywhere
                assertEquals(2 * OBJECTS, ran.get(), "not reclaimed after the guard closed");
            }
        }
        assertEquals(2 * OBJECTS, ran.get(), "an object was reclaimed twice");
    }
}
