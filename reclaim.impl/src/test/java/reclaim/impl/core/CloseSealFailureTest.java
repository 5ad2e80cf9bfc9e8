package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * A seal that fails while {@code close()} takes a participant (an allocation failing, say) leaves that participant's
 * bag where it was; the participant must then not be marked closed, or no later {@code close()} would seal and drain
 * it: what it held would never be reclaimed. The failure propagates from {@code close()}, and the next one completes
 * with everything reclaimed once. Both ways close() takes a participant: the caller's own, and another live thread's
 * idle one (under the asymmetric barrier, the pass that shares one heavy barrier among them).
 */
class CloseSealFailureTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.impl.core.FailingSealPolicy#barriers")
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSealThatFailsInCloseLeavesTheBagForTheNextClose(Options.Barrier barrier) throws Exception {
        for (int failing = 1; failing <= 2; failing++) { // one close() whose seal fails, then two in a row
            FailingSealPolicy policy = new FailingSealPolicy();
            policy.failWhen = core -> core.closing().isCloser(); // the seals of close()
            Reclaimer r = ReclaimerHandle.create(new Scheme.Ebr(), policy, Options.DEFAULT.withBarrier(barrier));
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch retired = new CountDownLatch(1);
            CountDownLatch end = new CountDownLatch(1);
            Thread idle = new Thread(() -> {
                r.retire(new Object(), o -> ran.incrementAndGet()); // waits in this live thread's bag
                retired.countDown();
                try {
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "idle");
            idle.start();
            try {
                assertTrue(retired.await(30, TimeUnit.SECONDS));
                r.retire(new Object(), o -> ran.incrementAndGet()); // waits in the caller's bag
                policy.failSeals.set(failing);
                for (int i = 0; i < failing; i++) {
                    assertThrows(FailingSealPolicy.SealFailed.class, r::close);
                    assertFalse(r.isClosed(), "a close() whose seal failed has not closed");
                    assertEquals(0, ran.get(), "nothing ran before the drain");
                }
                r.close();
                assertTrue(r.isClosed());
                assertEquals(2, ran.get(), barrier + ", " + failing + " failing: both bags drained, once");
                Stats s = r.stats();
                assertEquals(s.retired(), s.reclaimed(), barrier + ": " + s);
            } finally {
                end.countDown();
                idle.join();
            }
        }
    }
}
