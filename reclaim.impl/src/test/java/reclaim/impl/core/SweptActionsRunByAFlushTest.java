package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A flush sweeps the participants of threads that ended inside a guard, and under Hyaline and Crystalline a sweep
 * runs what that guard held: reclaim actions, on the flushing thread, which may retire and flush. No participant may
 * be held BUSY by the flush meanwhile, or an action's retire (on the flushing thread, or on a thread the action waits
 * for) would wait for ever for the participant it needs.
 */
class SweptActionsRunByAFlushTest {

    /** Every scheme whose sweep runs actions, under each barrier available, with the action retiring or flushing. */
    static Stream<Object[]> schemes() {
        return schemesOnly().flatMap(c -> Stream.of(new Object[] {c[0], c[1], "retire"}, new Object[] {c[0], c[1], "flush"}));
    }

    /**
     * The flushing thread's own participant is idle when its flush sweeps a dead thread's participant and runs the
     * action that guard held: the action retires (or flushes) on the flushing thread, which needs that participant.
     * Under the asymmetric barrier the flush keeps the participants it takes from HELD BUSY until one heavy barrier:
     * were the sweep done meanwhile, the action would wait for a participant its own thread holds.
     */
    @ParameterizedTest(name = "{0} {1} action:{2}")
    @MethodSource("schemes")
    void aReclaimActionRunBySealIdlesSweepMayRetire(String scheme, Options.Barrier barrier, String what) throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier));
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger retiredByAction = new AtomicInteger();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch flusherHasParticipant = new CountDownLatch(1);
        CountDownLatch deadInGuard = new CountDownLatch(1);
        CountDownLatch secondFlushDone = new CountDownLatch(1);
        CountDownLatch mayFlushAgain = new CountDownLatch(1);
        CountDownLatch firstFlushDone = new CountDownLatch(1);
        Thread flusher = new Thread(() -> {
            try {
                r.enter().close(); // the flusher's sticky participant: index 0
                flusherHasParticipant.countDown();
                DeferredSweepCloseTest.await(deadInGuard);
                // A retire whose batch a collection inserts into the open guard of the thread that will die.
                r.retire(new Object(), o -> {
                    ran.incrementAndGet();
                    if (what.equals("retire")) r.retire(new Object(), x -> retiredByAction.incrementAndGet()); // allowed
                    else { r.flush(); retiredByAction.incrementAndGet(); } // a flush from an action
                });
                r.flush();
                firstFlushDone.countDown();
                assertEquals(0, ran.get(), "the dying thread's open guard holds the batch");
                DeferredSweepCloseTest.await(mayFlushAgain);
                r.flush(); // sealIdle: own participant -> held[], then sweeps the dead one and runs the action
            } catch (Throwable t) {
                failures.add(t);
            } finally {
                firstFlushDone.countDown();
                flusherHasParticipant.countDown();
                secondFlushDone.countDown();
            }
        }, "flusher");
        flusher.setDaemon(true);
        flusher.start();
        DeferredSweepCloseTest.await(flusherHasParticipant);
        Thread dies = new Thread(() -> {
            Guard g = r.enter(); // index 1; never closed
            g.protect(new java.util.concurrent.atomic.AtomicReference<>(new Object())); // Crystalline: a reservation
            deadInGuard.countDown();
            DeferredSweepCloseTest.await(firstFlushDone);
        }, "dies-inside-a-guard");
        dies.start();
        dies.join();
        mayFlushAgain.countDown();
        if (!secondFlushDone.await(10, TimeUnit.SECONDS)) {
            StringBuilder sb = new StringBuilder("flush() hung (ran=" + ran.get() + "):\n");
            appendStack(sb, flusher);
            fail(sb.toString());
        }
        assertTrue(failures.isEmpty(), () -> "flusher failed: " + failures);
        assertEquals(1, ran.get());
        r.close();
        assertEquals(1, retiredByAction.get());
    }

    private static void appendStack(StringBuilder sb, Thread t) {
        for (StackTraceElement e : t.getStackTrace()) sb.append("    at ").append(e).append('\n');
    }

    /** Every scheme whose sweep runs actions, under each barrier available. */
    static Stream<Object[]> schemesOnly() {
        return Stream.of("hyaline", "crystalline", "crystalline-w").flatMap(s -> Stream.of(
                Options.Barrier.FENCE, Options.Barrier.ASYMMETRIC)
                .filter(b -> b == Options.Barrier.FENCE || Membarrier.unavailableReason() == null)
                .map(b -> new Object[] {s, b}));
    }

    /**
     * The cross-thread form: thread A retires while holding a lock; a reclaim action that takes the same lock runs on
     * a flushing thread F, from its sweep of a dead thread's participant. Had F taken A's participant BUSY before that
     * sweep, A would wait for it inside the lock and F for the lock: a deadlock.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemesOnly")
    void aRetireUnderALockThatAReclaimActionTakesDoesNotDeadlockWithAFlush(String scheme, Options.Barrier barrier)
            throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier));
        Object lock = new Object();
        AtomicInteger ran = new AtomicInteger();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch aHasParticipant = new CountDownLatch(1);
        CountDownLatch deadInGuard = new CountDownLatch(1);
        CountDownLatch firstFlushDone = new CountDownLatch(1);
        CountDownLatch aLocked = new CountDownLatch(1);
        CountDownLatch actionStarted = new CountDownLatch(1);
        CountDownLatch aRetired = new CountDownLatch(1);
        Thread a = new Thread(() -> {
            try {
                r.enter().close(); // A's sticky participant: index 0
                aHasParticipant.countDown();
                synchronized (lock) {
                    aLocked.countDown();
                    DeferredSweepCloseTest.await(actionStarted);
                    r.retire(new Object(), o -> {}); // outside a guard, on A's own participant
                }
            } catch (Throwable t) {
                failures.add(t);
            } finally {
                aHasParticipant.countDown();
                aRetired.countDown();
            }
        }, "A");
        a.setDaemon(true);
        a.start();
        DeferredSweepCloseTest.await(aHasParticipant);
        Thread dies = new Thread(() -> {
            Guard g = r.enter(); // index 1; never closed
            g.protect(new java.util.concurrent.atomic.AtomicReference<>(new Object()));
            deadInGuard.countDown();
            DeferredSweepCloseTest.await(firstFlushDone);
        }, "dies-inside-a-guard");
        dies.start();
        DeferredSweepCloseTest.await(deadInGuard);
        CountDownLatch flushDone = new CountDownLatch(1);
        Thread f = new Thread(() -> {
            try {
                r.retire(new Object(), o -> {
                    actionStarted.countDown();
                    synchronized (lock) {
                        ran.incrementAndGet();
                    }
                });
                r.flush(); // the dying thread's guard takes the batch
                firstFlushDone.countDown();
                DeferredSweepCloseTest.await(aLocked);
                dies.join();
                r.flush();
            } catch (Throwable t) {
                failures.add(t);
            } finally {
                firstFlushDone.countDown();
                actionStarted.countDown();
                flushDone.countDown();
            }
        }, "F");
        f.setDaemon(true);
        f.start();
        if (!flushDone.await(10, TimeUnit.SECONDS)) {
            StringBuilder sb = new StringBuilder("deadlock (ran=" + ran.get() + "):\n F:\n");
            appendStack(sb, f);
            sb.append(" A:\n");
            appendStack(sb, a);
            fail(sb.toString());
        }
        DeferredSweepCloseTest.await(aRetired);
        assertTrue(failures.isEmpty(), () -> "failed: " + failures);
        assertEquals(1, ran.get());
        r.close();
    }
}
