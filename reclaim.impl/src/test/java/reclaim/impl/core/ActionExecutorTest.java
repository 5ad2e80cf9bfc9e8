package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The action executor's bookkeeping that the API does not show: refusals are counted, the objects waiting for the
 * executor are counted and added to the pending bound, and a task run twice runs nothing twice.
 */
class ActionExecutorTest {

    /** Retires objects outside guards until a batch was handed off (Hyaline reclaims at once with no guard open). */
    private static void retireUntilHandedOff(Reclaimer r, AtomicInteger ran, Core core, int atLeast) {
        int retired = 0;
        while (core.reclamation().handedOffWaiting() < atLeast) {
            assertTrue(retired++ < 100_000, "nothing was handed off after " + retired + " retires");
            r.retire(new Object(), o -> ran.incrementAndGet());
        }
    }

    @Test
    void refusalsAreCountedAndTheRefusedBatchesRunOnTheHandingThread() {
        Executor refuseAll = task -> {
            throw new RejectedExecutionException("refused by the test");
        };
        Set<Thread> ranOn = ConcurrentHashMap.newKeySet();
        try (Reclaimer r = Reclaimer.create(new Scheme.Hyaline(), Options.DEFAULT.withActionExecutor(refuseAll))) {
            Core core = ReclaimerHandle.coreOf(r);
            for (int i = 0; i < 1_000; i++) r.retire(new Object(), o -> ranOn.add(Thread.currentThread()));
            assertTrue(core.reclamation().handOffsRefused() > 0, "no refusal counted");
            assertEquals(Set.of(Thread.currentThread()), ranOn, "refused batches ran elsewhere than on the handing thread");
            assertEquals(0, core.reclamation().handedOffWaiting(), "a refused batch still counted as waiting");
        }
    }

    @Test
    void whatWaitsForTheExecutorIsCountedAndAddedToThePendingBound() {
        List<Runnable> held = new ArrayList<>();
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = Reclaimer.create(new Scheme.Hyaline(), Options.DEFAULT.withActionExecutor(held::add))) {
            Core core = ReclaimerHandle.coreOf(r);
            retireUntilHandedOff(r, ran, core, 1);
            long waiting = core.reclamation().handedOffWaiting();
            assertEquals(0, ran.get(), "an action ran although the executor holds every task");
            assertTrue(r.stats().pending() >= waiting, "pending does not count what waits for the executor");
            assertEquals(core.policy().pendingBound() + core.amortizationSlack() + waiting, r.pendingBound());
            held.get(0).run();
            assertEquals(waiting - core.reclamation().handedOffWaiting(), ran.get(), "the waiting count did not follow");
        }
    }

    @Test
    void aTaskRunTwiceRunsItsActionsOnce() {
        List<Runnable> held = new ArrayList<>();
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = Reclaimer.create(new Scheme.Hyaline(), Options.DEFAULT.withActionExecutor(held::add))) {
            Core core = ReclaimerHandle.coreOf(r);
            retireUntilHandedOff(r, ran, core, 1);
            Runnable task = held.get(0);
            task.run();
            int once = ran.get();
            assertTrue(once > 0);
            task.run();
            assertEquals(once, ran.get(), "a task run twice ran its actions twice");
        }
    }

    @Test
    void withoutAnExecutorNothingIsHandedOff() {
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = Reclaimer.create(new Scheme.Hyaline(), Options.DEFAULT)) {
            Core core = ReclaimerHandle.coreOf(r);
            for (int i = 0; i < 1_000; i++) r.retire(new Object(), o -> ran.incrementAndGet());
            assertTrue(ran.get() > 0, "nothing ran inline");
            assertEquals(0, core.reclamation().handedOffWaiting());
            assertEquals(0, core.reclamation().handOffsRefused());
        }
    }
}
