package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * Promises of the public javadoc of {@code reclaim.api} that the conformance suite does not check, for every
 * scheme ({@link Reclaimer#availableSchemes()} and {@code crystalline-w}) under both barrier strategies: the
 * figures of {@link Stats} and their names, {@link Reclaimer#pendingBound()} against {@link Scheme#robust()},
 * {@link Reclaimer#era()}, containment of an action that throws an {@link Error}, what a refused {@code close()}
 * still refuses, every misuse of a {@link Registration}, a thread guard used from another thread, the exact slot
 * range, timed grace periods, and owned guards refused from reclaim actions.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ApiContractProbeTest {

    static Stream<Arguments> schemes() {
        List<String> names = new ArrayList<>(Reclaimer.availableSchemes());
        names.add("crystalline-w");
        List<Options.Barrier> barriers = List.of(Options.Barrier.FENCE, Options.Barrier.ASYMMETRIC);
        List<Arguments> out = new ArrayList<>();
        for (String n : names) {
            for (Options.Barrier b : barriers) out.add(Arguments.of(n, b));
        }
        return out.stream();
    }

    /** Creates the reclaimer, or skips ASYMMETRIC where the platform refuses it (as documented). */
    private static Reclaimer create(String name, Options.Barrier barrier) {
        try {
            return Reclaimer.create(Scheme.named(name), Options.fromSystemProperties().withBarrier(barrier));
        } catch (IllegalArgumentException e) {
            org.junit.jupiter.api.Assumptions.assumeTrue(barrier != Options.Barrier.ASYMMETRIC,
                    "asymmetric barrier unavailable: " + e.getMessage());
            throw e;
        }
    }

    private static void closeQuietly(Reclaimer r) {
        if (!r.isClosed()) r.close();
    }

    /** Stats name the scheme and the barrier in use, and toString() has the documented shape. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void statsNameTheSchemeAndTheBarrierInUse(String name, Options.Barrier barrier) {
        Reclaimer r = create(name, barrier);
        try {
            assertEquals(name, r.scheme().name());
            assertEquals(Scheme.named(name), r.scheme());
            Stats s = r.stats();
            assertEquals(name, s.scheme());
            assertEquals(barrier, s.barrier(), "Stats.barrier() of a reclaimer created with " + barrier);
            assertEquals("Stats[scheme=" + name + ", retired=" + s.retired() + ", reclaimed=" + s.reclaimed()
                    + ", pending=" + s.pending() + ", failed=" + s.failed() + ", stalled=" + s.stalled()
                    + ", participants=" + s.participants() + ", barrier="
                    + barrier.name().toLowerCase(java.util.Locale.ROOT) + "]", s.toString());
        } finally {
            closeQuietly(r);
        }
    }

    /** pendingBound() is finite and positive exactly for robust schemes, Long.MAX_VALUE for the others. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void pendingBoundIsFiniteExactlyForRobustSchemes(String name, Options.Barrier barrier) {
        Reclaimer r = create(name, barrier);
        try {
            long bound = r.pendingBound();
            if (r.scheme().robust()) {
                assertTrue(bound > 0 && bound < Long.MAX_VALUE, name + " is robust but its bound is " + bound);
            } else {
                assertEquals(Long.MAX_VALUE, bound, name + " is not robust but states a bound");
            }
        } finally {
            closeQuietly(r);
        }
        Reclaimer plain = Reclaimer.create(new Scheme.Hyaline(64, false), Options.fromSystemProperties().withBarrier(Options.Barrier.FENCE));
        try {
            assertFalse(plain.scheme().robust());
            assertEquals(Long.MAX_VALUE, plain.pendingBound(), "non-robust Hyaline states a bound");
        } finally {
            plain.close();
        }
    }

    /** era() is at least 1 and never goes back. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void eraIsPositiveAndMonotone(String name, Options.Barrier barrier) {
        Reclaimer r = create(name, barrier);
        try {
            long last = r.era();
            assertTrue(last >= 1, "era " + last);
            for (int i = 0; i < 2_000; i++) {
                try (Guard g = r.enter()) {
                    g.retire(new Object(), o -> {});
                }
                if (i % 100 == 0) r.flush();
                long e = r.era();
                assertTrue(e >= last, "era went back from " + last + " to " + e);
                last = e;
            }
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * Containment covers every throwable: an action that throws an Error (an assertion in a test, say) is counted
     * in failed() and reclaimed(), and the other actions still run, by flush() and by close().
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void anActionThatThrowsAnErrorIsContained(String name, Options.Barrier barrier) {
        Reclaimer r = create(name, barrier);
        AtomicInteger ran = new AtomicInteger();
        try {
            for (int i = 0; i < 40; i++) {
                if (i % 10 == 3) {
                    r.retire(i, x -> {
                        throw new AssertionError("deliberate error in action " + x);
                    });
                } else {
                    r.retire(i, x -> ran.incrementAndGet());
                }
            }
            assertDoesNotThrow(r::flush);
            assertDoesNotThrow(r::close);
            Stats s = r.stats();
            assertEquals(36, ran.get());
            assertEquals(40, s.retired());
            assertEquals(40, s.reclaimed());
            assertEquals(4, s.failed());
            assertEquals(0, s.pending());
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * flush() with no guard open reclaims everything retired before it, also what a live, idle, unregistered
     * thread retired (inside a guard and outside) and left in its partly filled batch.
     *
     * @throws Exception if the other thread fails
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void flushReclaimsWhatALiveIdleThreadRetired(String name, Options.Barrier barrier) throws Exception {
        Reclaimer r = create(name, barrier);
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch retired = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("idle-retirer").start(() -> {
            try {
                for (int i = 0; i < 3; i++) r.retire(new Object(), o -> ran.incrementAndGet());
                try (Guard g = r.enter()) {
                    for (int i = 0; i < 2; i++) g.retire(new Object(), o -> ran.incrementAndGet());
                }
                retired.countDown();
                release.await();
            } catch (Throwable e) {
                failure.set(e);
                retired.countDown();
            }
        });
        try {
            assertTrue(retired.await(60, TimeUnit.SECONDS));
            r.flush();
            if (!name.equals("none")) {
                assertEquals(5, ran.get(), "objects a live idle thread retired, after flush(): " + r.stats());
                assertEquals(0, r.stats().pending(), r.stats().toString());
            }
        } finally {
            release.countDown();
            t.join();
            closeQuietly(r);
        }
        assertEquals(null, failure.get());
        assertEquals(5, ran.get());
    }

    /**
     * After close() refused because a guard is open on another thread: retires from other threads and new owned
     * guards are refused, the open guard's refresh() does nothing and returns false, a timed synchronize() waits
     * for the guard; once it closes close() completes and everything ran once.
     *
     * @throws Exception if the other thread fails
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void aRefusedCloseRefusesRetiresFromOtherThreadsAndRefreshes(String name, Options.Barrier barrier) throws Exception {
        Reclaimer r = create(name, barrier);
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch refused = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<Boolean> refreshed = new AtomicReference<>();
        AtomicReference<String> head = new AtomicReference<>("a");
        Thread holder = Thread.ofPlatform().name("holder").start(() -> {
            try (Guard g = r.enter()) {
                g.protect(head);
                inside.countDown();
                refused.await();
                refreshed.set(g.refresh());
                assertEquals("a", g.protect(head), "the guard stopped working after a refused close()");
                g.retire(new Object(), o -> ran.incrementAndGet()); // an open guard still retires
                checked.await();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        try {
            assertTrue(inside.await(60, TimeUnit.SECONDS));
            assertThrows(IllegalStateException.class, r::close);
            assertFalse(r.isClosed());
            assertThrows(IllegalStateException.class, () -> r.retire(new Object(), o -> ran.incrementAndGet()),
                    "a retire from another thread after a refused close()");
            assertThrows(IllegalStateException.class, r::enterOwned, "enterOwned() after a refused close()");
            assertThrows(IllegalStateException.class, r::enter, "enter() after a refused close()");
            assertFalse(r.synchronize(Duration.ofMillis(20)), "a grace period passed a guard that is still open");
            refused.countDown();
            checked.countDown();
            holder.join();
            assertEquals(null, failure.get());
            assertEquals(Boolean.FALSE, refreshed.get(), "refresh() once the reclaimer started closing");
            assertTrue(r.synchronize(Duration.ofSeconds(30)));
            r.close();
            assertTrue(r.isClosed());
            assertEquals(1, ran.get());
            Stats s = r.stats();
            assertEquals(s.retired(), s.reclaimed(), s.toString());
            assertEquals(1, s.retired(), "a refused retire was counted: " + s);
        } finally {
            refused.countDown();
            checked.countDown();
            holder.join();
            closeQuietly(r);
        }
    }

    /**
     * Every method of a Registration but close() is refused inside a guard, from another thread and after close();
     * close() is a no-op once the reclaimer is closed. (online() on a closed reclaimer:
     * {@code RegistrationOnlineAfterReclaimerCloseTest}.)
     *
     * @throws Exception if the other thread fails
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void registrationMisuseIsRefusedByEveryMethod(String name, Options.Barrier barrier) throws Exception {
        Reclaimer r = create(name, barrier);
        try {
            Registration reg = r.register();
            try (Guard g = r.enter()) {
                assertNotNull(g);
                assertThrows(IllegalStateException.class, reg::quiescent, "quiescent() inside a guard");
                assertThrows(IllegalStateException.class, reg::offline, "offline() inside a guard");
                assertThrows(IllegalStateException.class, reg::online, "online() inside a guard");
            }
            List<Throwable> fromOther = new ArrayList<>();
            Thread t = Thread.ofPlatform().start(() -> {
                for (Runnable call : List.<Runnable>of(reg::quiescent, reg::offline, reg::online, () -> reg.enter().close(),
                        () -> reg.inGuard(Function.identity()))) {
                    try {
                        call.run();
                        fromOther.add(null);
                    } catch (Throwable e) {
                        fromOther.add(e);
                    }
                }
            });
            t.join();
            for (Throwable e : fromOther) {
                assertTrue(e instanceof IllegalStateException, "a registration used from another thread: " + e);
            }
            assertThrows(NullPointerException.class, () -> reg.inGuard(null));
            assertEquals("x", reg.inGuard(g -> "x"));
            reg.close();
            assertThrows(IllegalStateException.class, reg::quiescent, "quiescent() after close()");
            assertThrows(IllegalStateException.class, reg::offline, "offline() after close()");
            assertThrows(IllegalStateException.class, reg::online, "online() after close()");
            assertThrows(IllegalStateException.class, () -> reg.inGuard(g -> "x"), "inGuard() after close()");
            Registration live = r.register();
            live.offline();
            r.close();
            assertDoesNotThrow(live::close, "Registration.close() once the reclaimer is closed");
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * A thread guard closed, refreshed, reserving or retiring from another thread is refused and stays open and
     * usable on its own thread; the messages say which misuse it was.
     *
     * @throws Exception if the other thread fails
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void aThreadGuardUsedFromAnotherThreadIsRefusedAndStaysUsable(String name, Options.Barrier barrier) throws Exception {
        Reclaimer r = create(name, barrier);
        AtomicReference<String> head = new AtomicReference<>("v");
        try {
            Guard g = r.enter();
            List<Throwable> fromOther = new ArrayList<>();
            Thread t = Thread.ofPlatform().start(() -> {
                for (Runnable call : List.<Runnable>of(g::close, g::refresh, () -> g.reserve(1, 0),
                        () -> g.retire(new Object(), o -> {}), () -> g.protect(head, 1))) {
                    try {
                        call.run();
                        fromOther.add(null);
                    } catch (Throwable e) {
                        fromOther.add(e);
                    }
                }
            });
            t.join();
            for (Throwable e : fromOther) {
                assertTrue(e instanceof IllegalStateException, "a guard used from another thread: " + e);
                assertTrue(e.getMessage() != null && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("thread"),
                        "the message does not say it was another thread: " + e.getMessage());
            }
            assertEquals("v", g.protect(head), "the guard stopped working after another thread's calls");
            g.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> g.protect(head));
            assertTrue(closed.getMessage() != null && closed.getMessage().toLowerCase(java.util.Locale.ROOT).contains("closed"),
                    "the message does not say the guard is closed: " + closed.getMessage());
            assertThrows(IllegalStateException.class, g::refresh, "refresh() of a closed guard");
            try (Guard again = r.enter()) {
                assertEquals("v", again.protect(head));
            }
        } finally {
            closeQuietly(r);
        }
    }

    /** slots() is exactly the range protect and reserve accept, for the default and tuned slot counts. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void slotsIsExactlyTheAcceptedRange(String name, Options.Barrier barrier) {
        List<Scheme> variants = new ArrayList<>(List.of(Scheme.named(name)));
        if (name.equals("hp")) variants.add(new Scheme.HazardPointers(5, 2));
        if (name.equals("crystalline")) variants.add(new Scheme.Crystalline(64, 5));
        if (name.equals("crystalline-w")) variants.add(new Scheme.Crystalline(64, 5, true));
        for (Scheme s : variants) {
            Reclaimer r;
            try {
                r = Reclaimer.create(s, Options.fromSystemProperties().withBarrier(barrier));
            } catch (IllegalArgumentException e) {
                org.junit.jupiter.api.Assumptions.assumeTrue(barrier != Options.Barrier.ASYMMETRIC);
                throw e;
            }
            AtomicReference<String> head = new AtomicReference<>("v");
            try (Guard g = r.enter()) {
                int n = g.slots();
                assertTrue(n >= Guard.MIN_SLOTS);
                if (s instanceof Scheme.HazardPointers hp) assertEquals(hp.slots(), n, s.toString());
                if (s instanceof Scheme.Crystalline c) assertEquals(c.slots(), n, s.toString());
                if (n < Integer.MAX_VALUE) {
                    assertEquals("v", g.protect(head, n - 1));
                    assertTrue(g.reserve(0, n - 1));
                    assertThrows(IllegalArgumentException.class, () -> g.protect(head, n), "slot " + n + " of " + s);
                    assertThrows(IllegalArgumentException.class, () -> g.reserve(1, n), "slot " + n + " of " + s);
                }
            } finally {
                r.close();
            }
        }
    }

    /**
     * synchronize(Duration): a zero timeout checks once without waiting (false with a guard open on another thread,
     * true with none); a null timeout is refused. (A negative timeout: {@code NegativeGracePeriodTimeoutTest}.)
     *
     * @throws Exception if the other thread fails
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void aTimedGracePeriodWithAZeroTimeoutChecksOnce(String name, Options.Barrier barrier) throws Exception {
        Reclaimer r = create(name, barrier);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().start(() -> {
            try (Guard g = r.enter()) {
                assertNotNull(g);
                inside.countDown();
                leave.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThrows(NullPointerException.class, () -> r.synchronize(null));
            assertTrue(inside.await(60, TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            assertFalse(r.synchronize(Duration.ZERO));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "a zero timeout waited");
            leave.countDown();
            holder.join();
            assertTrue(r.synchronize(Duration.ZERO), "no guard open, and a zero timeout said the grace period did not pass");
        } finally {
            leave.countDown();
            holder.join();
            closeQuietly(r);
        }
    }

    /**
     * A guard left open by a thread that ended is not waited for by synchronize().
     *
     * @throws Exception if the other thread fails
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void aGracePeriodDoesNotWaitForAGuardLeftOpenByAnEndedThread(String name, Options.Barrier barrier) throws Exception {
        Reclaimer r = create(name, barrier);
        try {
            Thread t = Thread.ofPlatform().start(() -> r.enter().protect(new AtomicReference<>("left open")));
            t.join();
            assertTrue(r.synchronize(Duration.ofSeconds(30)), "a grace period waited for a thread that ended in a guard");
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * enterOwned() from a reclaim action that close() runs is refused with IllegalStateException (the action's
     * failure is contained), and close() still completes.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void enterOwnedFromAnActionThatCloseRunsIsRefused(String name, Options.Barrier barrier) {
        Reclaimer r = create(name, barrier);
        AtomicReference<Throwable> seen = new AtomicReference<>();
        AtomicBoolean closing = new AtomicBoolean();
        AtomicBoolean ranInClose = new AtomicBoolean();
        try {
            r.retire(new Object(), o -> {
                if (!closing.get()) return;
                ranInClose.set(true);
                try {
                    r.enterOwned().close();
                } catch (Throwable e) {
                    seen.set(e);
                }
            });
            closing.set(true); // a single retire stays in its thread's batch until close() (or a flush)
            r.close();
            if (ranInClose.get()) {
                assertTrue(seen.get() instanceof IllegalStateException,
                        "enterOwned() from an action close() runs: " + seen.get());
            }
            assertEquals(1, r.stats().reclaimed());
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * An owned guard called from a reclaim action that a call on the same owned guard runs is refused with
     * IllegalStateException naming the thread in the call; the guard stays usable.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void anOwnedGuardCalledFromAnActionItsOwnCallRunsIsRefused(String name, Options.Barrier barrier) {
        Reclaimer r = create(name, barrier);
        AtomicReference<OwnedGuard> owned = new AtomicReference<>();
        AtomicBoolean inCall = new AtomicBoolean();
        AtomicInteger reentrant = new AtomicInteger();
        List<Throwable> results = new ArrayList<>();
        AtomicReference<String> head = new AtomicReference<>("v");
        try {
            for (int i = 0; i < 500; i++) {
                r.retire(new Object(), o -> {
                    OwnedGuard g = owned.get();
                    if (g == null || !inCall.get()) return;
                    reentrant.incrementAndGet();
                    try {
                        g.protect(head);
                        synchronized (results) {
                            results.add(null);
                        }
                    } catch (Throwable e) {
                        synchronized (results) {
                            results.add(e);
                        }
                    }
                });
            }
            OwnedGuard g = r.enterOwned();
            owned.set(g);
            inCall.set(true);
            for (int i = 0; i < 2_000; i++) g.retire(new Object(), o -> {});
            g.refresh();
            for (int i = 0; i < 2_000; i++) g.retire(new Object(), o -> {});
            g.close();
            inCall.set(false);
            synchronized (results) {
                for (Throwable e : results) {
                    assertTrue(e instanceof IllegalStateException, "a reentrant call on an owned guard: " + e);
                    assertTrue(e.getMessage().contains(Thread.currentThread().getName()),
                            "the refusal does not name the thread in the call: " + e.getMessage());
                }
            }
        } finally {
            inCall.set(false);
            closeQuietly(r);
        }
    }

    /** Reclaimer.inGuard and enterOwned after close, and create with null arguments, are refused as documented. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void factoriesAndInGuardRefuseAsDocumented(String name, Options.Barrier barrier) {
        Reclaimer r = create(name, barrier);
        assertThrows(NullPointerException.class, () -> r.inGuard(null));
        assertEquals("x", r.inGuard(g -> "x"));
        r.close();
        assertThrows(IllegalStateException.class, () -> r.inGuard(g -> "x"));
        assertThrows(IllegalStateException.class, r::enterOwned);
        assertTrue(r.stats().toString().startsWith("Stats[scheme=" + name + ","));
        NullPointerException npe = assertThrows(NullPointerException.class, () -> Reclaimer.create((Scheme) null));
        assertTrue(String.valueOf(npe.getMessage()).contains("scheme"), npe.getMessage());
        npe = assertThrows(NullPointerException.class, () -> Reclaimer.create(Scheme.named(name), null));
        assertTrue(String.valueOf(npe.getMessage()).contains("options"), npe.getMessage());
        assertThrows(NullPointerException.class, () -> Reclaimer.create(null, Options.DEFAULT));
        try (Reclaimer byName = Reclaimer.create(name)) {
            assertEquals(Scheme.named(name), byName.scheme());
        }
    }
}
