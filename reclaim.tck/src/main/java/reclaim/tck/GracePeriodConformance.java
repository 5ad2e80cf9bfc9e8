package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.awaitCondition;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;
import static reclaim.tck.Fixtures.startVirtual;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.tck.Fixtures.Node;

/**
 * Grace periods, {@code Reclaimer.synchronize()}: it returns once every guard open at the call has closed (whether
 * the guard protected anything or not), not before, and not waiting for guards opened later; what those guards did
 * happens-before its return. It is refused inside a guard, returns at once on a closed reclaimer, and under QSBR an
 * online registered thread holds it until it passes a quiescent state or goes offline.
 *
 * <p>"Not before" is checked with short timed waits that must time out while a guard is held open by a latch: they
 * stand for nothing but themselves, no test waits on a clock for another thread to make progress.
 */
interface GracePeriodConformance extends SchemeUnderTest {

    /** How long a timed grace period waits when it must time out (a guard is held open meanwhile). */
    Duration SHORT = Duration.ofMillis(20);
    /** How long a timed grace period may wait when it must not time out. */
    Duration LONG = Duration.ofSeconds(60);

    /** With no guard open, both forms return, the timed one true, also with a zero timeout. */
    @Test
    default void synchronizeReturnsWithNoGuardOpen() {
        reclaimer().synchronize();
        assertTrue(reclaimer().synchronize(LONG));
        assertTrue(reclaimer().synchronize(Duration.ZERO), "a look with no guard open");
        assertTrue(reclaimer().synchronize(Duration.ofSeconds(-1)), "a negative timeout looks once");
        try (Guard g = reclaimer().enter()) {
            g.protect(new AtomicReference<>(new Node(1)));
        }
        assertTrue(reclaimer().synchronize(LONG), "after the caller's own guard closed");
    }

    /**
     * A guard opened on a platform thread before the call, protecting nothing, holds the grace period until it
     * closes; its writes are visible after the return.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void synchronizeWaitsForAGuardOpenedBeforeIt() throws Exception {
        waitsForAGuardOpenedBeforeIt(false);
    }

    /**
     * As {@link #synchronizeWaitsForAGuardOpenedBeforeIt()}, for a guard of a virtual thread.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void synchronizeWaitsForAVirtualThreadsGuard() throws Exception {
        waitsForAGuardOpenedBeforeIt(true);
    }

    /**
     * Threads that open and close guards back to back, and one that stays in its guard and refreshes it, do not keep
     * a grace period waiting: it waits for the guards of its start only.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void synchronizeReturnsWhileOtherThreadsKeepOpeningGuards() throws Exception {
        AtomicReference<Node> head = new AtomicReference<>(new Node(1));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong churned = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            ts.add(start("churner-" + t, () -> {
                while (!stop.get()) {
                    try (Guard g = reclaimer().enter()) {
                        for (int i = 0; i < 64; i++) g.protect(head, i & 1);
                    }
                    churned.incrementAndGet();
                }
            }, errors));
        }
        ts.add(startVirtual("virtual-churner", () -> {
            while (!stop.get()) {
                try (Guard g = reclaimer().enter()) {
                    g.protect(head);
                }
                Thread.yield();
            }
        }, errors));
        ts.add(start("refresher", () -> {
            try (Guard g = reclaimer().enter()) {
                while (!stop.get()) {
                    g.protect(head);
                    assertTrue(g.refresh());
                }
            }
        }, errors));
        try {
            awaitCondition("the churners to start", () -> churned.get() > 100, errors);
            for (int i = 0; i < 20; i++) {
                assertTrue(reclaimer().synchronize(LONG), "grace period " + i + " did not end within " + LONG
                        + " while other threads kept opening guards");
            }
        } finally {
            stop.set(true);
        }
        join(ts);
        assertNoErrors(errors);
    }

    /**
     * An owned guard opened before the call holds a grace period until it closes, whichever thread closes it; the
     * caller's own owned guard does not make the call refused (it belongs to no thread).
     *
     * @throws Exception if a join or a thread of the test fails
     */
    @Test
    default void synchronizeWaitsForAnOwnedGuardOpenedBeforeIt() throws Exception {
        OwnedGuard og = reclaimer().enterOwned();
        og.protect(new AtomicReference<>(new Node(1)));
        assertFalse(reclaimer().synchronize(SHORT), "a grace period ended while an owned guard open before it was open");
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        join(List.of(start("owned-closer", og::close, errors)));
        assertNoErrors(errors);
        assertTrue(reclaimer().synchronize(LONG), "the owned guard closed on another thread");
    }

    /** Inside a guard (nested too) both forms are refused: the grace period would wait for that guard. */
    @Test
    default void synchronizeInsideAGuardIsRefused() {
        try (Guard g = reclaimer().enter()) {
            assertThrows(IllegalStateException.class, () -> reclaimer().synchronize());
            assertThrows(IllegalStateException.class, () -> reclaimer().synchronize(Duration.ZERO));
            try (Guard inner = reclaimer().enter()) {
                assertThrows(IllegalStateException.class, () -> reclaimer().synchronize(LONG));
                inner.protect(new AtomicReference<>(new Node(2)), 0);
            }
            g.protect(new AtomicReference<>(new Node(1)));
        }
        assertTrue(reclaimer().synchronize(LONG), "once the guard closed");
        assertThrows(NullPointerException.class, () -> reclaimer().synchronize(null));
    }

