package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static reclaim.impl.core.DeferredSweepCloseTest.await;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The use word of an owned guard, with the call in progress held still: a policy whose sealing blocks (bags of one
 * object, so every retire seals) keeps a retire through the owned guard inside its call for as long as the test
 * wants. The conformance suite races two callers until one is refused; here every case is deterministic: the second
 * caller is refused on every method, the message names the thread in the call, the call in progress completes, and
 * a reclaim action that the call runs cannot use the guard either. Also: the participant the owned guard holds has no
 * holder, and the lease does not take the calling thread's own participant.
 */
class OwnedGuardUseTest {

    /** Reclaims every sealed bag at once (nothing in these tests is protected); sealing blocks while armed. */
    static final class BlockingSealPolicy extends Policy {
        volatile CountDownLatch inSeal;
        volatile CountDownLatch maySeal;

        @Override
        protected Capabilities capabilities() {
            return new Capabilities(false, false, Integer.MAX_VALUE, 1, Long.MAX_VALUE);
        }

        @Override
        protected void sealing(Batch bag) {
            CountDownLatch in = inSeal;
            if (in == null) return;
            inSeal = null;
            in.countDown();
            await(maySeal);
        }

        @Override
        protected void collect(int limit) {
            for (Batch b = core.sealed.takeAll(); b != null; ) {
                Batch next = b.next();
                b.link(null);
                core.reclamation().run(b);
                b = next;
            }
        }

        @Override
        protected long era() {
            return 1;
        }
    }

    private static Reclaimer create(Policy policy) {
        return ReclaimerHandle.create(new Scheme.Ebr(), policy, Options.DEFAULT);
    }

    @Test
    void everyCallThatBeginsWhileAnotherThreadsCallIsInProgressIsRefusedAndNamesThatThread() throws Exception {
        BlockingSealPolicy policy = new BlockingSealPolicy();
        Reclaimer r = create(policy);
        AtomicReference<String> ref = new AtomicReference<>("v");
        OwnedGuard g = r.enterOwned();
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        policy.maySeal = new CountDownLatch(1);
        policy.inSeal = new CountDownLatch(1);
        CountDownLatch inSeal = policy.inSeal;
        Thread caller = new Thread(() -> {
            try {
                g.retire("x", x -> ran.incrementAndGet()); // seals (a bag of one): blocks inside the call
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "caller-in-a-retire");
        caller.start();
        try {
            await(inSeal);
            assertRefused(() -> g.protect(ref), "protect");
            assertRefused(() -> g.protect(ref, 0), "protect(slot)");
            assertRefused(() -> g.reserve(1, 0), "reserve");
            assertRefused(() -> g.retire("y", y -> fail("a refused retire was accepted")), "retire");
            assertRefused(g::close, "close");
            assertSame(r, g.reclaimer(), "reclaimer() takes no call and answers");
        } finally {
            policy.maySeal.countDown();
            caller.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertFalse(caller.isAlive(), "the call in progress did not complete");
        if (failure.get() != null) throw new AssertionError("the call in progress failed", failure.get());
        assertEquals(1, ran.get(), "the retire in progress was reclaimed once (the policy reclaims at once)");
        assertEquals("v", g.protect(ref), "the guard is usable once the call in progress returned");
        g.close();
        r.close();
        assertEquals(1, r.stats().retired(), "a refused retire was counted");
    }

    private static void assertRefused(Runnable call, String what) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call::run, what + " during another call");
        assertTrue(e.getMessage().contains("in use by thread 'caller-in-a-retire'"), what + ": " + e.getMessage());
    }

    @Test
    void aReclaimActionRunByACallCannotUseTheGuardOfThatCall() {
        BlockingSealPolicy policy = new BlockingSealPolicy();
        Reclaimer r = create(policy);
        AtomicReference<String> ref = new AtomicReference<>("v");
        OwnedGuard g = r.enterOwned();
        AtomicReference<Throwable> fromAction = new AtomicReference<>();
        g.retire("x", x -> { // collected by the retire itself: the action runs inside g's call
            try {
                g.protect(ref);
            } catch (Throwable e) {
                fromAction.set(e);
            }
        });
        assertTrue(fromAction.get() instanceof IllegalStateException, "the action's call: " + fromAction.get());
        assertTrue(fromAction.get().getMessage().contains("reclaim action"), fromAction.get().getMessage());
        assertEquals("v", g.protect(ref), "the guard stopped working");
        g.close();
        r.close();
    }

    @Test
    void anOwnedGuardLeasesAParticipantOfItsOwnWithNoHolder() {
        Reclaimer r = create(new BlockingSealPolicy());
        Core core = ReclaimerHandle.coreOf(r);
        try (Guard t = r.enter()) { // the thread holds a participant of its own for its guard
            OwnedGuard g = r.enterOwned();
            Participant own = ((ThreadGuard) t).record();
            Participant leased = null;
            for (Participant p : core.participants()) {
                if (p != own && p.stateVolatile() > 0) leased = p;
            }
            assertTrue(leased != null, "the owned guard announces on no participant of its own");
            assertNull(leased.holderOpaque(), "the owned guard's participant has a holder thread (a sweep could free it)");
            assertSame(Thread.currentThread(), own.holderOpaque().get());
            g.close();
            assertEquals(Participant.FREE, leased.stateVolatile(), "the owned guard's close did not release its participant");
        }
        r.close();
    }
}
