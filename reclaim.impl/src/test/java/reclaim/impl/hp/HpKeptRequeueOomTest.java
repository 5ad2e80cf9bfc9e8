package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Field;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.Batch;
import reclaim.impl.core.Core;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.core.SealedBags;

/**
 * Review: HpPolicy.collect requeues a full "kept" bag with store.add(kept) before setting kept = null; if that
 * add fails (OutOfMemoryError in the queue's node allocation), the finally requeues both the rest of the bag being
 * judged (from index at, which includes the object just added to kept) and kept: that object runs twice.
 */
class HpKeptRequeueOomTest {
    record H(int id) {}
    record U(int id) {}

    static final AtomicBoolean armed = new AtomicBoolean();

    /** Throws once, while armed, when the bag added holds only hazarded objects (the scan's kept bag). */
    static final class FailingQueue extends ConcurrentLinkedQueue<Batch> {
        private static final long serialVersionUID = 1L;
        @Override
        public boolean add(Batch b) {
            if (b.size() > 1 && allH(b) && armed.compareAndSet(true, false)) {
                throw new OutOfMemoryError("injected: queue node allocation");
            }
            return super.add(b);
        }

        private static boolean allH(Batch b) {
            for (int i = 0; i < b.size(); i++) if (!(b.object(i) instanceof H)) return false;
            return true;
        }
    }

    @Test
    void keptBagRequeueFailureRunsAnObjectTwice() throws Exception {
        try (Reclaimer r = Reclaimer.create(new Scheme.HazardPointers())) {
            Core core = ReclaimerHandle.coreOf(r);
            Field q = SealedBags.class.getDeclaredField("queue");
            q.setAccessible(true);
            q.set(core.sealed, new FailingQueue());
            int bs = core.batchSize();
            int n = bs; // exactly one full kept bag
            H[] hs = new H[n];
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            for (int i = 0; i < n; i++) hs[i] = new H(i);
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter()) {
                    for (int i = 0; i < n; i++) g.protect(new AtomicReference<>(hs[i]));
                    held.countDown();
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            held.await();
            for (int i = 0; i < n; i++) {
                r.retire(hs[i], h -> runs.incrementAndGet(h.id()));
                r.retire(new U(i), u -> {});
            }
            armed.set(true);
            assertThrows(OutOfMemoryError.class, r::flush);
            release.countDown();
            reader.join();
            r.flush();
            r.flush();
            for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "object H(" + i + ") ran " + runs.get(i) + " times");
        }
    }
}
