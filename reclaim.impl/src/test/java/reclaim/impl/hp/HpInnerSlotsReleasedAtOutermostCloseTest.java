package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;

/**
 * An inner guard's close keeps its level's hazards (and key hazards) until the outermost guard closes: what it
 * protected is not reclaimed before that, and is reclaimed after it (the outermost close releases the deeper levels
 * too, or their hazards would hold the objects for good).
 */
class HpInnerSlotsReleasedAtOutermostCloseTest {

    /** A retired object with a key, for the key-slot case. */
    record Block(long key, AtomicInteger freed) implements Keyed {}

    private static void retireAndFlushOnAnotherThread(Reclaimer r, Runnable retire) throws InterruptedException {
        Thread t = new Thread(() -> {
            retire.run();
            for (int i = 0; i < 4; i++) r.flush();
        }, "retirer");
        t.start();
        t.join();
    }

    private static void flushOnAnotherThread(Reclaimer r) throws InterruptedException {
        retireAndFlushOnAnotherThread(r, () -> {});
    }

    @Test
    @SuppressWarnings("try") // the outer guard is held open, not used
    void anInnerGuardsHazardHoldsUntilTheOutermostCloseAndNotAfter() throws Exception {
        Reclaimer r = Reclaimer.create("hp");
        AtomicReference<Object> ref = new AtomicReference<>(new Object());
        AtomicInteger freed = new AtomicInteger();
        try (Guard outer = r.enter()) {
            Object x;
            try (Guard inner = r.enter()) {
                x = inner.protect(ref, 0); // level 1, slot 0
            }
            ref.set(null);
            retireAndFlushOnAnotherThread(r, () -> r.retire(x, o -> freed.incrementAndGet()));
            assertEquals(0, freed.get(), "kept by the inner level's hazard while the outer guard is open");
        }
        flushOnAnotherThread(r);
        assertEquals(1, freed.get(), "the outermost close released the inner level's hazard");
        r.close();
    }

    @Test
    @SuppressWarnings("try") // the outer guard is held open, not used
    void anInnerGuardsKeyHazardIsReleasedByTheOutermostClose() throws Exception {
        Reclaimer r = Reclaimer.create("hp");
        AtomicInteger freed = new AtomicInteger();
        Block b = new Block(42L, freed);
        try (Guard outer = r.enter()) {
            try (Guard inner = r.enter()) {
                while (!inner.reserve(b.key(), 0)) {
                    // the caller re-reads until the reservation holds (the API's loop)
                }
            }
            retireAndFlushOnAnotherThread(r, () -> r.retire(b, o -> o.freed().incrementAndGet()));
            assertEquals(0, freed.get(), "kept by the inner level's key hazard while the outer guard is open");
        }
        flushOnAnotherThread(r);
        assertEquals(1, freed.get(), "the outermost close released the inner level's key hazard");
        r.close();
    }
}
