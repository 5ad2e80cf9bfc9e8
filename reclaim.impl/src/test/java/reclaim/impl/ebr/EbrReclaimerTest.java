package reclaim.impl.ebr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/** What EBR does beyond the conformance suite: stall detection, record leases, registration. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EbrReclaimerTest {

    /**
     * A guard that stays open freezes the epoch: EBR cannot bound garbage, so it must report the stall in
     * Stats, and recover once the guard closes.
     */
    @Test
    void aStalledGuardIsDetectedAndReported() throws Exception {
        long threshold = TimeUnit.MILLISECONDS.toNanos(20);
        try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(8, 4, threshold))) {
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread stalled = Thread.ofPlatform().name("stalled-reader").start(() -> {
                try (Guard g = r.enter()) {
                    inside.countDown();
                    release.await();
                    g.protect(new AtomicReference<>("still reading"));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(inside.await(10, TimeUnit.SECONDS));
            AtomicInteger ran = new AtomicInteger();
            int retired = 0;
            long start = System.nanoTime();
            Stats s = r.stats();
            // Retire and flush until the stall has lasted past the threshold (a time condition, polled).
            while (s.stalled() == 0 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20)) {
                for (int i = 0; i < 100; i++, retired++) r.retire(i, x -> ran.incrementAndGet());
                r.flush();
                LockSupport.parkNanos(threshold / 4);
                s = r.stats();
            }
            assertEquals(1, s.stalled(), "the stalled guard was not reported: " + s);
            // Everything retired after the reader pinned is held back: EBR's garbage is unbounded.
            assertEquals(0, ran.get());
            assertEquals(retired, s.pending());
            release.countDown();
            stalled.join();
            r.flush();
            assertEquals(retired, ran.get());
            assertEquals(0, r.stats().stalled());
            assertEquals(0, r.stats().pending());
        }
    }

    /** Under fences too, a platform thread keeps one participant, and one whose thread ended is swept and reused. */
    @Test
    void fenceStrategyKeepsOneParticipantPerLiveThread() throws Exception {
        keepsOneParticipantPerLiveThread(Options.Barrier.FENCE);
    }

    @Test
    void asymmetricStrategyKeepsOneParticipantPerLiveThread() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Reclaimer.create("ebr").stats().barrier() == Options.Barrier.ASYMMETRIC,
                "the asymmetric strategy is unavailable in this JVM");
        keepsOneParticipantPerLiveThread(Options.Barrier.ASYMMETRIC);
    }

    private static void keepsOneParticipantPerLiveThread(Options.Barrier barrier) throws Exception {
        try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withBarrier(barrier))) {
            AtomicReference<String> ref = new AtomicReference<>("x");
            for (int i = 0; i < 1_000; i++) {
                try (Guard g = r.enter()) {
                    g.protect(ref);
                    try (Guard inner = r.enter()) {
                        inner.protect(ref);
                    }
                }
            }
            assertEquals(1, r.stats().participants());
            // each thread keeps a participant while it lives; one that ended is swept and its participant reused
            for (int t = 0; t < 50; t++) {
                Thread th = Thread.ofPlatform().start(() -> {
                    try (Guard g = r.enter()) {
                        g.protect(ref);
                    }
                });
                th.join();
            }
            assertEquals(2, r.stats().participants());
        }
    }

    /** Virtual threads lease a participant per outermost guard and give it back: sequential ones reuse one. */
    @Test
    void virtualThreadsLeaseAParticipantPerGuardAndReuseIt() throws Exception {
        for (Options.Barrier barrier : new Options.Barrier[] {Options.Barrier.FENCE, Options.Barrier.AUTO}) {
            try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withBarrier(barrier))) {
                AtomicReference<String> ref = new AtomicReference<>("x");
                for (int t = 0; t < 50; t++) {
                    Thread th = Thread.ofVirtual().start(() -> {
                        for (int i = 0; i < 100; i++) {
                            try (Guard g = r.enter()) {
                                g.protect(ref);
                            }
                        }
                    });
                    th.join();
                }
                assertEquals(1, r.stats().participants(), barrier.toString());
            }
        }
    }

    /** A registration reserves a record until it is closed; then the record is free for others. */
    @Test
    void registrationReservesARecord() throws Exception {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            AtomicInteger ran = new AtomicInteger();
            try (Registration reg = r.register()) {
                assertEquals(1, r.stats().participants());
                for (int i = 0; i < 1000; i++) {
                    try (Guard g = r.enter()) {
                        g.retire(i, x -> ran.incrementAndGet());
                    }
                }
                // another thread cannot take the reserved record: it leases a second one
                Thread other = Thread.ofPlatform().start(() -> {
                    try (Guard g = r.enter()) {
                        g.retire(-1, x -> ran.incrementAndGet());
                    }
                });
                other.join();
                assertEquals(2, r.stats().participants());
                assertFalse(reg.toString().isEmpty());
            }
            // the registration's partial bag was handed over: flush from another thread reclaims it
            Thread flusher = Thread.ofPlatform().start(r::flush);
            flusher.join();
            assertEquals(1001, ran.get());
            // and its record is free again
            Thread again = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter(); Guard g2 = r.enter()) {
                    g.protect(new AtomicReference<>("x"));
                    g2.protect(new AtomicReference<>("y"));
                }
            });
            again.join();
            assertEquals(2, r.stats().participants());
        }
    }

    /** era() is monotone and moves as the epoch advances. */
    @Test
    void eraAdvancesWithTheEpoch() {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            long e0 = r.era();
            assertTrue(e0 >= 1);
            r.retire("x", x -> {});
            r.flush();
            assertTrue(r.era() > e0, "flush with no guard open advances the epoch");
        }
    }

    /** The leak baseline reclaims nothing before close, whatever the flushes. */
    @Test
    void noneReclaimsOnlyAtClose() {
        AtomicInteger ran = new AtomicInteger();
        Reclaimer r = Reclaimer.create("none");
        for (int i = 0; i < 1000; i++) r.retire(i, x -> ran.incrementAndGet());
        r.flush();
        assertEquals(0, ran.get());
        assertEquals(1000, r.stats().pending());
        r.close();
        assertEquals(1000, ran.get());
    }
}
