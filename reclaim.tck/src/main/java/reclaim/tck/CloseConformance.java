package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static reclaim.tck.Fixtures.await;
import static reclaim.tck.Fixtures.gcUntil;
import static reclaim.tck.Fixtures.holdingARetiredObject;

import java.lang.ref.WeakReference;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/**
 * The promises of {@link Reclaimer#close()} where it meets work in flight on other threads, and of a reclaimer
 * that is dropped without {@code close()}:
 * <ul>
 *   <li>{@code close()} never returns while a collection started by another thread's {@code retire()},
 *       {@code flush()} or guard is still running: it waits for it or refuses with
 *       {@link IllegalStateException}, and once it returns, retired == reclaimed and every action ran once;</li>
 *   <li>a reclaim action that a thread runs while it finds or sets up its own bookkeeping (the sweep of a record
 *       left by a thread that ended) may open guards without costing a participant;</li>
 *   <li>{@code close()} with a guard open fails, whether or not that guard protected anything, on the guard's
 *       thread and on another;</li>
 *   <li>a reclaimer dropped without {@code close()} becomes unreachable although threads used it, and what it
 *       had pending is reclaimed then.</li>
 * </ul>
 */
interface CloseConformance extends SchemeUnderTest {

    /** Retires until the scheme collects on its own (bounded): objects a collection must get to. */
    int FILL = 4096;

    /**
     * One thread's retire runs a collection whose first reclaim action blocks; a reader that protected one of
     * the retired objects has left; {@code close()} on a third thread must not return before that collection
     * has ended, and once it returns every object has been reclaimed exactly once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void closeDoesNotReturnWhileAnotherThreadsCollectionRuns() throws Exception {
        Reclaimer r = reclaimer();
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only in close()");
        AtomicIntegerArray runs = new AtomicIntegerArray(FILL + 2);
        AtomicReference<Object> head = new AtomicReference<>(Integer.valueOf(-1));
        Object x = new Object();
        head.set(x);
        CountDownLatch protectedX = new CountDownLatch(1);
        CountDownLatch readerMayLeave = new CountDownLatch(1);
        CountDownLatch readerLeft = new CountDownLatch(1);
        CountDownLatch blockerRunning = new CountDownLatch(1);
        CountDownLatch progress = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try (Guard g = r.enter()) {
                if (g.protect(head) != x) throw new AssertionError("did not read x");
                protectedX.countDown();
                await(readerMayLeave);
                if (runs.get(0) != 0) throw new AssertionError("x was reclaimed while the reader protected it");
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            } finally {
                readerLeft.countDown();
            }
        }, "reader");
        reader.start();
        await(protectedX);
        head.set(Integer.valueOf(-2)); // unlinks x
        Thread retirer = new Thread(() -> {
            try {
                r.retire(x, counting(runs, 0));
                r.retire(new Object(), o -> {
                    runs.incrementAndGet(1);
                    blockerRunning.countDown();
                    readerLeft.countDown(); // (it may be the reader's close() that runs it)
                    progress.countDown();
                    await(release);
                });
                for (int i = 0; i < FILL && blockerRunning.getCount() != 0; i++) {
                    r.retire(new Object(), counting(runs, 2 + i));
                }
                progress.countDown();
                await(readerLeft); // or the blocking action runs in the reader's close()
                if (blockerRunning.getCount() != 0) r.flush(); // the scheme waited for the reader: collect now
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
                blockerRunning.countDown();
            }
        }, "retirer");
        retirer.start();
        await(progress);
        readerMayLeave.countDown();
        await(blockerRunning);
        AtomicReference<Stats> atReturn = new AtomicReference<>();
        AtomicReference<Throwable> closeFailure = new AtomicReference<>();
        Thread closer = new Thread(() -> {
            try {
                r.close();
                atReturn.set(r.stats());
            } catch (Throwable e) {
                closeFailure.set(e);
            }
        }, "closer");
        closer.start();
        closer.join(TimeUnit.SECONDS.toMillis(3)); // either answer is correct; give a refusal time to come first
        release.countDown();
        reader.join(TimeUnit.SECONDS.toMillis(60));
        retirer.join(TimeUnit.SECONDS.toMillis(60));
        closer.join(TimeUnit.SECONDS.toMillis(60));
        assertFalse(reader.isAlive() || retirer.isAlive() || closer.isAlive(), "a thread hung");
        if (failure.get() != null) throw new AssertionError(failure.get());
        if (closeFailure.get() != null) {
            assertTrue(closeFailure.get() instanceof IllegalStateException, closeFailure.get().toString());
            assertFalse(r.isClosed(), "close() refused but reports closed");
            r.close(); // nothing in flight now: completes
        } else {
            Stats s = atReturn.get();
            assertEquals(s.retired(), s.reclaimed(), "close() returned before the collection in flight ended: " + s);
        }
        assertTrue(r.isClosed());
        Stats s = r.stats();
        assertEquals(s.retired(), s.reclaimed(), s.toString());
        int retired = (int) s.retired();
        for (int i = 0; i < retired; i++) assertEquals(1, runs.get(i), "action " + i + " ran " + runs.get(i) + " times");
    }

    /**
     * A reclaim action run while a thread opens its first guard (the sweep of a record left by a thread that
     * ended inside its guard) opens a guard itself: the thread ends up holding one participant, not two.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void actionsRunBySweepingAnEndedThreadDoNotCostAParticipant() throws Exception {
        Reclaimer r = reclaimer();
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only in close()");
        assumeFalse(actionsHandedOff(), "the actions run on the executor's threads, which open guards of their own");
        AtomicReference<Object> head = new AtomicReference<>(new Object());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch inGuard = new CountDownLatch(1);
        AtomicIntegerArray entered = new AtomicIntegerArray(1);
        Consumer<Object> entersAGuard = o -> {
            try (Guard g = r.enter()) {
                if (g.reclaimer() == r) entered.incrementAndGet(0);
            }
        };
        CountDownLatch retired = new CountDownLatch(1);
        Thread dies = new Thread(() -> {
            Guard g = r.enter(); // never closed: the thread ends inside it
            g.protect(head);
            inGuard.countDown();
            await(retired); // what is retired meanwhile may be left for this guard to release
        }, "ends-inside-a-guard");
        dies.start();
        await(inGuard);
        for (int i = 0; i < 256; i++) r.retire(new Object(), entersAGuard);
        retired.countDown();
        dies.join();
        int before = r.stats().participants();
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch mayEnd = new CountDownLatch(1);
        AtomicReference<Integer> during = new AtomicReference<>();
        Thread fresh = new Thread(() -> {
            try {
                for (int i = 0; i < 8; i++) {
                    try (Guard g = r.enter()) {
                        g.protect(head);
                    }
                }
                during.set(r.stats().participants());
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            } finally {
                done.countDown();
            }
            await(mayEnd); // stays alive: a record it leaked would still count
        }, "fresh");
        fresh.start();
        await(done);
        try {
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertNotNull(during.get());
            // The new thread takes over the record of the thread that ended: no new participant.
            assertTrue(during.get() <= before,
                    "participants grew from " + before + " to " + during.get() + " for one new thread");
        } finally {
            mayEnd.countDown();
            fresh.join();
        }
        r.flush();
        r.close();
        assertEquals(256, entered.get(0));
    }

    /** close() with a guard open that protected nothing fails on the guard's own thread; the guard still works. */
    @Test
    default void closeWithAnEmptyGuardOpenFailsOnItsThread() {
        Reclaimer r = reclaimer();
        AtomicReference<Object> head = new AtomicReference<>("x");
        Guard g = r.enter();
        assertThrows(IllegalStateException.class, r::close);
        assertFalse(r.isClosed());
        assertEquals("x", g.protect(head), "the open guard stops working after a refused close()");
        g.close();
        r.close();
        assertTrue(r.isClosed());
    }

