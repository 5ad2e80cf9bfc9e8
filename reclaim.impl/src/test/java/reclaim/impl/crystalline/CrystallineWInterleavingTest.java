package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.crystalline.WaitFreeReservations.Request;

/**
 * Crystalline-W under interleavings replayed deterministically on one thread and short helper threads: a
 * late helper's era raise is not taken for a reservation made before the key was read (per-level and
 * guard-wide indices), reserve still succeeds when the era holds still, and a reference and a key in
 * distinct slots stay protected together.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CrystallineWInterleavingTest {

    /** A Born node with a key, flagged when reclaimed. */
    static final class Node implements Born {
        final long birth;
        final long key;
        volatile boolean reclaimed;

        Node(long birth, long key) {
            this.birth = birth;
            this.key = key;
        }

        @Override
        public long birthEra() {
            return birth;
        }
    }

    private static Reclaimer create(int batchSize, int fastAttempts) {
        return CrystallineWPolicy.create(new Scheme.Crystalline(batchSize, 4, true), fastAttempts);
    }

    private static void onOtherThread(Runnable body) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
    }

    /**
     * A late helper (it read the request while pending, then was preempted; helpAll's {@code q.pending()}
     * then {@code attempt}) raises the era word of the owner's index after the owner has finished that slow
     * path and reads a key. The raise is "conservative" for protect, which reads its era word before the
     * source, but reserve compares the era word after the caller's read of the key: it takes the helper's
     * raise, made after the key was read and after the key's object was reclaimed, for its own reservation.
     */
    @Test
    void aLateHelpersRaiseIsNotTakenForAReservationMadeBeforeTheKeyRead() throws Exception {
        try (Reclaimer r = create(1, 16)) { // batches of one: every retire seals and advances the era
            AtomicReference<Object> src = new AtomicReference<>("x");
            try (Guard g = r.enter()) {
                CrystallineWGuard wg = (CrystallineWGuard) g;
                WaitFreeReservations rs = ((CrystallineWParticipant) wg.record()).reservations;
                // 1. A slow path on slot 0; a helper reads the request (pending) and is preempted.
                Request q = wg.stallInSlowPath(src, 0);
                assertTrue(q.pending());
                // 2. The owner completes it itself: slot 0 reserves E1.
                wg.resumeSlowPath(q, 0);
                long e1 = wg.reservedEra(0);
                // 3. The era moves on (an unrelated retire); a node K is born at E2 > E1 and published.
                onOtherThread(() -> r.retire(new Object(), o -> {}));
                Node k = new Node(r.era(), 0x1000);
                assertTrue(k.birth > e1);
                AtomicLong cell = new AtomicLong(k.key);
                // 4. The owner reads K's key (volatile), as the reserve protocol prescribes.
                long key = cell.get();
                // 5. A writer unlinks K and retires it: slot 0 reserves E1 < K's birth, so K joins no list and
                //    is reclaimed at once (correct: the owner has not reserved anything covering K yet).
                onOtherThread(() -> {
                    cell.set(0);
                    r.retire(k, n -> n.reclaimed = true);
                    r.flush(); // under the asymmetric barrier a retire alone waits for more before it collects
                });
                assertTrue(k.reclaimed, "setup: K should be reclaimed (slot 0 reserves " + e1 + ", K born " + k.birth + ")");
                // 6. The late helper resumes: its attempt reads the current era and raises slot 0 to it (the
                //    request is complete, so its CAS of the result fails, but the raise has landed).
                CrystallineWPolicy.attempt(CrystallineWPolicy.of(r), rs, 0, q, true);
                // 7. The owner reserves the key it read in step 4: true would mean "K is protected, use it".
                boolean ok = wg.reserve(key, 0);
                assertFalse(ok && k.reclaimed, "reserve(key) returned true for a key whose object was already"
                        + " reclaimed (the era word was raised by a late helper after the key read)");
            }
        }
    }

    /** The same late raise, on the guard-wide index that reserve uses beyond the nesting levels. */
    @Test
    void aLateHelpersRaiseOnTheWideIndexIsNotTakenForAReservation() throws Exception {
        try (Reclaimer r = create(1, 0)) { // no fast path: protect(ref) publishes a request at once
            AtomicReference<Object> src = new AtomicReference<>("x");
            for (int d = 0; d < CrystallineGuard.LEVELS; d++) r.enter(); // closed below
            try (Guard g = r.enter()) {
                CrystallineWGuard wg = (CrystallineWGuard) g;
                WaitFreeReservations rs = ((CrystallineWParticipant) wg.record()).reservations;
                int wide = CrystallineGuard.LEVELS * 4;
                g.protect(src); // the wide index is active at E1 (slow path, completed by the owner)
                long e1 = rs.eraVolatile(wide);
                onOtherThread(() -> r.retire(new Object(), o -> {}));
                Node k = new Node(r.era(), 0x2000);
                AtomicLong cell = new AtomicLong(k.key);
                long key = cell.get();
                onOtherThread(() -> {
                    cell.set(0);
                    r.retire(k, n -> n.reclaimed = true);
                    r.flush(); // under the asymmetric barrier a retire alone waits for more before it collects
                });
                assertTrue(k.reclaimed, "setup: K should be reclaimed (wide reserves " + e1 + ", K born " + k.birth + ")");
                // A helper that read the (then pending) request of that protect raises the wide index now.
                assertTrue(rs.raiseEra(wide, r.era()));
                boolean ok = wg.reserve(key, 0); // depth 4: the guard-wide index
                assertFalse(ok && k.reclaimed, "reserve(key) at depth 4 returned true for a reclaimed key");
            } finally {
                Guard outer = r.enter();
                for (int d = 0; d <= CrystallineGuard.LEVELS; d++) outer.close(); // this extra one, then the 3 levels
            }
        }
    }

    /** A plain reserve loop, with the own-era check, still ends and protects (no regression of the fast case). */
    @Test
    void reserveStillSucceedsOnTheSecondCallWhenTheEraHoldsStill() {
        try (Reclaimer r = create(64, 16)) {
            try (Guard g = r.enter()) {
                assertFalse(g.reserve(0x10, 0), "the first reserve publishes the era");
                assertTrue(g.reserve(0x10, 0));
                assertTrue(g.reserve(0x10, 0));
                AtomicReference<String> ref = new AtomicReference<>("y");
                assertEquals("y", g.protect(ref, 1));
                assertTrue(g.reserve(0x10, 0));
            }
            try (Guard g = r.enter()) { // a new guard starts inactive: no stale "reserved" era
                assertFalse(g.reserve(0x10, 0));
                assertTrue(g.reserve(0x10, 0));
            }
        }
    }

    /**
     * Slots are shared between keys and references (Guard.reserve's contract): what must stay protected
     * together goes in distinct slots, and then both stay protected, under L and W.
     */
    @Test
    void aReferenceAndAKeyInDistinctSlotsStayProtectedTogether() throws Exception {
        for (boolean waitFree : new boolean[] {true, false}) {
            try (reclaim.api.Reclaimer r = reclaim.api.Reclaimer.create(new Scheme.Crystalline(1, 4, waitFree))) {
                Node x = new Node(r.era(), 0);
                AtomicReference<Node> ref = new AtomicReference<>(x);
                Node k = new Node(r.era(), 0x4000);
                AtomicLong cell = new AtomicLong(k.key);
                try (Guard g = r.enter()) {
                    assertEquals(x, g.protect(ref, 0));
                    long key = cell.get();
                    while (!g.reserve(key, 1)) key = cell.get();
                    assertEquals(k.key, key);
                    onOtherThread(() -> {
                        r.retire(ref.getAndSet(new Node(r.era(), 0)), n -> n.reclaimed = true);
                        cell.set(0);
                        r.retire(k, n -> n.reclaimed = true);
                        r.flush();
                    });
                    g.protect(new AtomicReference<>(new Node(r.era(), 0)), 2); // a third slot moves nothing above
                    assertFalse(x.reclaimed, (waitFree ? "W" : "L") + ": the reference in slot 0 was reclaimed");
                    assertFalse(k.reclaimed, (waitFree ? "W" : "L") + ": the key in slot 1 was reclaimed");
                }
                r.flush();
                assertTrue(x.reclaimed && k.reclaimed, "both reclaimed once the guard closed");
            }
        }
    }
}
