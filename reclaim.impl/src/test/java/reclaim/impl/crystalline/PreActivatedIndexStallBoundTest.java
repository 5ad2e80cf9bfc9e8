package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.crystalline.CrystallineIndices.create;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * Under fences a guard activates at its enter the indices its thread's previous guard protected through. One it then
 * leaves unused while it stalls must not let pending objects pass {@code pendingBound()}: the bound counts batches
 * holding objects born at or before the oldest active reservation, so an index activated at an era older than the
 * guard's own reads would hide, from that count, the batches the guard's used index holds.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PreActivatedIndexStallBoundTest {
    /** An object with a birth era. */
    private record Node(long birthEra) implements Born {}

    @Test
    void aStalledGuardWithAnIndexActivatedAtEnterAndUnusedStaysWithinPendingBound() throws Exception {
        try (Reclaimer r = create("FENCE")) { // batches of 4
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            CountDownLatch firstDone = new CountDownLatch(1);
            CountDownLatch nodesMade = new CountDownLatch(1);
            CountDownLatch stalled = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread reader = Thread.ofPlatform().name("reader").start(() -> {
                try {
                    try (Guard g = r.enter()) {
                        g.protect(cell, 0);
                        g.protect(cell, 1);
                    }
                    firstDone.countDown();
                    nodesMade.await();
                    try (Guard g = r.enter()) { // slots 0 and 1 activated at enter
                        g.protect(cell, 0); // slot 1 stays unused
                        stalled.countDown();
                        release.await(); // the stall
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(firstDone.await(10, TimeUnit.SECONDS));
            for (int i = 0; i < 40; i++) r.retire(new Object(), o -> {});
            r.flush(); // the era moves past the eras the two indices keep
            List<Node> live = new ArrayList<>();
            for (int i = 0; i < 300; i++) live.add(new Node(r.era()));
            nodesMade.countDown();
            assertTrue(stalled.await(10, TimeUnit.SECONDS));
            long worst = 0;
            String at = "";
            for (Node old : live) { // a batch of 4 per old node: one old object, three fresh ones
                r.retire(old, o -> {});
                for (int i = 0; i < 3; i++) r.retire(new Node(r.era()), o -> {});
                long pending = r.stats().pending();
                long bound = r.pendingBound();
                if (pending - bound > worst) {
                    worst = pending - bound;
                    at = pending + " pending, bound " + bound;
                }
            }
            release.countDown();
            reader.join();
            assertTrue(worst <= 0, "pending over pendingBound() while a guard stalls: " + at);
        }
    }
}
