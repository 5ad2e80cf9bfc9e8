package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.ReclaimerHandle;

/**
 * Batch's runs of actions and the hazard-pointer scan (whole bags that no hazard holds run as they are, the others
 * are split object by object into kept and free batches): every object runs once, with the action it was retired
 * with, whether its bag ran whole, was split, kept, or requeued; an object a hazard holds does not run until released.
 */
class HpScanRunsEachObjectWithItsOwnActionTest {
    record Obj(int id) {}

    @ParameterizedTest(name = "executor={0}")
    @ValueSource(booleans = {false, true})
    void everyObjectRunsOnceWithItsOwnActionAcrossWholeSplitAndKeptBags(boolean executor) throws Exception {
        ExecutorService ex = executor ? Executors.newSingleThreadExecutor() : null;
        Options opts = executor ? Options.DEFAULT.withActionExecutor(ex) : Options.DEFAULT;
        Reclaimer r = Reclaimer.create(new Scheme.HazardPointers(), opts);
        {
            int bag = ReclaimerHandle.coreOf(r).batchSize();
            int n = bag * 7 + 3;
            Obj[] objs = new Obj[n];
            for (int i = 0; i < n; i++) objs[i] = new Obj(i);
            // Held: objects in bags 1, 4 (split bags); the other bags run whole.
            int[] held = {bag + 1, bag + bag / 2, 4 * bag, 5 * bag - 1};
            int actions = 5;
            AtomicIntegerArray ranWith = new AtomicIntegerArray(n); // action index + 1
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            AtomicReference<String> wrong = new AtomicReference<>();
            java.util.List<Consumer<Obj>> acts = new java.util.ArrayList<>();
            for (int a = 0; a < actions; a++) {
                int id = a;
                acts.add(o -> {
                    runs.incrementAndGet(o.id());
                    ranWith.set(o.id(), id + 1);
                });
            }
            // Runs of actions of varying lengths, crossing bag boundaries.
            int[] actionOf = new int[n];
            for (int i = 0, a = 0, len = 1, left = 1; i < n; i++) {
                actionOf[i] = a;
                if (--left == 0) {
                    a = (a + 1) % actions;
                    len = len % 7 + 1;
                    left = len;
                }
            }
            CountDownLatch protectedAll = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter()) {
                    for (int i = 0; i < held.length; i++) g.protect(new AtomicReference<>(objs[held[i]]), i);
                    protectedAll.countDown();
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    protectedAll.countDown();
                }
            });
            protectedAll.await();
            for (int i = 0; i < n; i++) r.retire(objs[i], acts.get(actionOf[i]));
            r.flush();
            r.flush();
            if (!executor) {
                java.util.Set<Integer> heldSet = new java.util.HashSet<>();
                for (int h : held) heldSet.add(h);
                for (int i = 0; i < n; i++) {
                    if (!heldSet.contains(i)) assertEquals(1, runs.get(i), "unheld object " + i + " did not run once in the scans while the hazards were held");
                }
            }
            int heldRan = 0;
            for (int h : held) heldRan += runs.get(h);
            release.countDown();
            reader.join();
            r.flush();
            r.flush();
            r.close();
            if (ex != null) ex.shutdown();
            assertEquals(0, heldRan, "objects a hazard held ran while it was held");
            for (int i = 0; i < n; i++) {
                assertEquals(1, runs.get(i), "object " + i + " ran " + runs.get(i) + " times");
                assertEquals(actionOf[i] + 1, ranWith.get(i), "object " + i + " ran with action " + (ranWith.get(i) - 1)
                        + ", retired with " + actionOf[i]);
            }
            assertTrue(wrong.get() == null, wrong::get);
        }
    }
}
