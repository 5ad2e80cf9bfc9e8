package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

/** What Crystalline does beyond the conformance suite. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CrystallineReclaimerTest {

    /** A flag that flips when reclaimed. */
    static final class Obj {
        volatile boolean reclaimed;
    }

    /**
     * The re-activation pitfall: protect's fast path skips the store when the slot already reserves the
     * current global era. A slot that an earlier guard left inactive, with its era still equal to the global
     * era (the era has not moved since), would then look reserved while a retirer's scan skips it as
     * inactive, so nothing would protect what the new guard read. Leaving must reset the slot so that the next
     * guard's first protect activates it again.
     */
    @Test
    void aSlotReusedInTheSameEraIsReactivated() throws Exception {
        try (Reclaimer r = Reclaimer.create("crystalline")) {
            AtomicReference<Obj> ref = new AtomicReference<>(new Obj());
            try (Guard g = r.enter()) {
                g.protect(ref, 0); // reserves the current era in slot 0
            } // leave: slot 0 inactive; the era has not moved
            try (Guard g = r.enter()) {
                Obj seen = g.protect(ref, 0); // same era: must not take the fast path on an inactive slot
                ref.set(new Obj());
                Thread other = Thread.ofPlatform().start(() -> {
                    r.retire(seen, o -> o.reclaimed = true);
                    r.flush();
                });
                other.join();
                assertFalse(seen.reclaimed, "reclaimed under a guard whose slot was not re-activated");
            }
            r.flush();
        }
    }

    /** Readers that only read run a measurable share of the reclaim actions (balanced reclamation). */
    @Test
    void readersRunAShareOfTheReclaimActions() throws Exception {
        try (Reclaimer r = Reclaimer.create("crystalline")) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong byReaders = new AtomicLong();
            AtomicLong byWriter = new AtomicLong();
            CountDownLatch started = new CountDownLatch(3);
            List<Thread> readers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                readers.add(Thread.ofPlatform().start(() -> {
                    started.countDown();
                    while (!done.get()) {
                        try (Guard g = r.enter()) {
                            g.protect(cell, 0);
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
            assertEquals(200_000, total);
            assertTrue(byReaders.get() * 20 > total, "readers ran " + byReaders.get() + " of " + total + " actions");
        }
    }

    /** A platform thread keeps one sticky record across guards: entering needs no lease. */
    @Test
    void platformThreadsKeepAStickyRecord() {
        try (Reclaimer r = Reclaimer.create("crystalline")) {
            AtomicReference<String> ref = new AtomicReference<>("x");
            for (int i = 0; i < 1000; i++) {
                try (Guard g = r.enter()) {
                    g.protect(ref, i % 3);
                    g.protect(ref);
                }
            }
            assertEquals(1, r.stats().participants());
        }
    }
}
