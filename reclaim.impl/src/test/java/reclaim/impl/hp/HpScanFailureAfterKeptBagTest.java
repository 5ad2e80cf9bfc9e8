package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.Core;
import reclaim.impl.core.ReclaimerHandle;

/**
 * A hazard-pointer scan that fails part-way (a {@link Keyed#key()} that throws) just after it put a full bag of
 * protected objects back in the store runs no object twice and loses none: the objects it kept are the store's, the
 * objects not judged yet go back once, and every one runs exactly once when the reader has left.
 */
class HpScanFailureAfterKeptBagTest {
    record H(int id) {}

    /** A keyed object whose key() fails once while armed. */
    static final class K implements Keyed {
        final AtomicBoolean armed;

        K(AtomicBoolean armed) {
            this.armed = armed;
        }

        @Override
        public long key() {
            if (armed.compareAndSet(true, false)) throw new IllegalStateException("injected: key() failed");
            return 0x5EED;
        }
    }

    private final AtomicBoolean reserved = new AtomicBoolean();

    @Test
    void aScanThatFailsAfterKeepingAFullBagRunsEveryObjectOnce() throws Exception {
        try (Reclaimer r = Reclaimer.create(new Scheme.HazardPointers())) {
            Core core = ReclaimerHandle.coreOf(r);
            int n = core.batchSize(); // exactly one full kept bag
            H[] hs = new H[n];
            for (int i = 0; i < n; i++) hs[i] = new H(i);
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            AtomicInteger keyedRuns = new AtomicInteger();
            AtomicBoolean armed = new AtomicBoolean();
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter()) {
                    for (int i = 0; i < n; i++) g.protect(new AtomicReference<>(hs[i]));
                    // A key in a slot: the scan asks retired Keyed objects theirs. The first call publishes it and
                    // asks for a re-read; the second, of the same key, confirms it.
                    while (!g.reserve(0x1234, 0)) Thread.onSpinWait();
                    reserved.set(true);
                    held.countDown();
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    held.countDown(); // never leave the test waiting, whatever failed
                }
            });
            held.await();
            assertTrue(reserved.get(), "the reader failed to protect its objects");
            for (int i = 0; i < n; i++) r.retire(hs[i], h -> runs.incrementAndGet(h.id()));
            r.retire(new K(armed), k -> keyedRuns.incrementAndGet());
            for (int i = 0; i < n; i++) r.retire(new Object(), o -> {});
            armed.set(true);
            // The scan keeps the H bag, then fails on K's key(): the failure reaches the caller of flush(). Checked
            // once the reader has left, so that a failed check cannot leave close() waiting for its guard.
            Throwable failure = null;
            try {
                r.flush();
            } catch (IllegalStateException e) {
                failure = e;
            }
            int ranWhileProtected = 0;
            for (int i = 0; i < n; i++) ranWhileProtected += runs.get(i);
            release.countDown();
            reader.join();
            assertTrue(failure != null && failure.getMessage().startsWith("injected"), "flush() did not fail: " + failure);
            assertEquals(0, ranWhileProtected, "protected objects ran during the failed scan");
            r.flush();
            r.flush();
            for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "H(" + i + ") ran " + runs.get(i) + " times");
            assertEquals(1, keyedRuns.get(), "the keyed object ran " + keyedRuns.get() + " times");
            assertEquals(0, r.stats().pending());
        }
    }
}