    /**
     * close() with a guard open on another thread that protected nothing fails; once it closes, close() completes.
     *
     * @throws Exception if the other thread fails or is interrupted
     */
    @Test
    default void closeWithAnEmptyGuardOpenOnAnotherThreadFails() throws Exception {
        Reclaimer r = reclaimer();
        AtomicReference<Object> head = new AtomicReference<>("x");
        CountDownLatch open = new CountDownLatch(1);
        CountDownLatch mayClose = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread holder = new Thread(() -> {
            try (Guard g = r.enter()) {
                open.countDown();
                await(mayClose);
                if (!"x".equals(g.protect(head))) throw new AssertionError("the guard stopped working");
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, "holds-an-empty-guard");
        holder.start();
        await(open);
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, r::close);
            assertTrue(e.getMessage().contains("open"), e.getMessage());
            assertFalse(r.isClosed());
        } finally {
            mayClose.countDown();
            holder.join();
        }
        if (failure.get() != null) throw new AssertionError(failure.get());
        r.close();
        assertTrue(r.isClosed());
    }

    /**
     * A reclaimer that threads used and that is then dropped without {@code close()} becomes unreachable, and
     * what it had pending is reclaimed once it is collected.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aDroppedReclaimerIsCollectedAndReclaimsWhatWasPending() throws Exception {
        AtomicIntegerArray ran = new AtomicIntegerArray(1);
        WeakReference<Reclaimer> weak = useAndDrop(ran);
        boolean collected = false;
        CountDownLatch never = new CountDownLatch(1);
        for (int i = 0; i < 200 && !(collected = weak.get() == null && ran.get(0) == 1); i++) {
            System.gc();
            never.await(50, TimeUnit.MILLISECONDS); // the cleaner runs on its own thread: give it the chance
        }
        assertNull(weak.get(), "a dropped reclaimer stays reachable (a thread that used it keeps it)");
        assertTrue(collected, "the dropped reclaimer's pending object was not reclaimed (ran " + ran.get(0) + ")");
    }

    private WeakReference<Reclaimer> useAndDrop(AtomicIntegerArray ran) throws Exception {
        Reclaimer r = freshReclaimer();
        AtomicReference<Object> head = new AtomicReference<>("x");
        Object pending = new Object();
        Thread other = new Thread(() -> {
            try (Guard g = r.enter()) {
                g.protect(head);
                g.retire(new Object(), o -> {});
            }
        }, "uses-and-lives-on");
        other.start();
        other.join();
        try (Guard g = r.enter()) { // this (long-lived) thread uses it too
            g.protect(head);
        }
        try (Guard g = r.enter()) {
            g.retire(pending, o -> ran.incrementAndGet(0)); // guard open: it cannot be reclaimed yet
        }
        return new WeakReference<>(r);
    }

    /**
     * A reclaimer dropped without {@code close()} while a thread whose task captured it still runs is collected once
     * that thread ends, though no call on the reclaimer came after (none swept the thread's record), and what the
     * thread retired is reclaimed. The JDK keeps an ended thread's task: a record, a batch or a guard that kept the
     * thread itself would keep the reclaimer reachable through it.
     *
     * @throws Exception if a wait fails
     */
    @Test
    default void aReclaimerDroppedWhileAThreadThatCapturedItRunsIsCollectedOnceTheThreadEnds() throws Exception {
        int retires = 300; // more than a batch: the thread seals some
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch mayEnd = new CountDownLatch(1);
        WeakReference<Reclaimer> weak = useOnAThreadThatOutlivesTheLastUse(retires, ran, mayEnd);
        mayEnd.countDown(); // the thread ends after the reclaimer's last use; this test keeps no reference to it
        gcUntil(() -> weak.get() == null && ran.get() == retires);
        assertNull(weak.get(), "a dropped reclaimer stays reachable through an ended thread whose task captured it");
        assertEquals(retires, ran.get(), "what the ended thread retired was not reclaimed");
    }

