package reclaim.impl.qsbr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;

/** QSBR beyond the conformance suite: registered executors, quiescent states, offline/online, churn. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QsbrReclaimerTest {
    private static final long STALL = TimeUnit.MILLISECONDS.toNanos(20);

    /** A QSBR reclaimer with small batches, a pass at every quiescent state and a short stall threshold. */
    static Reclaimer qsbr() {
        return Reclaimer.create(new Scheme.Qsbr(8, 0, STALL));
    }

    /** A flag that flips when reclaimed. */
    static final class Obj {
        volatile boolean reclaimed;
    }

    /** A registered executor that is online and never announces holds reclamation back, and is reported. */
    @Test
    void anOnlineRegisteredThreadThatNeverAnnouncesHoldsBackAndIsReported() throws Exception {
        try (Reclaimer r = qsbr()) {
            CountDownLatch registered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread executor = Thread.ofPlatform().start(() -> {
                try (Registration reg = r.register()) {
                    registered.countDown();
                    release.await(); // online, no quiescent state
                    reg.offline();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(registered.await(10, TimeUnit.SECONDS));
            Obj o = new Obj();
            r.retire(o, x -> x.reclaimed = true);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (r.stats().stalled() == 0 && System.nanoTime() < deadline) {
                r.flush();
                LockSupport.parkNanos(STALL / 4); // the stall threshold is a duration: poll it
            }
            assertEquals(1, r.stats().stalled());
            assertFalse(o.reclaimed, "reclaimed past an online thread that announced no quiescent state");
            release.countDown();
            executor.join();
            r.flush();
            assertTrue(o.reclaimed);
            assertEquals(0, r.stats().stalled());
        }
    }

    /**
     * A platform thread that used guards before it registers (its own record, announced in its open word only while a
     * guard is open) comes online at registration as any executor does: it holds reclamation back until its first
     * quiescent state, and not before it registered.
     */
    @Test
    void aThreadThatRegistersAfterItsFirstGuardsIsOnlineFromRegistration() throws Exception {
        try (Reclaimer r = qsbr()) {
            CountDownLatch guarded = new CountDownLatch(1);
            CountDownLatch register = new CountDownLatch(1);
            CountDownLatch registered = new CountDownLatch(1);
            CountDownLatch announce = new CountDownLatch(1);
            CountDownLatch announced = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread executor = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 3; i++) {
                        try (Guard g = r.enter()) {
                            g.protect(new AtomicReference<>(new Obj()));
                        }
                    }
                    guarded.countDown();
                    register.await();
                    try (Registration reg = r.register()) {
                        registered.countDown();
                        announce.await();
                        reg.quiescent();
                        announced.countDown();
                        done.await();
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            assertTrue(guarded.await(10, TimeUnit.SECONDS));
            Obj before = new Obj();
            r.retire(before, x -> x.reclaimed = true);
            r.flush();
            assertTrue(before.reclaimed, "a thread outside its guards and not registered held reclamation back");
            register.countDown();
            assertTrue(registered.await(10, TimeUnit.SECONDS));
            Obj o = new Obj();
            r.retire(o, x -> x.reclaimed = true);
            r.flush();
            r.flush();
            assertFalse(o.reclaimed, "reclaimed past a thread online since its registration, before its quiescent state");
            announce.countDown();
            assertTrue(announced.await(10, TimeUnit.SECONDS));
            r.flush();
            assertTrue(o.reclaimed, "quiescent() did not let reclamation pass the executor");
            done.countDown();
            executor.join();
            assertEquals(null, failure.get());
        }
    }

    /** quiescent() lets reclamation pass a registered thread; offline() makes it hold nobody back. */
    @Test
    void quiescentAndOfflineLetReclamationPass() throws Exception {
        try (Reclaimer r = qsbr()) {
            AtomicReference<Registration> reg = new AtomicReference<>();
            CountDownLatch isRegistered = new CountDownLatch(1);
            CountDownLatch step = new CountDownLatch(1);
            CountDownLatch announced = new CountDownLatch(1);
            CountDownLatch offlineNow = new CountDownLatch(1);
            CountDownLatch isOffline = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            Thread executor = Thread.ofPlatform().start(() -> {
                try (Registration g = r.register()) {
                    reg.set(g);
                    isRegistered.countDown();
                    step.await();
                    g.quiescent();
                    announced.countDown();
                    offlineNow.await();
                    g.offline();
                    isOffline.countDown();
                    done.await();
                    g.online(); // back online, then deregisters
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(isRegistered.await(10, TimeUnit.SECONDS));
            Obj a = new Obj();
            r.retire(a, x -> x.reclaimed = true);
            r.flush();
            assertFalse(a.reclaimed, "the executor has not announced a quiescent state yet");
            step.countDown();
            assertTrue(announced.await(10, TimeUnit.SECONDS));
            r.flush();
            assertTrue(a.reclaimed, "quiescent() did not let reclamation pass the executor");
            Obj b = new Obj();
            r.retire(b, x -> x.reclaimed = true);
            offlineNow.countDown();
            assertTrue(isOffline.await(10, TimeUnit.SECONDS));
            r.flush();
            assertTrue(b.reclaimed, "an offline executor held reclamation back");
            done.countDown();
            executor.join();
            assertThrows(IllegalStateException.class, () -> reg.get().quiescent()); // from another thread, and closed
        }
    }

    /** A registered thread's guards cost no announcement, and the outermost close is a quiescent state. */
    @Test
    void registeredGuardsProtectAndTheirCloseIsQuiescent() throws Exception {
        try (Reclaimer r = qsbr(); Registration reg = r.register()) {
            AtomicReference<Obj> ref = new AtomicReference<>(new Obj());
            Obj seen;
            try (Guard g = r.enter()) {
                seen = g.protect(ref);
                ref.set(new Obj());
                Thread other = Thread.ofPlatform().start(() -> {
                    r.retire(seen, x -> x.reclaimed = true);
                    r.flush();
                });
                other.join();
                assertFalse(seen.reclaimed, "reclaimed inside the registered thread's guard");
                assertThrows(IllegalStateException.class, reg::quiescent); // not inside a guard
            }
            Thread other = Thread.ofPlatform().start(r::flush);
            other.join();
            assertTrue(seen.reclaimed, "the close of the outermost guard is a quiescent state");
            reg.offline();
        }
    }

    /** Deregistration does not wait for a grace period: it hands the thread's pending objects over. */
    @Test
    void deregistrationHandsPendingObjectsOverWithoutBlocking() throws Exception {
        try (Reclaimer r = qsbr()) {
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch hold = new CountDownLatch(1);
            CountDownLatch holding = new CountDownLatch(1);
            // another thread in a guard: no grace period can complete while it holds it
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter()) {
                    holding.countDown();
                    hold.await();
                    g.protect(new AtomicReference<>("x"));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(holding.await(10, TimeUnit.SECONDS));
            Thread executor = Thread.ofPlatform().start(() -> {
                try (Registration reg = r.register()) {
                    for (int i = 0; i < 5; i++) {
                        try (Guard g = r.enter()) {
                            g.retire(i, x -> ran.incrementAndGet());
                        }
                    }
                    reg.quiescent();
                } // close() returns although a grace period is blocked by the reader
            });
            executor.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(executor.isAlive(), "deregistration blocked");
            assertEquals(0, ran.get());
            hold.countDown();
            reader.join();
            r.flush();
            assertEquals(5, ran.get(), "the deregistered thread's objects were lost");
        }
    }

    /** Threads that meet QSBR only through the common API hold nobody back between their guards. */
    @Test
    void unregisteredThreadsNeverStallReclamationOutsideTheirGuards() throws Exception {
        try (Reclaimer r = qsbr()) {
            CountDownLatch used = new CountDownLatch(1);
            CountDownLatch finish = new CountDownLatch(1);
            Thread lazy = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter()) {
                    g.protect(new AtomicReference<>("once"));
                }
                used.countDown();
                try {
                    finish.await(); // alive, never announcing a quiescent state
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(used.await(10, TimeUnit.SECONDS));
            Obj o = new Obj();
            r.retire(o, x -> x.reclaimed = true);
            r.flush();
            assertTrue(o.reclaimed, "a lazily registered thread held reclamation back outside its guards");
            finish.countDown();
            lazy.join();
        }
    }

    /** close() refuses while a registered thread is online, and completes once it is offline. */
    @Test
    void closeNeedsRegisteredThreadsOffline() {
        Reclaimer r = qsbr();
        Registration reg = r.register();
        assertThrows(IllegalStateException.class, r::close);
        reg.offline();
        r.close();
        assertTrue(r.isClosed());
        reg.close(); // a no-op after close
    }
}
