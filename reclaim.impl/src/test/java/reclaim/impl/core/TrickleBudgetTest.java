package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A trickling collection's budget (the batches it runs itself before it defers the others) belongs to the reclaimer
 * collecting: what a reclaim action does on another reclaimer, or a flush it calls, must not be deferred by it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrickleBudgetTest {
    private static Options asymmetric() {
        return Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC);
    }

    /**
     * A reclaim action of one reclaimer's trickling collection closes another reclaimer, whose own actions retire
     * more while it closes (late retires): once that close() returns, every object retired into it has been
     * reclaimed, the late ones too.
     */
    @Test
    void closeCalledByAnActionOfAnotherReclaimersTricklingCollectionRunsItsLateRetires() {
        Assumptions.assumeTrue(Membarrier.unavailableReason() == null, "membarrier is unavailable here");
        AtomicInteger lateRan = new AtomicInteger();
        AtomicInteger firstRan = new AtomicInteger();
        AtomicBoolean closedFromAction = new AtomicBoolean();
        AtomicLong bReclaimedAtClose = new AtomicLong(-1);
        Reclaimer b = Reclaimer.create(new Scheme.Ebr(), asymmetric());
        try (Reclaimer a = Reclaimer.create(new Scheme.Ebr(), asymmetric())) {
            // Into b, outside any guard: a partly filled bag that close() seals and drains; its action retires more.
            b.retire(new Object(), x -> {
                firstRan.incrementAndGet();
                b.retire(new Object(), y -> lateRan.incrementAndGet());
            });
            for (int i = 0; i < 20 * Core.HEAVY_AMORTIZED && !closedFromAction.get(); i++) {
                a.retire(new Object(), x -> {
                    if (closedFromAction.compareAndSet(false, true)) {
                        b.close();
                        bReclaimedAtClose.set(b.stats().reclaimed());
                    }
                });
            }
            assertTrue(closedFromAction.get(), "no action of a ran before the end of the loop");
        }
        assertTrue(b.isClosed());
        assertEquals(1, firstRan.get(), "the object retired before close()");
        assertEquals(2, bReclaimedAtClose.get(), "b's reclaimed count when its close() returned: " + b.stats());
        assertEquals(1, lateRan.get(), "the object retired by an action while b closed: " + b.stats());
    }

    /**
     * A reclaim action run by a trickling collection (from a retire outside any guard: no guard is open anywhere)
     * calls flush(): once that flush and the retire that ran the collection have returned, every object retired
     * before the flush has been reclaimed; none waits for a later seal.
     */
    @Test
    void flushCalledByAnActionOfATricklingCollectionLeavesNothingRetiredBeforeItPending() {
        Assumptions.assumeTrue(Membarrier.unavailableReason() == null, "membarrier is unavailable here");
        int total = 20 * Core.HEAVY_AMORTIZED;
        AtomicIntegerArray runs = new AtomicIntegerArray(total);
        AtomicInteger retiredBeforeFlush = new AtomicInteger(-1);
        int[] next = {0};
        try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(), asymmetric())) {
            for (int i = 0; i < total; i++) {
                int id = next[0]++;
                r.retire(new int[] {id}, x -> {
                    runs.incrementAndGet(x[0]);
                    if (retiredBeforeFlush.get() < 0) {
                        retiredBeforeFlush.set(next[0]);
                        r.flush();
                    }
                });
                if (retiredBeforeFlush.get() >= 0) { // the retire whose collection ran the action has returned
                    int missed = 0;
                    for (int j = 0; j < retiredBeforeFlush.get(); j++) if (runs.get(j) == 0) missed++;
                    assertEquals(0, missed, "objects retired before the flush still pending after it (of "
                            + retiredBeforeFlush.get() + "): " + r.stats());
                    break;
                }
            }
            assertTrue(retiredBeforeFlush.get() >= 0, "no action ran");
        }
        for (int j = 0; j < next[0]; j++) assertEquals(1, runs.get(j), "object " + j);
    }
}
