package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.core.DeferredSweepCloseTest.await;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * An outermost enter on a reclaimer whose close() began and was refused (another thread's guard is open): the enter
 * stores its open word, reads CLOSING, takes the store back and is refused ({@code Core.openSticky}). Whatever path
 * the thread's guards took (the short one, decided by earlier guards), the refused enter must leave its guard closed
 * and its open word 0, so that the close() that follows once the other guard closed completes, on this thread or on
 * a third one; and a reclaim action run by that close() still enters a guard on this thread.
 */
@SuppressWarnings("try")
class EnterRefusedWhileClosingTest {

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("reclaim.impl.core.GuardShortPathTest#schemes")
    void aRefusedEnterLeavesNothingOpenAndTheNextCloseCompletes(String scheme, Options.Barrier barrier)
            throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.fromSystemProperties().withBarrier(barrier));
        ThreadGuard g = ((ReclaimerHandle) r).guard();
        r.enter().close();
        r.enter().close(); // the short path is decided by now
        byte path = g.fast();
        boolean[] actionEntered = {false};
        r.retire(new Object(), o -> {
            try (Guard ignored = r.enter()) { // run by the close() below, on this thread
                actionEntered[0] = true;
            }
        });

        // A third thread whose participant the refused close() closes, and which then tries to enter.
        AtomicReference<ThreadGuard> thirdGuard = new AtomicReference<>();
        AtomicReference<Throwable> thirdFailure = new AtomicReference<>();
        CountDownLatch thirdReady = new CountDownLatch(1);
        CountDownLatch thirdMayEnter = new CountDownLatch(1);
        CountDownLatch thirdDone = new CountDownLatch(1);
        Thread third = new Thread(() -> {
            try {
                r.enter().close();
                r.enter().close();
                thirdGuard.set(((ReclaimerHandle) r).guard());
                thirdReady.countDown();
                await(thirdMayEnter);
                assertThrows(IllegalStateException.class, r::enter, "the third thread's enter while closing");
            } catch (Throwable t) {
                thirdFailure.set(t);
            } finally {
                thirdReady.countDown();
                thirdDone.countDown();
            }
        }, "third");
        third.setDaemon(true);
        third.start();
        await(thirdReady);

        GuardHolder holder = GuardHolder.open(r);
        assertThrows(IllegalStateException.class, r::close, "close() with another thread's guard open");

        IllegalStateException refused = assertThrows(IllegalStateException.class, r::enter,
                "path " + path + ": enter while closing");
        assertTrue(refused.getMessage().contains("closing"), refused.getMessage());
        assertEquals(0, g.depth(), "path " + path + ": the refused enter left the guard closed");
        assertEquals(0, g.openAcquire(), "path " + path + ": the refused enter took its open word back");

        thirdMayEnter.countDown();
        await(thirdDone);
        if (thirdFailure.get() != null) throw new AssertionError("the third thread", thirdFailure.get());
        ThreadGuard tg = thirdGuard.get();
        assertEquals(0, tg.depth(), "the third thread's refused enter left its guard closed");
        assertEquals(0, tg.openAcquire(), "the third thread's refused enter took its open word back");

        holder.close();

        long t0 = System.nanoTime();
        r.close(); // this thread, whose enter was refused; the third thread's participant is closed already
        long tookMillis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(r.isClosed());
        assertTrue(actionEntered[0], "path " + path + ": close()'s own action entered a guard");
        assertEquals(0, r.stats().failed(), "no reclaim action failed");
        assertEquals(r.stats().retired(), r.stats().reclaimed(), "everything retired was reclaimed");
        // close() waits for an open word that is clearing: none was left set, so it did not wait out its deadline.
        assertTrue(tookMillis < 900, "close() took " + tookMillis + " ms: it waited for an open word left set");
    }
}
