package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * The sweep of a participant whose thread ended seals that thread's bag, then asks the policy to detach what the
 * thread's guard held ({@link Policy#swept}: Hyaline ends its session there). A seal that fails (an allocation
 * failing) must leave the participant to a later sweep, which does both: released with its bag in place, the bag
 * would still be sealed by some later flush, but the policy's part would never run.
 */
class SweepSealFailureTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.impl.core.FailingSealPolicy#barriers")
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSweepWhoseSealFailsIsDoneWholeByALaterSweep(Options.Barrier barrier) throws Exception {
        for (int failing = 1; failing <= 2; failing++) { // one flush whose sweep fails, then two in a row
            FailingSealPolicy policy = new FailingSealPolicy();
            Reclaimer r = ReclaimerHandle.create(new Scheme.Ebr(), policy, Options.DEFAULT.withBarrier(barrier));
            try {
                AtomicInteger ran = new AtomicInteger();
                Thread ended = new Thread(() -> r.retire(new Object(), o -> ran.incrementAndGet()), "ends-with-a-bag");
                ended.start();
                ended.join();
                Thread self = Thread.currentThread();
                policy.failWhen = core -> Thread.currentThread() == self; // the seals of this thread's flush
                policy.failSeals.set(failing);
                for (int i = 0; i < failing; i++) {
                    assertThrows(FailingSealPolicy.SealFailed.class, r::flush, "the sweep's seal fails, and says so");
                    assertEquals(0, ran.get(), "nothing ran: the bag was not sealed");
                    assertEquals(0, policy.swept.get(), "the policy's part waits for the seal");
                }
                r.flush();
                assertEquals(1, ran.get(), barrier + ", " + failing + " failing: the ended thread's bag, once");
                assertEquals(1, policy.swept.get(), barrier + ", " + failing + " failing: the sweep, done whole, once");
                r.flush();
                assertEquals(1, policy.swept.get(), "swept once: the participant is free now");
            } finally {
                r.close();
            }
            assertTrue(r.isClosed());
            Stats s = r.stats();
            assertEquals(s.retired(), s.reclaimed(), barrier + ": " + s);
        }
    }
}
