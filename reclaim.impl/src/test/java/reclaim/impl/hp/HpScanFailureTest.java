package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * A hazard-pointer scan that fails halfway (a retired object's {@link Keyed#key()} throws while the scan compares
 * it with the reserved keys) loses nothing and counts exactly: what it ran is counted reclaimed, the rest waits for
 * the next scan, and in the end every action has run once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HpScanFailureTest {
    private static final long RESERVED = 7;

    /** An object retired under a key; its key() throws once while {@link #failNext} is set. */
    private record Item(int id, long key, AtomicBoolean failNext) implements Keyed {
        @Override
        public long key() {
            if (failNext.compareAndSet(true, false)) throw new IllegalStateException("deliberate failure of key() in a scan");
            return key;
        }
    }

    @Test
    void aScanThatThrowsHalfwayLosesNothingAndCountsWhatItRan() throws Exception {
        int total = 200;
        AtomicIntegerArray runs = new AtomicIntegerArray(total);
        AtomicBoolean failNext = new AtomicBoolean();
        try (Reclaimer r = Reclaimer.create(new Scheme.HazardPointers())) {
            CountDownLatch reserved = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter()) {
                    g.reserve(RESERVED, 0); // a key in a slot: the scan compares every Keyed object with it
                    reserved.countDown();
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(reserved.await(10, TimeUnit.SECONDS));
            for (int id = 0; id < total; id++) {
                long key = id == total / 2 ? RESERVED : 1000 + id; // one object is held by the reservation
                r.retire(new Item(id, key, failNext), x -> runs.incrementAndGet(x.id()));
            }
            failNext.set(true);
            // The first key() the scan calls throws: the scan stops there and the failure propagates.
            assertThrows(IllegalStateException.class, r::flush);
            Stats s = r.stats();
            int ran = 0;
            for (int i = 0; i < total; i++) {
                assertTrue(runs.get(i) <= 1, "object " + i + " reclaimed twice");
                ran += runs.get(i);
            }
            assertEquals(ran, s.reclaimed(), "the failed scan's count does not match the actions it ran: " + s);
            r.flush(); // the reservation still holds one object
            assertEquals(0, runs.get(total / 2), "reclaimed while its key was reserved");
            assertEquals(total - 1, r.stats().reclaimed(), r.stats().toString());
            release.countDown();
            reader.join();
            r.flush();
            s = r.stats();
            assertEquals(total, s.retired(), s.toString());
            assertEquals(total, s.reclaimed(), s.toString());
        }
        for (int i = 0; i < total; i++) assertEquals(1, runs.get(i), "object " + i);
    }
}
