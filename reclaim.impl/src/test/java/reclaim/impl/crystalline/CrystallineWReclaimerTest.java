package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.crystalline.WaitFreeReservations.Request;

/** What Crystalline-W does beyond the conformance suite: the slow path, helping, its bound, record reuse. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CrystallineWReclaimerTest {

    /** A node stamped with the era at its creation, flagged when reclaimed. */
    static final class Node implements Born {
        final long birth;
        volatile boolean reclaimed;

        Node(long birth) {
            this.birth = birth;
        }

        @Override
        public long birthEra() {
            return birth;
        }
    }

    private static Reclaimer create(int batchSize, int fastAttempts) {
        return CrystallineWPolicy.create(new Scheme.Crystalline(batchSize, 4, true), fastAttempts);
    }

    @Test
    void theNameSelectsTheWaitFreeVariant() {
        assertEquals(new Scheme.Crystalline(64, 8, true), Scheme.named("crystalline-w"));
        assertEquals("crystalline-w", Scheme.named("crystalline-w").name());
        assertFalse(new Scheme.Crystalline(64, 8).waitFree());
        try (Reclaimer r = Reclaimer.create("crystalline-w"); Reclaimer l = Reclaimer.create("crystalline")) {
            assertInstanceOf(CrystallineWPolicy.class, ReclaimerHandle.coreOf(r).policy());
            assertInstanceOf(CrystallinePolicy.class, ReclaimerHandle.coreOf(l).policy());
            assertEquals("crystalline-w", r.stats().scheme());
        }
    }

    /**
     * A reader stalls right after publishing its request; another thread's retires advance the era, and each
     * advance first completes the request: the result is the source's value, the reader's slot reserves the
     * result's era, and the value stays unreclaimed after the writer unlinks and retires it.
     */
    @Test
    void anAdvancerCompletesAStalledRequestAndTheResultStaysProtected() throws Exception {
        try (Reclaimer r = create(1, 16)) { // batches of one: every retire advances the era
            Node first = new Node(r.era());
            AtomicReference<Node> ref = new AtomicReference<>(first);
            try (Guard g = r.enter()) {
                CrystallineWGuard wg = (CrystallineWGuard) g;
                Request q = wg.stallInSlowPath(ref, 0);
                assertTrue(q.pending());
                assertEquals(1, CrystallineWPolicy.of(r).slowCount());
                Thread writer = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 1000; i++) {
                        Node old = ref.getAndSet(new Node(r.era()));
                        r.retire(old, n -> n.reclaimed = true);
                    }
                    r.flush();
                });
                writer.join();
                assertFalse(q.pending(), "the era advanced 1000 times without helping the request");
                Node got = (Node) q.result().value(); // read by the first advance's helper: a node the writer made
                assertFalse(got == first || got == ref.get(), "read before the first advance, or after the last");
                assertTrue(wg.reservedEra(0) >= q.result().era(), "the slot does not reserve the result's era");
                assertTrue(CrystallineWPolicy.of(r).helpedCount() >= 1);
                assertSame(got, wg.resumeSlowPath(q, 0));
                assertEquals(0, CrystallineWPolicy.of(r).slowCount());
                assertFalse(got.reclaimed, "the helped value was reclaimed while its reader holds it");
            }
            r.flush();
            assertTrue(first.reclaimed, "not reclaimed once the reader left");
        }
    }

    /**
     * A reader stalled in the slow path holds one index at one era: over many retires of Born nodes the
     * pending objects stay under the stated bound, and the bound itself stays small.
     */
    @Test
    void aReaderStalledInTheSlowPathKeepsPendingObjectsBounded() throws Exception {
        try (Reclaimer r = create(8, 16)) {
            AtomicReference<Node> ref = new AtomicReference<>(new Node(r.era()));
            CountDownLatch stalled = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicReference<Node> held = new AtomicReference<>();
            AtomicBoolean reclaimedWhileHeld = new AtomicBoolean();
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter()) {
                    CrystallineWGuard wg = (CrystallineWGuard) g;
                    Request q = wg.stallInSlowPath(ref, 1);
                    stalled.countDown();
                    release.await();
                    Node n = (Node) wg.resumeSlowPath(q, 1);
                    held.set(n);
                    if (n.reclaimed) reclaimedWhileHeld.set(true);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(stalled.await(10, TimeUnit.SECONDS));
            long maxPending = 0;
            for (int i = 0; i < 50_000; i++) {
                Node old = ref.getAndSet(new Node(r.era()));
                r.retire(old, n -> n.reclaimed = true);
                if ((i & 255) == 0) {
                    long pending = r.stats().pending();
                    maxPending = Math.max(maxPending, pending);
                    assertTrue(pending <= r.pendingBound(), pending + " pending over the bound " + r.pendingBound());
                }
            }
            assertTrue(maxPending < 2_000, "pending grew to " + maxPending + " under a stalled slow path");
            release.countDown();
            reader.join();
            assertFalse(reclaimedWhileHeld.get(), "the helped value was reclaimed while its reader held it");
            assertTrue(held.get() != null);
            r.flush();
            assertEquals(r.stats().retired(), r.stats().reclaimed());
        }
    }

    /**
     * With the fast path cut to one try (or none) and the era moving all the time, readers go through the slow
     * path and are helped; nothing they protect is reclaimed before their guard closes.
     */
    @Test
    void readersOnTheSlowPathUnderAMovingEraNeverSeeAReclaimedNode() throws Exception {
        for (int fast : new int[] {0, 1}) {
            try (Reclaimer r = create(1, fast)) {
                AtomicReference<Node> ref = new AtomicReference<>(new Node(r.era()));
                AtomicBoolean done = new AtomicBoolean();
                AtomicLong reads = new AtomicLong();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            while (!done.get()) {
                                try (Guard g = r.enter()) {
                                    Node a = g.protect(ref, 0);
                                    Node b = g.protect(ref);
                                    for (int spin = 0; spin < 20; spin++) Thread.onSpinWait();
                                    if (a.reclaimed || b.reclaimed) throw new AssertionError("reclaimed under a guard");
                                    reads.incrementAndGet();
                                }
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }));
                }
                for (int w = 0; w < 2; w++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        while (!done.get()) {
                            Node old = ref.getAndSet(new Node(r.era()));
                            r.retire(old, n -> n.reclaimed = true);
                        }
                    }));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while ((reads.get() < 20_000 || CrystallineWPolicy.of(r).helpedCount() == 0) && System.nanoTime() < deadline) Thread.sleep(10);
                done.set(true);
                for (Thread t : threads) t.join();
                if (failure.get() != null) throw new AssertionError(failure.get());
                assertTrue(reads.get() > 0);
                assertTrue(CrystallineWPolicy.of(r).helpedCount() > 0, "no slow path was completed by a helper (fast = " + fast + ")");
                assertEquals(0, CrystallineWPolicy.of(r).slowCount());
                r.flush();
                assertEquals(r.stats().retired(), r.stats().reclaimed());
            }
        }
    }

    /**
     * Thousands of short-lived platform and virtual threads, a few at a time: records are reused (dead
     * threads' sticky records are swept, virtual threads lease per guard), so the registry stays small.
     */
    @Test
    void recordsAreReusedUnderThreadChurn() throws Exception {
        try (Reclaimer r = Reclaimer.create("crystalline-w")) {
            AtomicReference<Object> ref = new AtomicReference<>(new Object());
            Runnable body = () -> {
                try (Guard g = r.enter()) {
                    g.protect(ref, 0);
                    g.retire(ref.getAndSet(new Object()), o -> {});
                }
            };
            for (int round = 0; round < 500; round++) { // 2000 platform threads, 4 at a time
                Thread[] ts = new Thread[4];
                for (int i = 0; i < ts.length; i++) ts[i] = Thread.ofPlatform().start(body);
                for (Thread t : ts) t.join();
            }
            int afterPlatform = r.stats().participants();
            assertTrue(afterPlatform <= 16, afterPlatform + " records after 2000 short-lived platform threads");
            try (ExecutorService vs = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 5000; i++) vs.submit(body);
            }
            int afterVirtual = r.stats().participants();
            assertTrue(afterVirtual <= 64, afterVirtual + " records after 5000 virtual threads");
            r.flush();
            assertEquals(r.stats().retired(), r.stats().reclaimed());
        }
    }

    /** The fast path allocates nothing and leaves no request behind. */
    @Test
    void theFastPathPublishesNoRequest() {
        try (Reclaimer r = create(64, 16)) {
            AtomicReference<String> ref = new AtomicReference<>("x");
            try (Guard g = r.enter()) {
                assertEquals("x", g.protect(ref, 0));
                assertEquals("x", g.protect(ref, 0));
                assertEquals(0, CrystallineWPolicy.of(r).slowCount());
                assertEquals(0, CrystallineWPolicy.of(r).helpedCount());
            }
            try (Guard g = r.enter()) { // the re-activation pitfall: a new guard starts with its slots inactive
                assertEquals(WaitFreeReservations.INACTIVE, ((CrystallineWGuard) g).reservedEra(0));
            }
        }
    }

    /**
     * Retires racing flushes: a flush holds a retirer's sticky record BUSY for the moment of a seal, and the
     * retirer then seals its object alone and inserts it instead of waiting (the wait-free retire). Nothing
     * is lost or reclaimed twice, and nothing hangs.
     */
    @Test
    void retiresRacingFlushesLoseNothing() throws Exception {
        Reclaimer r = Reclaimer.create(new Scheme.Crystalline(4, 4, true));
        int retirers = 2;
        int each = 40_000;
        AtomicLong actions = new AtomicLong();
        AtomicLong twice = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < retirers; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < each; i++) {
                    AtomicLong once = new AtomicLong();
                    if ((i & 3) == 0) {
                        try (Guard g = r.enter()) {
                            g.retire(once, o -> {
                                if (o.incrementAndGet() > 1) twice.incrementAndGet();
                                actions.incrementAndGet();
                            });
                        }
                    } else {
                        r.retire(once, o -> {
                            if (o.incrementAndGet() > 1) twice.incrementAndGet();
                            actions.incrementAndGet();
                        });
                    }
                }
            }));
        }
        Thread flusher = Thread.ofPlatform().start(() -> {
            while (!done.get()) r.flush();
        });
        for (Thread t : threads) t.join();
        done.set(true);
        flusher.join();
        r.close();
        assertEquals(0, twice.get(), "an action ran twice");
        assertEquals((long) retirers * each, actions.get(), "every retired object reclaimed once by close()");
        assertEquals(r.stats().retired(), r.stats().reclaimed());
    }
}
