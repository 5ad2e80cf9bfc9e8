package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.crystalline.CrystallineIndices.OBJECTS;
import static reclaim.impl.crystalline.CrystallineIndices.core;
import static reclaim.impl.crystalline.CrystallineIndices.create;
import static reclaim.impl.crystalline.CrystallineIndices.expectedIndex;
import static reclaim.impl.crystalline.CrystallineIndices.policy;
import static reclaim.impl.crystalline.CrystallineIndices.retireAndFlush;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.core.GuardHolder;
import reclaim.impl.core.SessionLists;
import reclaim.impl.core.ThreadGuard;
import reclaim.impl.crystalline.CrystallineIndices.Protect;

/**
 * Under fences an outermost guard on the thread's own record activates, at its enter (before the core's fence), the
 * reservation indices that the thread's previous outermost guard used, so that its first {@code protect} there costs
 * no fence of its own. Under the asymmetric barrier activation stays at the first {@code protect}. An enter refused
 * because {@code close()} began ends what it activated, and {@code close()} takes the list of such an index although
 * its session looked active.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@SuppressWarnings("try")
class ActivationAtEnterTest {

    private static Reservations reservations(Guard g) {
        return ((CrystallineParticipant) ((ThreadGuard) g).registered()).reservations;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Protect.class)
    void underFencesTheNextGuardActivatesTheIndicesTheLastOneUsedAtItsEnter(Protect form) {
        try (Reclaimer r = create("FENCE")) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            int j = expectedIndex(form);
            Reservations rs;
            try (Guard g = r.enter()) {
                rs = reservations(g);
                assertFalse(active(rs, j), "index " + j + " is active before any protect of the first guard");
                protect(g, cell, form);
                assertTrue(active(rs, j), "protect did not activate index " + j);
            }
            try (Guard g = r.enter()) {
                assertTrue(active(rs, j), "the next guard did not activate index " + j + " at its enter");
                for (int i = 0; i < rs.count; i++) {
                    if (i != j) assertFalse(active(rs, i), "index " + i + ", unused, was activated");
                }
                assertEquals(cell.get(), protect(g, cell, form));
            }
            assertFalse(active(rs, j), "the leave did not end the session begun at enter");
            try (Guard g = r.enter()) { // activated at enter; this guard protects nothing
                assertTrue(active(rs, j), "a guard that protected through the index at enter did not pass it on");
            }
            try (Guard g = r.enter()) { // the previous guard did not protect through it: not passed on
                assertFalse(active(rs, j), "an index activated at enter but not protected through was passed on");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Protect.class)
    void underTheAsymmetricBarrierTheFirstProtectActivates(Protect form) {
        try (Reclaimer r = create("ASYMMETRIC")) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            int j = expectedIndex(form);
            Reservations rs = protectInAGuard(r, cell, form);
            try (Guard g = r.enter()) {
                assertFalse(active(rs, j), "index " + j + " was activated at enter");
                protect(g, cell, form);
                assertTrue(active(rs, j));
            }
        }
    }

    /** An index activated at enter reserves the era of the enter, not the older one it kept from its last session. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Protect.class)
    void anIndexActivatedAtEnterReservesTheEraOfTheEnter(Protect form) {
        try (Reclaimer r = create("FENCE")) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            int j = expectedIndex(form);
            Reservations rs = protectInAGuard(r, cell, form);
            long kept = rs.eraVolatile(j);
            retireAndFlush(r, new AtomicInteger()); // the era moves on
            long now = r.era();
            assertTrue(now > kept, "the era did not move");
            try (Guard g = r.enter()) {
                assertTrue(active(rs, j));
                assertEquals(now, rs.eraVolatile(j), "the index activated at enter kept its older era");
            }
        }
    }

    /**
     * A batch retired while the index is active at enter (no protect yet) waits for the guard: the index's session began
     * before any read of the guard, and its kept era covers what the guard may read.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Protect.class)
    void aBatchRetiredWhileTheIndexIsActiveAtEnterWaitsForTheGuard(Protect form) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = create("FENCE")) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            CountDownLatch open = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicReference<Object> seen = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().name("reader").start(() -> {
                try {
                    try (Guard g = r.enter()) {
                        protect(g, cell, form);
                    }
                    try (Guard g = r.enter()) { // the index is active from here on
                        open.countDown();
                        release.await();
                        seen.set(protect(g, cell, form)); // no store: the index already reserves the era
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(open.await(10, TimeUnit.SECONDS));
            retireAndFlush(r, ran); // born at era 0: every active index covers them
            assertEquals(0, ran.get(), "reclaimed while a guard whose index was active at enter is open");
            release.countDown();
            reader.join();
            r.flush();
            assertEquals(OBJECTS, ran.get(), "not reclaimed once the guard closed");
        }
    }

    /**
     * {@code close()}'s pass ({@code tidyClosed}) takes the list of an index whose session looks active: once no guard can
     * open, such a session is an enter's that the core is refusing, which never leaves. (Whether {@code close()} reaches
     * the pass while such an enter is in flight is a matter of a few instructions: here the pass is called directly, with
     * the state that enter leaves.)
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Protect.class)
    void closesPassTakesTheListOfAnIndexActivatedByAnEnterBeingRefused(Protect form) {
        Reclaimer r = create("FENCE");
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Object> cell = new AtomicReference<>(new Object());
        int j = expectedIndex(form);
        ThreadGuard tg;
        Reservations rs;
        Object list;
        try (Guard g = r.enter()) {
            tg = (ThreadGuard) g;
            rs = reservations(g);
            protect(g, cell, form);
            retireAndFlush(r, ran); // inserted into our active index
            assertEquals(0, ran.get());
            list = rs.takeList(j); // as if the insertion raced our leave: the leave finds the head null
            assertTrue(list instanceof Link, "the batches did not join our index");
        }
        assertTrue(rs.casHead(j, null, list)); // ... and the late CAS lands after the leave looked
        CrystallinePolicy pol = policy(core(r));

        pol.opening(tg, true); // an enter that activates the index and will be refused
        assertTrue(active(rs, j));
        pol.tidy(); // a collection's pass leaves an active index's list to its holder
        assertEquals(0, ran.get());
        pol.tidyClosed(); // close()'s pass does not
        assertEquals(OBJECTS, ran.get(), "close()'s pass left the list of an index whose enter is being refused");
        assertNull(rs.headVolatile(j));
        pol.openingRefused(tg);
        assertFalse(active(rs, j), "the refused enter left its index active");
        r.close();
        assertEquals(OBJECTS, ran.get(), "an object was reclaimed twice");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Protect.class)
    void anEnterRefusedWhileClosingEndsWhatItActivated(Protect form) throws Exception {
        Reclaimer r = create("FENCE");
        AtomicReference<Object> cell = new AtomicReference<>(new Object());
        int j = expectedIndex(form);
        Reservations rs = protectInAGuard(r, cell, form);
        GuardHolder holder = GuardHolder.open(r);
        assertThrows(IllegalStateException.class, r::close, "close() with another thread's guard open");
        long before = rs.sessionVolatile(j);
        assertThrows(IllegalStateException.class, r::enter, "an enter after close() began");
        assertEquals(before + 2, rs.sessionVolatile(j), "the refused enter did not end the session it began at index " + j);
        holder.close();
        r.close();
        assertTrue(r.isClosed());
    }

    /** One guard on this thread that protects {@code cell}; returns the thread's reservations. */
    private static Reservations protectInAGuard(Reclaimer r, AtomicReference<Object> cell, Protect form) {
        try (Guard g = r.enter()) {
            protect(g, cell, form);
            return reservations(g);
        }
    }

    private static boolean active(Reservations rs, int j) {
        return SessionLists.active(rs.sessionVolatile(j));
    }

    private static Object protect(Guard g, AtomicReference<Object> cell, Protect form) {
        return form == Protect.SLOT ? g.protect(cell, 0) : g.protect(cell);
    }
}
