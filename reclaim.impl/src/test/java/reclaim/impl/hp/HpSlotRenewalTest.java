package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The hazard arrays are replaced every {@link HpGuard#RENEW_EVERY} protects (so that under G1 they stay young): a
 * hazard published before a renewal still holds its object, and one published after it, in the new array, is seen
 * by the next scan. Under both barrier strategies.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HpSlotRenewalTest {

    @Test
    void hazardsPublishedBeforeAndAfterARenewalHoldTheirObjects() {
        for (Options.Barrier barrier : new Options.Barrier[] {Options.Barrier.FENCE, Options.Barrier.AUTO}) {
            AtomicInteger reclaimed = new AtomicInteger();
            try (Reclaimer r = Reclaimer.create(new Scheme.HazardPointers(), Options.DEFAULT.withBarrier(barrier))) {
                AtomicReference<Object> fixedCell = new AtomicReference<>(new Object());
                AtomicReference<Object> dynamicCell = new AtomicReference<>(new Object());
                AtomicReference<Object> busy = new AtomicReference<>(new Object());
                AtomicReference<Object> lateCell = new AtomicReference<>(new Object());
                AtomicReference<Object> lateDynamicCell = new AtomicReference<>(new Object());
                try (Guard g = r.enter()) {
                    assertSame(fixedCell.get(), g.protect(fixedCell, 0));
                    assertSame(dynamicCell.get(), g.protect(dynamicCell));
                    // More protects than a renewal period, in another slot: the arrays are replaced meanwhile. The cell
                    // alternates between two nodes, so that each protect stores a hazard (one that finds its node in
                    // its slot stores nothing).
                    Object[] before = ((HpParticipant) ((HpGuard) g).record()).hazardsAcquire();
                    Object one = new Object();
                    Object other = new Object();
                    for (int i = 0; i <= HpGuard.RENEW_EVERY + 1; i++) {
                        busy.set((i & 1) == 0 ? one : other);
                        g.protect(busy, 1);
                    }
                    assertNotSame(before, ((HpParticipant) ((HpGuard) g).record()).hazardsAcquire(),
                            barrier + ": the fixed slots' array was not renewed");
                    assertSame(lateCell.get(), g.protect(lateCell, 2));
                    assertSame(lateDynamicCell.get(), g.protect(lateDynamicCell));
                    for (AtomicReference<Object> cell : java.util.List.of(fixedCell, dynamicCell, lateCell, lateDynamicCell)) {
                        r.retire(cell.getAndSet(null), x -> reclaimed.incrementAndGet());
                    }
                    r.flush();
                    assertEquals(0, reclaimed.get(), barrier + ": an object protected across a renewal was reclaimed");
                }
                r.flush();
                assertEquals(4, reclaimed.get(), barrier + ": " + r.stats());
            }
        }
    }
}
