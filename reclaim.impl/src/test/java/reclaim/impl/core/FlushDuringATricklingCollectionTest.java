package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * {@code flush()} promises that what a collection in progress took from where it looks is reclaimed before that
 * collection ends. Under the asymmetric barrier an amortized collection runs one batch of what it finds and defers the
 * others for later seals: if a flush looked while it held them (here: while the first batch's first action runs,
 * held on a latch), the flush found neither the bags nor, yet, the deferred batches, and the collection must then run
 * them itself instead of leaving them for seals that may never come. Thread A retires outside any guard; its retire
 * that seals the bag due for the second collection runs that collection; the main thread flushes while A is held
 * inside it, then releases A; once A's retire returned, everything A retired before the flush must be reclaimed.
 */
class FlushDuringATricklingCollectionTest {

    @ParameterizedTest
    @ValueSource(strings = {"ebr", "hp", "hyaline", "crystalline", "crystalline-w"})
    void aCollectionDuringWhichAFlushLookedRunsWhatItWouldHaveDeferred(String name) throws Exception {
        Assumptions.assumeTrue(Membarrier.unavailableReason() == null, "membarrier is unavailable here");
        try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC))) {
            Core core = ReclaimerHandle.coreOf(r);
            int bag = core.batchSize();
            AtomicLong reclaimed = new AtomicLong();
            ActionGate gate = new ActionGate();
            AtomicLong retiredBeforeFlush = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().unstarted(() -> {
                try {
                    // the first bag's seal runs the first collection (nothing is due before it); then sixteen more bags
                    // make the second one due, which finds all of them reclaimable
                    int total = bag + Core.HEAVY_AMORTIZED + bag;
                    for (int i = 0; i < total; i++) {
                        if (i == bag) gate.armFor(Thread.currentThread()); // the first action from here: the second collection's
                        retiredBeforeFlush.incrementAndGet();
                        r.retire(new Object(), x -> {
                            gate.pass();
                            reclaimed.incrementAndGet();
                        });
                        if (gate.wasHeld()) break; // the collection ran, with the flush inside it
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.start();
            assertTrue(gate.awaitHeld(), name + ": no collection ran an action");
            long before = retiredBeforeFlush.get(); // A is held inside the retire that counted last
            r.flush(); // finds the bags in A's collection's hands, and nothing deferred yet
            gate.release();
            t.join(30_000);
            assertEquals(null, failure.get());
            assertTrue(before > (long) Core.HEAVY_AMORTIZED, name + ": only " + before + " retired: the test proves nothing");
            assertEquals(before, reclaimed.get(), name + ": retired before the flush, not reclaimed when the collection"
                    + " that held them ended (deferred " + core.reclamation().deferredWaiting() + ")");
        }
    }
}
