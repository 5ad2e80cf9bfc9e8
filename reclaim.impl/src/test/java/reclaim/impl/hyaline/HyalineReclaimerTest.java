package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/** What Hyaline does beyond the conformance suite: balanced reclamation, the non-robust variant. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HyalineReclaimerTest {

    /**
     * One writer retires, several readers only read: under Hyaline the last leaver of a batch reclaims it,
     * so the readers run a measurable share of the reclaim actions (the writer does not reclaim alone).
     */
    @Test
    void readersRunAShareOfTheReclaimActions() throws Exception {
        try (Reclaimer r = Reclaimer.create("hyaline")) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong byReaders = new AtomicLong();
            AtomicLong byWriter = new AtomicLong();
            List<Thread> readers = new ArrayList<>();
            CountDownLatch started = new CountDownLatch(3);
            for (int i = 0; i < 3; i++) {
                readers.add(Thread.ofPlatform().name("reader-" + i).start(() -> {
                    started.countDown();
                    while (!done.get()) {
                        try (Guard g = r.enter()) {
                            g.protect(cell);
                            Thread.onSpinWait();
                        }
                    }
                }));
            }
            assertTrue(started.await(10, TimeUnit.SECONDS));
            Thread writer = Thread.currentThread();
            for (int i = 0; i < 200_000; i++) {
                Object old = cell.getAndSet(new Object());
                r.retire(old, o -> (Thread.currentThread() == writer ? byWriter : byReaders).incrementAndGet());
            }
            done.set(true);
            for (Thread t : readers) t.join();
            r.flush();
            long total = byReaders.get() + byWriter.get();
            assertTrue(byReaders.get() * 20 > total,
                    "readers ran " + byReaders.get() + " of " + total + " reclaim actions: reclamation is not balanced");
        }
    }

    /** The non-robust variant is not robust, and reports a stalled reader instead. */
    @Test
    void theNonRobustVariantSaysSo() {
        try (Reclaimer r = Reclaimer.create(new Scheme.Hyaline(64, false))) {
            assertEquals(false, r.scheme().robust());
            assertEquals(Long.MAX_VALUE, r.pendingBound());
            AtomicReference<String> ref = new AtomicReference<>("x");
            try (Guard g = r.enter()) {
                assertEquals("x", g.protect(ref));
            }
        }
    }
}