    private WeakReference<Reclaimer> useOnAThreadThatOutlivesTheLastUse(int retires, AtomicInteger ran,
            CountDownLatch mayEnd)
            throws InterruptedException {
        Reclaimer r = freshReclaimer();
        AtomicReference<Object> head = new AtomicReference<>("x");
        CountDownLatch used = new CountDownLatch(1);
        Thread.ofPlatform().name("captures-the-reclaimer").start(() -> { // the task captures r
            try (Guard g = r.enter()) {
                g.protect(head);
            }
            for (int i = 0; i < retires; i++) r.retire(new Object(), o -> ran.incrementAndGet());
            used.countDown();
            try {
                mayEnd.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(used.await(60, TimeUnit.SECONDS));
        return new WeakReference<>(r);
    }

    /**
     * A reclaimer dropped without {@code close()} while a guard of it is still open (the code kept only the guard)
     * is collected all the same; nothing that guard protected is reclaimed while it stays open, and once it
     * closes everything the reclaimer held is reclaimed.
     *
     * @throws Exception if a wait fails
     */
    @Test
    default void aReclaimerDroppedWithAGuardOpenIsFinishedWhenTheGuardCloses() throws Exception {
        AtomicIntegerArray ran = new AtomicIntegerArray(1);
        Guard[] open = new Guard[1];
        WeakReference<Reclaimer> weak = openAGuardAndDrop(ran, open);
        gcUntil(() -> weak.get() == null);
        assertNull(weak.get(), "an open guard keeps its dropped reclaimer reachable");
        assertEquals(0, ran.get(0), "an object protected by an open guard was reclaimed");
        open[0].close();
        gcUntil(() -> ran.get(0) != 0);
        assertEquals(1, ran.get(0), "what the dropped reclaimer held was not reclaimed once its last guard closed");
    }

    private WeakReference<Reclaimer> openAGuardAndDrop(AtomicIntegerArray ran, Guard[] open) {
        Reclaimer r = freshReclaimer();
        open[0] = holdingARetiredObject(r.enter(), ran);
        return new WeakReference<>(r);
    }

    /**
     * Many reclaimers, each used once by this thread and dropped without {@code close()}, do not accumulate.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void droppedReclaimersDoNotAccumulate() throws Exception {
        WeakReference<Reclaimer> first = null;
        for (int i = 0; i < 2_000; i++) {
            Reclaimer r = freshReclaimer();
            try (Guard g = r.enter()) {
                g.retire(new Object(), o -> {});
            }
            if (first == null) first = new WeakReference<>(r);
        }
        WeakReference<Reclaimer> firstDropped = first;
        gcUntil(() -> firstDropped.get() == null);
        assertNull(first.get(), "the first of 2,000 dropped reclaimers is still reachable");
    }

    private static Consumer<Object> counting(AtomicIntegerArray runs, int i) {
        return o -> runs.incrementAndGet(i);
    }
}
