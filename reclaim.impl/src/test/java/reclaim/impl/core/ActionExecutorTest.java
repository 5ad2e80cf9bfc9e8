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
 * executor are counted and added to the pending bound, a task run twice runs nothing twice, and a collection that a
 * retire finds due runs on the executor, with the retiring thread taking it back when the executor falls behind.
 */
class ActionExecutorTest {

    /** The first task of {@code held} that runs a batch (not a collection), or fails the test. */
    private static Runnable firstBatchTask(List<Runnable> held) {
        for (Runnable t : held) {
            if (!((HandOff.Task) t).isCollection()) return t;
        }
        throw new AssertionError("no batch was handed off among " + held);
    }

    /** How many of {@code held} are collection tasks. */
    private static long collectionTasks(List<Runnable> held) {
        return held.stream().filter(t -> ((HandOff.Task) t).isCollection()).count();
    }

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
            firstBatchTask(held).run();
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
            Runnable task = firstBatchTask(held);
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

    @Test
    void aCollectionThatARetireFindsDueRunsOnTheExecutor() {
        List<Runnable> held = new ArrayList<>();
        AtomicInteger ran = new AtomicInteger();
        int retired = 0;
        try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withActionExecutor(held::add))) {
            Core core = ReclaimerHandle.coreOf(r);
            while (held.isEmpty()) {
                assertTrue(retired++ < 100_000, "no collection was handed off after " + retired + " retires");
                r.retire(new Object(), o -> ran.incrementAndGet());
            }
            assertEquals(1, collectionTasks(held), "the first hand-off is not one collection: " + held);
            assertEquals(0, core.collections(), "the retiring thread collected although the executor took the collection");
            assertEquals(0, ran.get());
            Runnable collection = held.get(0);
            collection.run();
            assertEquals(1, core.collections(), "the collection task did not collect");
            collection.run(); // run twice: collects nothing more
            assertEquals(1, core.collections(), "a collection task run twice collected twice");
        }
        assertEquals(retired, ran.get(), "close() did not reclaim every object exactly once");
    }

    @Test
    void aStuckExecutorHandsTheCollectionsBackToTheRetiringThread() {
        List<Runnable> held = new ArrayList<>(); // never run: an executor that does not keep up
        AtomicInteger ran = new AtomicInteger();
        int retires = 200_000;
        try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withActionExecutor(held::add))) {
            Core core = ReclaimerHandle.coreOf(r);
            for (int i = 0; i < retires; i++) r.retire(new Object(), o -> ran.incrementAndGet());
            assertTrue(core.collections() > 0, "the retiring thread never collected behind a stuck executor");
            assertEquals(1, collectionTasks(held), "a second collection was handed off while one was waiting");
            assertTrue(core.reclamation().handedOffWaiting() > 0, "the inline collections handed nothing off");
            assertEquals(0, ran.get(), "an action ran although the executor holds every task");
        }
        assertEquals(retires, ran.get(), "close() did not reclaim every object exactly once");
    }

    @Test
    void flushRunsAWaitingCollectionAndWhatItHandsOff() {
        List<Runnable> held = new ArrayList<>();
        AtomicInteger ran = new AtomicInteger();
        try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withActionExecutor(held::add))) {
            int retired = 0;
            while (held.isEmpty()) {
                assertTrue(retired++ < 100_000, "no collection was handed off after " + retired + " retires");
                r.retire(new Object(), o -> ran.incrementAndGet());
            }
            r.flush();
            assertEquals(retired, ran.get(), "flush() returned before every object retired before it was reclaimed");
            assertEquals(0, r.stats().pending());
            for (Runnable t : List.copyOf(held)) t.run(); // the executor catches up late: nothing runs twice
            assertEquals(retired, ran.get(), "a task the flush ran ran again");
        }
    }

    @Test
    void closeWithACollectionWaitingReclaimsEverythingOnce() {
        List<Runnable> held = new ArrayList<>();
        AtomicInteger ran = new AtomicInteger();
        int retired = 0;
        try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withActionExecutor(held::add))) {
            while (held.isEmpty()) {
                assertTrue(retired++ < 100_000, "no collection was handed off after " + retired + " retires");
                r.retire(new Object(), o -> ran.incrementAndGet());
            }
        }
        assertEquals(retired, ran.get(), "close() did not reclaim every object exactly once");
        for (Runnable t : List.copyOf(held)) t.run(); // the executor runs its tasks after close(): nothing happens
        assertEquals(retired, ran.get(), "a task run after close() ran actions again");
    }
}
