package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;

/**
 * A thread that ended inside a guard leaves a list of batches inserted for it; the next thread whose registration
 * sweeps its participant walks that list. A flush that runs while that walk is under way (here: held in the walk's
 * first action) finds the list taken and nothing deferred, and returns: {@code flush()} then promises that the work in
 * progress reclaims what it took before it ends. Under the asymmetric barrier the walk trickled, running one batch and
 * deferring the others for later seals: the walk of a swept list now runs all it finds.
 */
class FlushWhileADeadThreadsListIsWalkedTest {

    @ParameterizedTest
    @ValueSource(strings = {"hyaline", "crystalline", "crystalline-w"})
    void theWalkOfASweptListRunsAllItFindsWhenAFlushLookedMeanwhile(String name) throws Exception {
        Assumptions.assumeTrue(Membarrier.unavailableReason() == null, "membarrier is unavailable here");
        try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC))) {
            int bag = ReclaimerHandle.coreOf(r).batchSize();
            int total = 8 * bag;
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            CountDownLatch inGuard = new CountDownLatch(1);
            CountDownLatch end = new CountDownLatch(1);
            Thread dead = Thread.ofPlatform().start(() -> {
                Guard g = r.enter(); // never closed: the thread ends inside it
                g.protect(cell);
                inGuard.countDown();
                try {
                    end.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(inGuard.await(30, TimeUnit.SECONDS));
            AtomicLong reclaimed = new AtomicLong();
            ActionGate gate = new ActionGate();
            for (int i = 0; i < total; i++) {
                r.retire(new Object(), x -> {
                    gate.pass();
                    reclaimed.incrementAndGet();
                });
            }
            r.flush(); // the bags go into the list of the guard the other thread holds open
            assertEquals(0, reclaimed.get(), name + ": reclaimed while a guard that protected before was open");
            end.countDown();
            dead.join(30_000); // ended inside its guard
            // A lease scans the participants from an index the thread's id picks: a thread that starts at the dead
            // thread's participant sweeps it first.
            Participant[] all = ReclaimerHandle.coreOf(r).participants();
            int at = -1;
            for (int i = 0; i < all.length; i++) {
                ThreadRef h = all[i].holderOpaque();
                if (h != null && h.ended()) at = i;
            }
            assertTrue(at >= 0, name + ": the dead thread's participant is not among " + all.length);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread sweeper;
            do {
                sweeper = Thread.ofPlatform().unstarted(() -> {
                    try (Registration reg = r.register()) { // its lease sweeps the dead thread's participant, walks
                        assertTrue(reg != null);
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
            } while ((int) (sweeper.threadId() & 0x7fff_ffff) % all.length != at);
            gate.armFor(sweeper);
            sweeper.start();
            assertTrue(gate.awaitHeld(), name + ": the registration did not walk the dead thread's list");
            r.flush(); // finds the list taken by the sweep, and nothing deferred yet
            gate.release();
            sweeper.join(30_000);
            assertEquals(null, failure.get());
            assertEquals(total, reclaimed.get(), name + ": the walk of the swept list left "
                    + ReclaimerHandle.coreOf(r).reclamation().deferredWaiting() + " objects deferred after the flush");
        }
    }
}
