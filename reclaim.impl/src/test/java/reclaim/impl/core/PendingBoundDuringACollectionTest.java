package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * {@link Reclaimer#pendingBound()} while a collection runs: the bags it took from the store are pending, in its hands,
 * until it has judged or inserted them, and the bound must count them there. A reclaim action retires eight bags'
 * worth of objects (its seals start no collection), so the next collection takes nine bags at once; the first action
 * it runs holds it on a latch while another thread reads pending and the bound. Under fences, where the bound has no
 * slack for the amortization, nine bags are well above a robust scheme's bound for one thread.
 */
class PendingBoundDuringACollectionTest {

    @ParameterizedTest
    @ValueSource(strings = {"hp", "hyaline", "crystalline", "crystalline-w"})
    void theBagsACollectionHoldsCountInTheBound(String name) throws Exception {
        try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.FENCE))) {
            int bag = ReclaimerHandle.coreOf(r).batchSize();
            AtomicLong reclaimed = new AtomicLong();
            ActionGate gate = new ActionGate();
            Consumer<Object> free = x -> {
                gate.pass();
                reclaimed.incrementAndGet();
            };
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long total = 1 + 9L * bag + (bag - 1);
            Thread a = Thread.ofPlatform().start(() -> {
                try {
                    // the first object's action retires eight bags of objects: sealed inside the action, left in the store
                    r.retire(new Object(), x -> {
                        for (int i = 0; i < 8 * bag; i++) r.retire(new Object(), free);
                        reclaimed.incrementAndGet();
                    });
                    for (int i = 0; i < bag - 1; i++) r.retire(new Object(), free); // seals the first bag: collects
                    gate.arm();
                    for (int i = 0; i < bag; i++) r.retire(new Object(), free); // the last seals: takes nine bags
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            boolean inside = gate.awaitHeld();
            long pending = r.stats().pending();
            long bound = r.pendingBound();
            gate.release();
            a.join(30_000);
            assertEquals(null, failure.get());
            assertTrue(inside, name + ": no collection ran an armed action");
            assertTrue(pending > 4L * bag, name + ": only " + pending + " pending while held: the test proves nothing");
            assertTrue(pending <= bound, name + ": " + pending + " pending above the bound " + bound
                    + " while a collection held the bags it took");
            r.flush();
            assertEquals(total, reclaimed.get(), name + ": " + r.stats());
        }
    }
}
