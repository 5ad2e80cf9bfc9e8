package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A flush() by the only user thread, outside any guard, while the executor runs a collection task that took the sealed
 * bags before the flush's own collection looked: flush must not return before the batches that collection hands off
 * have run. The interleaving is driven step by step (the executor's thread is held inside its first hand-off, and
 * released by the first action the flush runs); whether the flush's walk of the outstanding tasks has already passed
 * the bucket of a batch handed off meanwhile depends on identity hashes, so the scenario is repeated. A flush that
 * waits for the running collection first (in a Backoff park) gets it released by a watcher instead.
 */
class FlushRacingACollectionTaskTest {

    private static final int ATTEMPTS = 40;

    @Test
    void flushWaitsForTheBatchesOfACollectionTaskThatEndsDuringItsWalk() throws Exception {
        int raced = 0;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            if (attempt(attempt)) raced++;
        }
        assertTrue(raced > 0, "the interleaving was never reached");
    }

    /** One attempt; returns whether the interleaving was reached (the flush ran the first hand-off itself). */
    private static boolean attempt(int attempt) throws Exception {
        List<Runnable> held = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Thread> runner = new AtomicReference<>();
        AtomicInteger handOffsOnRunner = new AtomicInteger();
        Executor executor = task -> {
            held.add(task);
            if (Thread.currentThread() == runner.get() && handOffsOnRunner.getAndIncrement() == 0) {
                paused.countDown();
                awaitUninterruptibly(release); // the collection task stops here, its first batch handed off
            }
        };
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Runnable> onFirstAction = new AtomicReference<>();
        int retired = 0;
        boolean raced;
        try (Reclaimer r = Reclaimer.create(new Scheme.Hyaline(), Options.DEFAULT.withActionExecutor(executor))) {
            Core core = ReclaimerHandle.coreOf(r);
            while (held.isEmpty()) {
                assertTrue(retired++ < 100_000, "no collection was handed off after " + retired + " retires");
                r.retire(new Object(), o -> action(ran, onFirstAction));
            }
            HandOff.Task collection = (HandOff.Task) held.get(0);
            assertTrue(collection.isCollection(), "the first hand-off is not a collection: " + held);
            // Two more bags for the waiting collection (each due collection that finds it waiting leaves its bags).
            for (int i = 0; i < 2 * core.batchSize; i++, retired++) r.retire(new Object(), o -> action(ran, onFirstAction));
            Thread t = new Thread(collection, "executor-" + attempt);
            runner.set(t);
            t.start();
            awaitUninterruptibly(paused); // the task took every bag and handed off its first batch; it waits
            Set<HandOff.Task> outstanding = outstanding(core);
            HandOff.Task first = null;
            for (HandOff.Task x : outstanding) {
                if (x != collection && first == null) first = x;
                if (x == collection) break;
            }
            raced = first != null; // the flush's walk meets the first batch before the running collection
            Thread watcher = null;
            if (raced) {
                onFirstAction.set(() -> { // run by the flush, in its walk: the collection ends meanwhile
                    release.countDown();
                    join(t);
                });
                // A flush that waits for the running collection before it walks (as it must) gets it released here.
                Thread flusher = Thread.currentThread();
                watcher = new Thread(() -> {
                    while (release.getCount() > 0) {
                        if (LockSupport.getBlocker(flusher) instanceof Backoff) release.countDown();
                        else Thread.onSpinWait();
                    }
                }, "watcher-" + attempt);
                watcher.start();
            } else { // the walk would wait for the collection, which waits for us: let it end first
                release.countDown();
                t.join();
            }
            r.flush();
            if (watcher != null) {
                release.countDown();
                watcher.join();
            }
            t.join();
            assertEquals(retired, ran.get(), "attempt " + attempt + ": flush() returned before every object retired"
                    + " before it was reclaimed (still held: " + held.stream().filter(x -> ((HandOff.Task) x)
                    .stateAcquire() == HandOff.QUEUED).toList() + ")");
        }
        assertEquals(retired, ran.get(), "close() did not reclaim every object exactly once");
        return raced;
    }

    private static void action(AtomicInteger ran, AtomicReference<Runnable> onFirstAction) {
        ran.incrementAndGet();
        Runnable hook = onFirstAction.getAndSet(null);
        if (hook != null) hook.run();
    }

    @SuppressWarnings("unchecked")
    private static Set<HandOff.Task> outstanding(Core core) throws ReflectiveOperationException {
        Field h = Core.class.getDeclaredField("handOff");
        h.setAccessible(true);
        Field o = HandOff.class.getDeclaredField("outstanding");
        o.setAccessible(true);
        return (Set<HandOff.Task>) o.get(h.get(core));
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        while (true) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