    /** On a closed reclaimer both forms return at once: no guard can be open. */
    @Test
    default void synchronizeOnAClosedReclaimerReturnsAtOnce() {
        Reclaimer r = freshReclaimer();
        r.retire(new Node(1), Node::reclaim);
        r.close();
        r.synchronize();
        assertTrue(r.synchronize(Duration.ZERO));
    }

    /**
     * A registered thread outside its guards holds a grace period under QSBR only, and there only until it passes a
     * quiescent state after the grace period began, or goes offline.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void anOnlineRegisteredThreadHoldsAGracePeriodOnlyUnderQsbr() throws Exception {
        boolean qsbr = reclaimer().scheme() instanceof Scheme.Qsbr;
        CountDownLatch registered = new CountDownLatch(1);
        CountDownLatch passQuiescentStates = new CountDownLatch(1);
        CountDownLatch goOffline = new CountDownLatch(1);
        CountDownLatch offline = new CountDownLatch(1);
        AtomicBoolean stopPassing = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread worker = start("registered-worker", () -> {
            try (Registration reg = reclaimer().register()) {
                try (Guard g = reg.enter()) {
                    g.protect(new AtomicReference<>(new Node(1)));
                }
                registered.countDown();
                assertTrue(passQuiescentStates.await(60, TimeUnit.SECONDS));
                while (!stopPassing.get()) {
                    reg.quiescent();
                    Thread.onSpinWait();
                }
                assertTrue(goOffline.await(60, TimeUnit.SECONDS));
                reg.offline();
                offline.countDown();
            }
        }, errors);
        try {
            assertTrue(registered.await(60, TimeUnit.SECONDS), "the worker did not register");
            if (qsbr) {
                assertFalse(reclaimer().synchronize(SHORT), "an online QSBR worker that passed no quiescent state"
                        + " since the grace period began did not hold it");
            } else {
                assertTrue(reclaimer().synchronize(LONG), "a registered thread outside its guards held a grace period");
            }
            passQuiescentStates.countDown();
            assertTrue(reclaimer().synchronize(LONG), "a worker passing quiescent states held the grace period");
            stopPassing.set(true);
            goOffline.countDown();
            assertTrue(offline.await(60, TimeUnit.SECONDS), "the worker did not go offline");
            assertTrue(reclaimer().synchronize(LONG), "an offline worker held the grace period");
        } finally {
            stopPassing.set(true);
            passQuiescentStates.countDown();
            goOffline.countDown();
        }
        join(List.of(worker));
        assertNoErrors(errors);
    }

    /** A registered caller outside its guards is quiescent: it does not wait for itself. */
    @Test
    default void aRegisteredCallerOutsideItsGuardsDoesNotWaitForItself() {
        try (Registration reg = reclaimer().register()) {
            try (Guard g = reg.enter()) {
                g.protect(new AtomicReference<>(new Node(1)));
            }
            assertTrue(reclaimer().synchronize(LONG), "a registered caller waited for itself");
            reclaimer().synchronize();
            try (Guard g = reg.enter()) {
                assertThrows(IllegalStateException.class, () -> reclaimer().synchronize(Duration.ZERO));
                g.protect(new AtomicReference<>(new Node(2)));
            }
        }
    }

    /** The holder keeps its guard open, on a latch, while the test checks that grace periods wait for it. */
    private void waitsForAGuardOpenedBeforeIt(boolean virtual) throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch waiting = new CountDownLatch(1);
        int[] written = new int[1]; // plain: visible after synchronize() returns only through its happens-before edge
        int[] seen = {-1};
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Fixtures.ThrowingRunnable holder = () -> {
            Guard g = reclaimer().enter(); // protects nothing: a grace period waits for guards, not pointers
            try {
                inside.countDown();
                assertTrue(release.await(60, TimeUnit.SECONDS));
                written[0] = 42;
            } finally {
                g.close();
            }
        };
        Thread h = virtual ? startVirtual("guard-holder", holder, errors) : start("guard-holder", holder, errors);
        Thread waiter = null;
        try {
            assertTrue(inside.await(60, TimeUnit.SECONDS), "the holder did not enter");
            assertFalse(reclaimer().synchronize(SHORT), "a grace period ended while a guard open before it was open");
            assertFalse(reclaimer().synchronize(Duration.ZERO), "a look saw no guard while one was open");
            waiter = start("waiter", () -> {
                waiting.countDown();
                reclaimer().synchronize();
                seen[0] = written[0];
            }, errors);
            assertTrue(waiting.await(60, TimeUnit.SECONDS));
            assertFalse(reclaimer().synchronize(SHORT), "the guard is still open");
        } finally {
            release.countDown();
        }
        join(waiter == null ? List.of(h) : List.of(h, waiter));
        assertNoErrors(errors);
        assertEquals(42, seen[0], "synchronize() returned before the guard open at its call had closed, or without"
                + " the guard's writes");
        assertTrue(reclaimer().synchronize(LONG));
    }
}
