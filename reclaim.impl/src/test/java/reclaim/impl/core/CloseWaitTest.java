package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * {@code Options.closeWait()} is how long {@code close()} waits, in all, for other threads' guards and work before it
 * refuses: a long one outlasts a guard that closes only once {@code close()} has begun; zero refuses at once; the
 * waiting keeps the caller's interrupt status.
 */
class CloseWaitTest {

    static Stream<String> schemes() {
        return Stream.of("qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w");
    }

    /**
     * Opens a guard on another thread and keeps it until {@code release} is counted down; returns once the guard
     * is open.
     */
    private static Thread holdGuard(Reclaimer r, CountDownLatch release, AtomicReference<Throwable> error)
            throws InterruptedException {
        CountDownLatch open = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try (Guard g = r.enter()) {
                assertTrue(g.slots() >= 0);
                open.countDown();
                assertTrue(release.await(60, TimeUnit.SECONDS), "never released");
            } catch (Throwable e) {
                error.compareAndSet(null, e);
            }
        }, "holder");
        t.start();
        assertTrue(open.await(60, TimeUnit.SECONDS));
        return t;
    }

    /** Waits until an enter() on a fresh thread is refused: close() has begun (the core is CLOSING). */
    private static void awaitClosing(Reclaimer r) throws InterruptedException {
        while (true) {
            AtomicReference<Throwable> refused = new AtomicReference<>();
            Thread probe = new Thread(() -> {
                try (Guard g = r.enter()) {
                    assertTrue(g.slots() >= 0); // open: close() has not begun yet
                } catch (IllegalStateException e) {
                    refused.set(e);
                }
            }, "probe");
            probe.start();
            probe.join();
            if (refused.get() != null) return;
            Thread.onSpinWait();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aLongCloseWaitOutlastsAGuardThatClosesOnlyOnceCloseHasBegun(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withCloseWait(Duration.ofDays(1)));
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = holdGuard(r, release, error);
        r.retire(new Object(), o -> ran.incrementAndGet());
        Thread releaser = new Thread(() -> {
            try {
                awaitClosing(r);
                release.countDown(); // the guard closes while close() waits for it
            } catch (Throwable e) {
                error.compareAndSet(null, e);
            }
        }, "releaser");
        releaser.start();
        Thread.currentThread().interrupt(); // close() waits by parking: an interrupt must neither end nor spin it
        try {
            r.close();
            assertTrue(Thread.currentThread().isInterrupted(), scheme + ": close() kept the interrupt status");
        } finally {
            Thread.interrupted();
            release.countDown();
            holder.join();
            releaser.join();
        }
        assertEquals(null, error.get());
        assertTrue(r.isClosed(), scheme);
        assertEquals(1, ran.get(), scheme);
        Stats s = r.stats();
        assertEquals(s.retired(), s.reclaimed(), scheme + ": " + s);
    }

    /**
     * The waits clear a pending interrupt (a park would answer it at once, again and again) and restore it before
     * close() runs actions: an action close() runs sees the caller's interrupt status. Under EBR, where the action
     * runs only in close()'s drain here (no collection comes before: one retire).
     */
    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void actionsThatCloseRunsAfterWaitingSeeTheCallersInterruptStatus() throws Exception {
        Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withCloseWait(Duration.ofDays(1)));
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = holdGuard(r, release, error);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        AtomicReference<Boolean> sawInterrupt = new AtomicReference<>();
        r.retire(new Object(), o -> {
            ranOn.set(Thread.currentThread());
            sawInterrupt.set(Thread.currentThread().isInterrupted());
        });
        Thread releaser = new Thread(() -> {
            try {
                awaitClosing(r); // a thread started and ran meanwhile: close() has spun and yielded, and parks
                release.countDown();
            } catch (Throwable e) {
                error.compareAndSet(null, e);
            }
        }, "releaser");
        releaser.start();
        Thread.currentThread().interrupt();
        try {
            r.close();
            assertTrue(Thread.currentThread().isInterrupted(), "close() kept the interrupt status");
        } finally {
            Thread.interrupted();
            release.countDown();
            holder.join();
            releaser.join();
        }
        assertEquals(null, error.get());
        assertEquals(Thread.currentThread(), ranOn.get(), "the drain ran the action");
        assertEquals(Boolean.TRUE, sawInterrupt.get(), "the action saw the caller's interrupt status");
    }

    /**
     * A guard the caller holds open makes close() refuse at once, whatever else is open and however long the wait:
     * here another thread's guard stays open until close() returns, so a close() that waited for it would never
     * return.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aGuardOfTheCallersOwnMakesCloseRefuseAtOnceWhateverElseIsOpen(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withCloseWait(Duration.ofDays(1)));
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = holdGuard(r, release, error);
        try {
            try (Guard mine = r.enter()) {
                for (int attempt = 0; attempt < 2; attempt++) { // a fresh close(), then one after a refusal
                    IllegalStateException e = assertThrows(IllegalStateException.class, r::close, scheme);
                    assertTrue(e.getMessage().contains("open"), e.getMessage());
                }
                assertTrue(mine.slots() >= 0);
            }
        } finally {
            release.countDown();
            holder.join();
        }
        assertEquals(null, error.get());
        r.close();
        assertTrue(r.isClosed(), scheme);
    }

    /**
     * The same while another thread's flush holds the caller's own participant BUSY (sealing its bag, as a flush
     * does with a participant whose thread sits in a guard on the open word): the caller's guard shows in the open
     * flag, whatever the state word says. Here the BUSY is taken by hand, and given back only once close() returned.
     */
    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aGuardOfTheCallersOwnMakesCloseRefuseAtOnceWhileAFlushHoldsItsParticipant() throws Exception {
        Reclaimer r = Reclaimer.create(new Scheme.HazardPointers(), Options.DEFAULT.withCloseWait(Duration.ofDays(1)));
        Core core = ((GuardLookup) r).core;
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = holdGuard(r, release, error);
        try (Guard mine = r.enter()) {
            Participant own = null;
            for (Participant p : core.participants.all()) {
                ThreadRef h = p.holderOpaque();
                if (h != null && h.isCurrent()) own = p;
            }
            assertTrue(own != null && own.stateVolatile() == Participant.HELD, "the caller's own participant, HELD");
            Participant target = own;
            CountDownLatch taken = new CountDownLatch(1);
            CountDownLatch closeReturned = new CountDownLatch(1);
            Thread flusher = new Thread(() -> { // what Core.sealIdle does to a HELD participant
                try {
                    assertTrue(target.casState(Participant.HELD, Participant.BUSY));
                    taken.countDown();
                    assertTrue(closeReturned.await(60, TimeUnit.SECONDS));
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                } finally {
                    target.setStateRelease(Participant.HELD);
                }
            }, "flusher");
            flusher.start();
            assertTrue(taken.await(30, TimeUnit.SECONDS));
            try {
                assertThrows(IllegalStateException.class, r::close);
            } finally {
                closeReturned.countDown();
                flusher.join();
            }
            assertTrue(mine.slots() >= 0);
        } finally {
            release.countDown();
            holder.join();
        }
        assertEquals(null, error.get());
        r.close();
        assertTrue(r.isClosed());
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aCloseWaitLongerThanTheDefaultOutlastsAGuardHeldLongerThanTheDefault() throws Exception {
        Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withCloseWait(Duration.ofMinutes(1)));
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = holdGuard(r, release, error);
        long defaultWait = Options.DEFAULT_CLOSE_WAIT.toNanos();
        Thread releaser = new Thread(() -> {
            try {
                awaitClosing(r);
                long begun = System.nanoTime();
                // What is tested is a duration: the guard stays open past the default wait, then closes.
                while (System.nanoTime() - begun < defaultWait * 3 / 2) Thread.sleep(50);
                release.countDown();
            } catch (Throwable e) {
                error.compareAndSet(null, e);
            }
        }, "releaser");
        releaser.start();
        try {
            r.close(); // refused after a second with the default wait
        } finally {
            release.countDown();
            holder.join();
            releaser.join();
        }
        assertEquals(null, error.get());
        assertTrue(r.isClosed());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aZeroCloseWaitRefusesAtOnceWhileAnotherThreadsGuardIsOpen(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withCloseWait(Duration.ZERO));
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = holdGuard(r, release, error);
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, r::close);
            assertTrue(e.getMessage().contains("open"), e.getMessage());
            assertFalse(r.isClosed(), scheme);
        } finally {
            release.countDown();
            holder.join();
        }
        assertEquals(null, error.get());
        r.close(); // the guard closed: nothing to wait for
        assertTrue(r.isClosed(), scheme);
    }

    @Test
    void theDeadlineIsTheOptionsCloseWaitSaturatedAtLongMaxValue() {
        long[][] cases = {{0, 0}, {1_000_000_000L, 1_000_000_000L}, {250_000_000L, 250_000_000L}};
        for (long[] c : cases) {
            Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withCloseWait(Duration.ofNanos(c[0])));
            assertEquals(c[1], ((GuardLookup) r).core.closing().waitNanos());
            r.close();
        }
        Reclaimer d = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT);
        assertEquals(1_000_000_000L, ((GuardLookup) d).core.closing().waitNanos(), "the default: one second");
        d.close();
        Reclaimer forever = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withCloseWait(Duration.ofDays(365L * 1000)));
        assertEquals(Long.MAX_VALUE, ((GuardLookup) forever).core.closing().waitNanos());
        forever.close();
    }
}
