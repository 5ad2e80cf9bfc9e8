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
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Atom;
import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * The documented API checked from outside, as a client that knows only the javadoc and the README would: each test
 * quotes the sentence it checks and runs it under every scheme (the ones {@code Reclaimer.availableSchemes()} lists,
 * and {@code crystalline-w}). What it covers beside the conformance suites: virtual threads that end inside a guard
 * or registered, registrations of a closed reclaimer, exact counts after refused retires and after close, what a
 * refused {@code close()} leaves open, grace periods and interrupts, misuse messages, slot limits, checked mode's
 * {@code pendingAtClose()}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DocumentedPromisesProbeTest {

    static Stream<String> schemes() {
        List<String> names = new ArrayList<>(Reclaimer.availableSchemes());
        names.add("crystalline-w");
        return names.stream();
    }

    static Stream<String> reclaimingSchemes() {
        return schemes().filter(n -> !n.equals("none"));
    }

    private static Reclaimer create(String name) {
        return Reclaimer.create(Scheme.named(name));
    }

    private static Reclaimer checked(String name) {
        return Reclaimer.create(Scheme.named(name), Options.fromSystemProperties().withChecked(true));
    }

    private static void closeQuietly(Reclaimer r) {
        try {
            if (!r.isClosed()) r.close();
        } catch (IllegalStateException ignored) {
        }
    }

    private static void await(CountDownLatch l) throws InterruptedException {
        assertTrue(l.await(60, TimeUnit.SECONDS), "timed out");
    }

    // ---- virtual threads --------------------------------------------------------------------------------------------

    /**
     * Reclaimer#synchronize: "A guard left open by a thread that ended is no longer waited for." README (EBR):
     * "A thread that ends registered, or even inside a guard it never closed, is swept". For a virtual thread.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aVirtualThreadThatEndsInsideAGuardHoldsNothingBack(String name) throws Exception {
        Reclaimer r = create(name);
        try {
            Thread t = Thread.ofVirtual().start(() -> r.enter().protect(new AtomicReference<>("left open")));
            t.join();
            assertTrue(r.synchronize(Duration.ofSeconds(20)),
                    name + ": a grace period waited for a virtual thread that ended inside a guard");
            r.retire(new Object(), o -> { });
            r.close();
            Stats s = r.stats();
            assertEquals(s.retired(), s.reclaimed(), name + ": " + s);
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * Registration: "A thread that ends while registered loses nothing: its record is recycled and what it retired is
     * still reclaimed." Reclaimer#close under QSBR refuses only while "a registered thread is online" (a thread that
     * ended is no thread). For a virtual thread, which the README advises against registering but does not forbid.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aVirtualThreadThatEndsRegisteredLosesNothing(String name) throws Exception {
        Reclaimer r = create(name);
        AtomicInteger ran = new AtomicInteger();
        try {
            Thread t = Thread.ofVirtual().start(() -> {
                Registration reg = r.register();
                try (Guard g = reg.enter()) {
                    for (int i = 0; i < 10; i++) g.retire(new Object(), o -> ran.incrementAndGet());
                }
                reg.quiescent();
            });
            t.join();
            if (!name.equals("none")) {
                r.flush();
                r.flush();
                assertEquals(10, ran.get(), name + ": flush after the registered virtual thread ended; " + r.stats());
            }
            assertDoesNotThrow(r::close, name + ": close after a registered virtual thread ended");
            assertEquals(10, ran.get());
        } finally {
            closeQuietly(r);
        }
    }

    // ---- registration after the reclaimer closed --------------------------------------------------------------------

    /**
     * Registration#quiescent and #offline throw only "if called inside a guard, from another thread, or after
     * close()" (of the registration); Registration#close: "Idempotent; a no-op once the reclaimer is closed".
     * Registration#enter: throws ISE "when the reclaimer is closed".
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aLiveRegistrationOfAClosedReclaimer(String name) {
        Reclaimer r = create(name);
        Registration reg = r.register();
        reg.offline();
        r.close();
        assertDoesNotThrow(reg::offline, name + ": offline() on a closed reclaimer");
        assertDoesNotThrow(reg::quiescent, name + ": quiescent() on a closed reclaimer");
        IllegalStateException e = assertThrows(IllegalStateException.class, reg::enter, name);
        assertNotNull(e.getMessage());
        assertThrows(IllegalStateException.class, () -> reg.inGuard(g -> 1), name);
        assertDoesNotThrow(reg::close, name + ": close() of a registration on a closed reclaimer");
        assertDoesNotThrow(reg::close, name + ": second close()");
    }

    // ---- counts -----------------------------------------------------------------------------------------------------

    /** Guard#retire / Reclaimer#retire: "a refused retire retires nothing"; Stats: retired counts retires. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void refusedRetiresAreNotCounted(String name) {
        Reclaimer r = checked(name);
        Object x = new Object();
        r.retire(x, o -> { });
        assertThrows(IllegalStateException.class, () -> r.retire(x, o -> { }));
        assertThrows(NullPointerException.class, () -> r.retire(new Object(), null));
        assertThrows(NullPointerException.class, () -> r.retire(null, o -> { }));
        try (Guard g = r.enter()) {
            assertThrows(IllegalStateException.class, () -> g.retire(x, o -> { }));
            assertThrows(NullPointerException.class, () -> g.retire(new Object(), null));
        }
        assertEquals(1, r.stats().retired(), name + ": " + r.stats());
        r.close();
        assertThrows(IllegalStateException.class, () -> r.retire(new Object(), o -> { }));
        Stats s = r.stats();
        assertEquals(1, s.retired(), name + ": " + s);
        assertEquals(1, s.reclaimed(), name + ": " + s);
        assertEquals(0, s.pending());
    }

    /**
     * Stats: "After close(): retired() == reclaimed() and pending() == 0", with actions that throw, retire more and
     * run on an executor.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void countsAfterCloseWithAnExecutorAndActionsThatRetireAndThrow(String name) {
        java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            Reclaimer r = Reclaimer.create(Scheme.named(name), Options.fromSystemProperties().withActionExecutor(ex));
            AtomicInteger ran = new AtomicInteger();
            for (int i = 0; i < 500; i++) {
                final int k = i;
                r.retire(new Object(), o -> {
                    ran.incrementAndGet();
                    if (k % 3 == 0) r.retire(new Object(), p -> ran.incrementAndGet());
                    if (k % 7 == 0) throw new IllegalArgumentException("boom " + k);
                });
            }
            r.flush();
            r.close();
            Stats s = r.stats();
            assertEquals(500 + 167, s.retired(), name + ": " + s);
            assertEquals(s.retired(), s.reclaimed(), name + ": " + s);
            assertEquals(72, s.failed(), name + ": " + s);
            assertEquals(500 + 167, ran.get());
        } finally {
            ex.shutdownNow();
        }
    }

    // ---- nest() -----------------------------------------------------------------------------------------------------

    /** Guard#nest: "@throws IllegalStateException if this guard is closed or belongs to another thread". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void nestOnAClosedGuardIsRefused(String name) throws Exception {
        Reclaimer r = create(name);
        try {
            Guard g = r.enter();
            g.close();
            assertThrows(IllegalStateException.class, g::nest, name + ": nest() on a closed thread guard");
            OwnedGuard o = r.enterOwned();
            o.close();
            assertThrows(IllegalStateException.class, o::nest, name + ": nest() on a closed owned guard");
            Guard open = r.enter();
            AtomicReference<Throwable> t = new AtomicReference<>();
            Thread th = Thread.ofPlatform().start(() -> {
                try {
                    open.nest().close();
                } catch (Throwable e) {
                    t.set(e);
                }
            });
            th.join();
            assertTrue(t.get() instanceof IllegalStateException, name + ": nest() from another thread: " + t.get());
            open.close();
        } finally {
            closeQuietly(r);
        }
    }

    // ---- slots ------------------------------------------------------------------------------------------------------

    /** Scheme.HazardPointers / Crystalline: slots per guard is the tuning's; Guard#slots is the accepted range. */
    @Test
    void slotsFollowTheTuning() {
        for (Scheme s : List.<Scheme>of(new Scheme.HazardPointers(4, 2), new Scheme.HazardPointers(31, 2),
                new Scheme.Crystalline(64, 4), new Scheme.Crystalline(64, 20), new Scheme.Crystalline(64, 5, true),
                new Scheme.Crystalline(64, 20, true))) {
            int want = s instanceof Scheme.HazardPointers h ? h.slots() : ((Scheme.Crystalline) s).slots();
            try (Reclaimer r = Reclaimer.create(s)) {
                try (Guard g = r.enter()) {
                    assertEquals(want, g.slots(), s.toString());
                    AtomicReference<String> ref = new AtomicReference<>("x");
                    assertEquals("x", g.protect(ref, want - 1));
                    assertThrows(IllegalArgumentException.class, () -> g.protect(ref, want), s.toString());
                    try (Guard n = g.nest()) {
                        assertEquals(want, n.slots(), s + " nested");
                        assertEquals("x", n.protect(ref, want - 1));
                        assertTrue(n.reserve(0, want - 1));
                    }
                }
                OwnedGuard o = r.enterOwned();
                assertEquals(want, o.slots(), s + " owned");
                assertEquals("x", o.protect(new AtomicReference<>("x"), want - 1));
                o.close();
            }
        }
    }

    /** Guard#reserve: "Reserving 0 ... needs no re-read"; "EBR and QSBR ... always return true". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void reserveReturnValues(String name) {
        try (Reclaimer r = create(name)) {
            try (Guard g = r.enter()) {
                for (int s = 0; s < Math.min(64, g.slots()); s++) assertTrue(g.reserve(0, s), name + " slot " + s);
                if (name.equals("ebr") || name.equals("qsbr")) {
                    for (int s = 0; s < Guard.MIN_SLOTS; s++) assertTrue(g.reserve(12345 + s, s), name);
                }
                assertThrows(IllegalArgumentException.class, () -> g.reserve(1, -1));
                assertThrows(IllegalArgumentException.class, () -> g.reserve(1, g.slots()));
            }
            OwnedGuard o = r.enterOwned();
            assertTrue(o.reserve(0, 0), name + " owned");
            o.close();
            assertThrows(IllegalStateException.class, () -> o.reserve(1, 0));
        }
    }

    // ---- closing ----------------------------------------------------------------------------------------------------

    /**
     * Reclaimer: "Between a close() that refused and one that completes, they throw it too, with a message that says
     * the reclaimer is closing (isClosed() is still false), with one exception: on a thread whose guard of this
     * reclaimer is still open, a nested enter() and a retire ... are accepted"; enterOwned: refused while closing
     * ("it accepts no new guard"); register() and flush() throw on every thread.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void whatARefusedCloseLeavesOpen(String name) throws Exception {
        Reclaimer r = create(name);
        AtomicInteger ran = new AtomicInteger();
        Guard g = r.enter();
        long t0 = System.nanoTime();
        IllegalStateException refused = assertThrows(IllegalStateException.class, r::close);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertNotNull(refused.getMessage());
        assertTrue(ms < 700, name + ": close() with the caller's own guard open took " + ms + " ms, not 'at once'");
        assertFalse(r.isClosed());
        // this thread, guard open
        try (Guard n = r.enter()) {
            n.retire(new Object(), o -> ran.incrementAndGet());
        }
        Guard n2 = g.nest();
        r.retire(new Object(), o -> ran.incrementAndGet());
        n2.close();
        assertMessageSaysClosing(name + " enterOwned (own thread)", assertThrows(IllegalStateException.class, r::enterOwned));
        assertMessageSaysClosing(name + " flush (own thread)", assertThrows(IllegalStateException.class, r::flush));
        assertThrows(IllegalStateException.class, r::register);
        assertFalse(g.refresh(), name + ": refresh once closing");
        // another thread
        List<Throwable> errs = new ArrayList<>();
        Thread other = Thread.ofPlatform().start(() -> {
            for (Runnable op : List.<Runnable>of(() -> r.enter(), () -> r.retire(new Object(), o -> { }), () -> r.register(),
                    r::flush, () -> r.enterOwned(), () -> r.inGuard(x -> 1))) {
                try {
                    op.run();
                    errs.add(new AssertionError("accepted"));
                } catch (Throwable e) {
                    errs.add(e);
                }
            }
        });
        other.join();
        for (Throwable e : errs) {
            assertTrue(e instanceof IllegalStateException, name + ": " + e);
            assertMessageSaysClosing(name + " other thread", (IllegalStateException) e);
        }
        g.close();
        r.close();
        assertTrue(r.isClosed());
        assertEquals(2, ran.get(), name);
        Stats s = r.stats();
        assertEquals(s.retired(), s.reclaimed(), name + ": " + s);
    }

    private static void assertMessageSaysClosing(String what, IllegalStateException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        assertTrue(m.contains("closing"), what + ": message does not say closing: " + e.getMessage());
    }

    /** Reclaimer#synchronize(Duration): a closed reclaimer "returns at once" (true: every guard has closed). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void timedGracePeriodOnAClosedReclaimer(String name) {
        Reclaimer r = create(name);
        r.close();
        assertTrue(r.synchronize(Duration.ofSeconds(1)), name);
        assertTrue(r.synchronize(Duration.ZERO), name);
        assertThrows(NullPointerException.class, () -> r.synchronize(null));
    }

    // ---- which reclaimer --------------------------------------------------------------------------------------------

    /** Guard#reclaimer: "Returns the reclaimer this guard belongs to"; Atom#load accepts a guard of its reclaimer. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void guardsNameTheReclaimerTheUserHolds(String name) {
        for (Reclaimer r : List.of(create(name), checked(name))) {
            try (r) {
                Atom<String> a = new Atom<>(r, "v", s -> { });
                try (Guard g = r.enter()) {
                    assertSame(r, g.reclaimer(), name);
                    assertEquals("v", a.load(g));
                    try (Guard n = g.nest()) {
                        assertSame(r, n.reclaimer(), name + " nested");
                        assertEquals("v", a.load(n));
                    }
                }
                OwnedGuard o = r.enterOwned();
                assertSame(r, o.reclaimer(), name + " owned");
                assertEquals("v", a.load(o));
                assertEquals("v", a.swap(o, "w"));
                o.close();
                try (Registration reg = r.register(); Guard g = reg.enter()) {
                    assertSame(r, g.reclaimer(), name + " registration");
                    assertEquals("w", a.load(g));
                }
                a.close();
            }
        }
    }

    // ---- virtual threads, stalls, checked mode ----------------------------------------------------------------------

    /**
     * Guard: "Do not block inside a guard for long: under EBR and QSBR a guard that stays open stops reclamation for
     * everyone (the stall is reported in Stats#stalled())"; README (virtual threads): "Under EBR and QSBR a guard that
     * blocks holds reclamation back for everyone while it blocks (reported in Stats.stalled())". A virtual thread.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("nonRobust")
    void aVirtualThreadBlockedInsideAGuardIsReportedAsStalled(String name) throws Exception {
        Scheme scheme = switch (name) {
            case "ebr" -> new Scheme.Ebr(64, 128, 5_000_000L);
            case "qsbr" -> new Scheme.Qsbr(64, 10_000L, 5_000_000L);
            default -> new Scheme.Hyaline(64, false);
        };
        Reclaimer r = Reclaimer.create(scheme);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Object> head = new AtomicReference<>(new Object());
        Thread v = Thread.ofVirtual().start(() -> {
            try (Guard g = r.enter()) {
                g.protect(head);
                inside.countDown();
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        try {
            await(inside);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(name.equals("hyaline") ? 5 : 20);
            int stalled = 0;
            while (stalled == 0 && System.nanoTime() < deadline) {
                r.retire(head.getAndSet(new Object()), o -> { });
                r.flush();
                stalled = r.stats().stalled();
            }
            assertEquals(1, stalled, name + ": a virtual thread blocked in its guard was not reported: " + r.stats());
        } finally {
            release.countDown();
            v.join();
            closeQuietly(r);
        }
    }

    static Stream<String> nonRobust() {
        return Stream.of("ebr", "qsbr", "hyaline");
    }

    /**
     * Reclaimer#flush: "hands this thread's (and idle threads') partly filled batches to reclamation ... With no
     * guard open anywhere, every object retired before the call is reclaimed when it returns". The idle thread is a
     * live virtual thread, parked.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaimingSchemes")
    void flushReclaimsWhatALiveIdleVirtualThreadRetired(String name) throws Exception {
        Reclaimer r = create(name);
        assertFlushReclaimsWhatAParkedVirtualThreadRetired(name, r, "a parked virtual thread", (count, retired, release) -> {
            for (int i = 0; i < 5; i++) r.retire(new Object(), count);
            try (Guard g = r.enter()) {
                for (int i = 0; i < 5; i++) g.retire(new Object(), count);
            }
            retired.countDown();
            release.await();
        });
    }

    /** The same, for a registered virtual thread parked while offline (README: "whileOffline { queue.take() }"). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaimingSchemes")
    void flushReclaimsWhatAnOfflineRegisteredVirtualThreadRetired(String name) throws Exception {
        Reclaimer r = create(name);
        assertFlushReclaimsWhatAParkedVirtualThreadRetired(name, r, "an offline registered virtual thread",
                (count, retired, release) -> {
                    try (Registration reg = r.register()) {
                        for (int i = 0; i < 5; i++) r.retire(new Object(), count);
                        try (Guard g = reg.enter()) {
                            for (int i = 0; i < 5; i++) g.retire(new Object(), count);
                        }
                        reg.quiescent();
                        reg.offline();
                        retired.countDown();
                        release.await();
                    }
                });
    }

    /** What a virtual thread of the two tests above runs: ten retires counted by {@code count}, then it parks. */
    private interface ParkedVirtualThread {
        void run(Consumer<Object> count, CountDownLatch retired, CountDownLatch release) throws InterruptedException;
    }

    /** Runs {@code body} on a virtual thread until it parks, flushes, and expects its ten objects reclaimed. */
    private static void assertFlushReclaimsWhatAParkedVirtualThreadRetired(String name, Reclaimer r, String who,
            ParkedVirtualThread body) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch retired = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread v = Thread.ofVirtual().start(() -> {
            try {
                body.run(o -> ran.incrementAndGet(), retired, release);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        try {
            await(retired);
            r.flush();
            assertEquals(10, ran.get(), name + ": flush left what " + who + " retired: " + r.stats());
        } finally {
            release.countDown();
            v.join();
            closeQuietly(r);
        }
    }

    /**
     * OwnedGuard: "A registered thread's quiescent states and offline() do not affect an owned guard it holds"; the
     * owned guard is "independent of the thread guards". So quiescent()/offline()/online() are not "inside a guard".
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aRegisteredThreadHoldingAnOwnedGuardMayPassQuiescentStates(String name) {
        Reclaimer r = create(name);
        try {
            Registration reg = r.register();
            OwnedGuard o = r.enterOwned();
            assertDoesNotThrow(reg::quiescent, name + ": quiescent() with an owned guard open");
            assertDoesNotThrow(reg::offline, name + ": offline() with an owned guard open");
            assertDoesNotThrow(reg::online, name + ": online() with an owned guard open");
            o.close();
            reg.close();
        } finally {
            closeQuietly(r);
        }
    }

    /** Scheme#robust / Reclaimer#pendingBound: the non-robust Hyaline cannot bound garbage: Long.MAX_VALUE. */
    @Test
    void nonRobustHyalineHasNoBound() {
        try (Reclaimer r = Reclaimer.create(new Scheme.Hyaline(64, false))) {
            assertFalse(r.scheme().robust());
            assertEquals(Long.MAX_VALUE, r.pendingBound());
        }
    }

    /**
     * Reclaimer#pendingAtClose: "described as class@identityHash (toString()) ... at most 64 of them ... Objects that
     * reclaim actions retire while close() runs are not listed"; empty when not in checked mode.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void pendingAtCloseFormatAndLimit(String name) {
        Reclaimer r = checked(name);
        java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
        List<Tagged> tags = new ArrayList<>();
        try (Guard g = r.enter()) {
            for (int i = 0; i < 200; i++) {
                Tagged t = new Tagged("t" + i);
                tags.add(t);
                g.retire(t, x -> r.retire(new Tagged(closing.get() ? "late" : "early"), y -> { }));
            }
        }
        closing.set(true);
        r.close();
        List<String> late = r.pendingAtClose();
        assertTrue(late.size() <= 64, name + ": " + late.size());
        for (String d : late) {
            assertFalse(d.contains("late"), name + ": an object retired by an action during close is listed: " + d);
            assertTrue(d.matches("reclaim\\.impl\\.DocumentedPromisesProbeTest\\$Tagged@[0-9a-f]+ \\(Tagged\\[tag=(t\\d+|early)\\]\\)"),
                    name + ": " + d);
        }
        Reclaimer u = create(name);
        u.retire(new Tagged("x"), x -> { });
        u.close();
        assertTrue(u.pendingAtClose().isEmpty());
    }

    record Tagged(String tag) {}

    /** Guard#refresh: "@throws IllegalStateException if this guard is closed or used from another thread". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void refreshOfAClosedGuardIsRefused(String name) {
        try (Reclaimer r = create(name)) {
            Guard g = r.enter();
            g.close();
            assertThrows(IllegalStateException.class, g::refresh, name);
            OwnedGuard o = r.enterOwned();
            assertTrue(o.refresh(), name + ": an owned guard refreshes");
            o.close();
            assertThrows(IllegalStateException.class, o::refresh, name);
            assertThrows(IllegalStateException.class, o::close, name);
            assertThrows(IllegalStateException.class, () -> o.protect(new AtomicReference<>("x")), name);
            assertThrows(IllegalStateException.class, () -> o.retire(new Object(), x -> { }), name);
        }
    }

    /**
     * Reclaimer#close: "It never returns while another thread is still reclaiming ... once close() returns, every
     * retired object's action has run exactly once." Here the reclaiming thread is the caller itself: an action that a
     * flush() runs calls close(). Either close() refuses, or when it returns every action has run.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaimingSchemes")
    void closeFromAnActionThatAFlushRuns(String name) {
        Reclaimer r = create(name);
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger atReturn = new AtomicInteger(-1);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean tried = new java.util.concurrent.atomic.AtomicBoolean();
        int n = 10;
        for (int i = 0; i < n; i++) {
            r.retire(new Object(), o -> {
                ran.incrementAndGet();
                if (tried.compareAndSet(false, true)) {
                    try {
                        r.close();
                        atReturn.set(ran.get());
                    } catch (Throwable e) {
                        thrown.set(e);
                    }
                }
            });
        }
        try {
            r.flush();
        } catch (IllegalStateException ignored) {
        }
        try {
            assertTrue(tried.get(), name + ": no action ran");
            if (thrown.get() == null) {
                assertEquals(n, atReturn.get(), name + ": close() called from an action of flush() returned with only "
                        + atReturn.get() + " of " + n + " actions run; stats " + r.stats());
                assertTrue(r.isClosed());
            } else {
                assertTrue(thrown.get() instanceof IllegalStateException, name + ": " + thrown.get());
            }
        } finally {
            closeQuietly(r);
        }
        assertEquals(n, ran.get());
        Stats s = r.stats();
        assertEquals(s.retired(), s.reclaimed(), s.toString());
    }

    // ---- misuse messages --------------------------------------------------------------------------------------------

    static Stream<org.junit.jupiter.params.provider.Arguments> schemesAndModes() {
        return schemes().flatMap(n -> Stream.of(org.junit.jupiter.params.provider.Arguments.of(n, false),
                org.junit.jupiter.params.provider.Arguments.of(n, true)));
    }

    private static void says(String what, Throwable e, String... words) {
        assertNotNull(e, what + ": nothing thrown");
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        for (String w : words) {
            assertTrue(m.contains(w), what + ": message does not name the misuse ('" + w + "'): " + e);
        }
    }

    private static Throwable onAnotherThread(Runnable op) throws InterruptedException {
        AtomicReference<Throwable> t = new AtomicReference<>();
        Thread th = Thread.ofPlatform().start(() -> {
            try {
                op.run();
            } catch (Throwable e) {
                t.set(e);
            }
        });
        th.join();
        return t.get();
    }

    /**
     * Guard: "Every misuse of a guard or a reclaimer (closed, wrong thread, closed twice) is one exception type ... the
     * message names the misuse"; Registration: "The message says which misuse it was"; README: "null -> NPE naming the
     * parameter".
     */
    @ParameterizedTest(name = "{0} checked={1}")
    @MethodSource("schemesAndModes")
    void misuseMessagesNameTheMisuse(String name, boolean checked) throws Exception {
        Reclaimer r = checked ? checked(name) : create(name);
        AtomicReference<String> ref = new AtomicReference<>("v");
        String tag = name + (checked ? " checked" : "");
        try {
            Guard g = r.enter();
            says(tag + " protect from another thread", onAnotherThread(() -> g.protect(ref)), "thread");
            says(tag + " retire from another thread", onAnotherThread(() -> g.retire(new Object(), o -> { })), "thread");
            says(tag + " close from another thread", onAnotherThread(g::close), "thread");
            says(tag + " refresh from another thread", onAnotherThread(g::refresh), "thread");
            says(tag + " synchronize inside a guard", assertThrows(IllegalStateException.class, r::synchronize), "guard");
            says(tag + " register inside a guard", assertThrows(IllegalStateException.class, r::register), "guard");
            g.close();
            says(tag + " protect after close", assertThrows(IllegalStateException.class, () -> g.protect(ref)), "closed");
            says(tag + " retire after close", assertThrows(IllegalStateException.class, () -> g.retire("x", x -> { })), "closed");
            says(tag + " reserve after close", assertThrows(IllegalStateException.class, () -> g.reserve(1, 0)), "closed");
            says(tag + " close twice", assertThrows(IllegalStateException.class, g::close), "closed");
            says(tag + " nest after close", assertThrows(IllegalStateException.class, g::nest), "closed");
            says(tag + " refresh after close", assertThrows(IllegalStateException.class, g::refresh), "closed");

            OwnedGuard o = r.enterOwned();
            o.close();
            says(tag + " owned protect after close", assertThrows(IllegalStateException.class, () -> o.protect(ref)), "closed");
            says(tag + " owned close twice", assertThrows(IllegalStateException.class, o::close), "closed");

            Registration reg = r.register();
            says(tag + " register twice", assertThrows(IllegalStateException.class, r::register), "registered");
            says(tag + " registration from another thread", onAnotherThread(reg::enter), "thread");
            says(tag + " registration quiescent from another thread", onAnotherThread(reg::quiescent), "thread");
            says(tag + " registration close from another thread", onAnotherThread(reg::close), "thread");
            reg.close();
            says(tag + " closed registration enter", assertThrows(IllegalStateException.class, reg::enter), "closed");
            says(tag + " closed registration quiescent", assertThrows(IllegalStateException.class, reg::quiescent), "closed");
            says(tag + " closed registration offline", assertThrows(IllegalStateException.class, reg::offline), "closed");
            says(tag + " closed registration online", assertThrows(IllegalStateException.class, reg::online), "closed");

            says(tag + " retire null object", assertThrows(NullPointerException.class, () -> r.retire(null, o2 -> { })), "object");
            says(tag + " retire null action", assertThrows(NullPointerException.class, () -> r.retire("x", null)), "action");
            says(tag + " inGuard null", assertThrows(NullPointerException.class, () -> r.inGuard(null)), "block");
            says(tag + " synchronize null", assertThrows(NullPointerException.class, () -> r.synchronize(null)), "timeout");
            try (Guard h = r.enter()) {
                says(tag + " guard retire null object", assertThrows(NullPointerException.class, () -> h.retire(null, o2 -> { })), "object");
                says(tag + " guard retire null action", assertThrows(NullPointerException.class, () -> h.retire("x", null)), "action");
                says(tag + " protect null ref", assertThrows(NullPointerException.class, () -> h.protect((AtomicReference<String>) null)), "ref");
                says(tag + " protect null ref slot", assertThrows(NullPointerException.class, () -> h.protect((AtomicReference<String>) null, 0)), "ref");
                says(tag + " protect null field", assertThrows(NullPointerException.class, () -> h.protect((java.lang.invoke.VarHandle) null, new Object())), "field");
                says(tag + " slot out of range", assertThrows(IllegalArgumentException.class, () -> h.protect(ref, -1)), "-1");
            }
            r.close();
            says(tag + " enter after close", assertThrows(IllegalStateException.class, r::enter), "closed");
            says(tag + " enterOwned after close", assertThrows(IllegalStateException.class, r::enterOwned), "closed");
            says(tag + " retire after close", assertThrows(IllegalStateException.class, () -> r.retire("x", x -> { })), "closed");
            says(tag + " flush after close", assertThrows(IllegalStateException.class, r::flush), "closed");
            says(tag + " register after close", assertThrows(IllegalStateException.class, r::register), "closed");
        } finally {
            closeQuietly(r);
        }
    }

    /** Reclaimer#enter: "Allocation-free once the thread has used this reclaimer before" (also through nest()). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void enterAndCloseAllocateNothing(String name) throws Exception {
        Object mxb = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        java.lang.reflect.Method allocated = Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes");
        java.util.function.LongSupplier mx = () -> {
            try {
                return (long) allocated.invoke(mxb);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        };
        try (Reclaimer r = create(name)) {
            AtomicReference<String> ref = new AtomicReference<>("v");
            for (int i = 0; i < 20_000; i++) {
                try (Guard g = r.enter()) {
                    g.protect(ref, 0);
                    g.nest().close();
                }
            }
            long before = mx.getAsLong();
            for (int i = 0; i < 20_000; i++) {
                try (Guard g = r.enter()) {
                    g.protect(ref, 0);
                    g.nest().close();
                }
            }
            long bytes = mx.getAsLong() - before;
            assertTrue(bytes < 20_000, name + ": 20,000 enter/close allocated " + bytes + " bytes");
        }
    }

    // ---- grace periods, close() and registrations -------------------------------------------------------------------

    /**
     * Reclaimer#synchronize: "it is not interruptible, and keeps the thread's interrupt status"; synchronize(Duration):
     * "false if the timeout elapsed first" (so not before it elapsed).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aGracePeriodIsNotInterruptible(String name) throws Exception {
        Reclaimer r = create(name);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread h = Thread.ofPlatform().start(() -> {
            try (Guard g = r.enter()) {
                g.protect(new AtomicReference<>("held"));
                inside.countDown();
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        try {
            await(inside);
            Thread.currentThread().interrupt();
            long t0 = System.nanoTime();
            boolean done = r.synchronize(Duration.ofMillis(300));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(Thread.currentThread().isInterrupted(), name + ": the interrupt status was lost");
            assertFalse(done, name + ": returned true with the guard still open");
            assertTrue(ms >= 290, name + ": an interrupted timed grace period gave up after " + ms + " ms of 300");
            release.countDown();
            r.synchronize();
            assertTrue(Thread.interrupted(), name + ": the interrupt status was lost by synchronize()");
        } finally {
            Thread.interrupted();
            release.countDown();
            h.join();
            closeQuietly(r);
        }
    }

    /**
     * Reclaimer: close "waits a moment (one second in all by default ...) for guards that are just closing ... called while
     * guards are still open after that, it throws". A guard open on another thread for the whole call.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aRefusedCloseWaitsAboutASecondByDefault(String name) throws Exception {
        // The default wait, whatever the build sets for the other tests (reclaim.closeWait)
        Reclaimer r = Reclaimer.create(Scheme.named(name), Options.fromSystemProperties().withCloseWait(Options.DEFAULT_CLOSE_WAIT));
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread h = Thread.ofPlatform().start(() -> {
            try (Guard g = r.enter()) {
                g.protect(new AtomicReference<>("held"));
                inside.countDown();
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        try {
            await(inside);
            long t0 = System.nanoTime();
            assertThrows(IllegalStateException.class, r::close);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 300 && ms <= 5000, name + ": close() refused after " + ms + " ms, not about a second");
            // "On a reclaimer that is closing ... it waits for those guards as usual."
            assertFalse(r.synchronize(Duration.ofMillis(50)), name);
            release.countDown();
            h.join();
            assertTrue(r.synchronize(Duration.ofSeconds(30)), name);
            r.close();
            assertTrue(r.isClosed());
        } finally {
            release.countDown();
            h.join();
            closeQuietly(r);
        }
    }

    /**
     * Reclaimer#close under QSBR: refuses while "a registered thread is online"; "a later close() completes". The
     * registered thread, on another thread, then goes offline (Registration#offline throws only inside a guard, from
     * another thread or after its close) and deregisters; Registration#online is idempotent.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void anOnlineRegisteredThreadThenCloseCompletes(String name) throws Exception {
        Reclaimer r = create(name);
        CountDownLatch registered = new CountDownLatch(1);
        CountDownLatch refused = new CountDownLatch(1);
        AtomicReference<Throwable> err = new AtomicReference<>();
        AtomicReference<Throwable> enterWhileClosing = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Registration reg = r.register();
                reg.online();
                reg.online();
                registered.countDown();
                refused.await();
                try {
                    reg.enter().close();
                } catch (Throwable e) {
                    enterWhileClosing.set(e);
                }
                reg.offline();
                reg.close();
            } catch (Throwable e) {
                err.set(e);
            }
        });
        try {
            await(registered);
            boolean wasRefused = false;
            try {
                r.close();
            } catch (IllegalStateException e) {
                wasRefused = true;
            }
            assertEquals(name.equals("qsbr"), wasRefused, name + ": close() with another thread registered and online");
            refused.countDown();
            t.join();
            assertEquals(null, err.get(), name);
            if (wasRefused) {
                assertTrue(enterWhileClosing.get() instanceof IllegalStateException, name + ": " + enterWhileClosing.get());
                assertMessageSaysClosing(name, (IllegalStateException) enterWhileClosing.get());
                r.close();
            }
            assertTrue(r.isClosed(), name);
        } finally {
            refused.countDown();
            t.join();
            closeQuietly(r);
        }
    }

    /**
     * Registration#quiescent (QSBR): "at most every passIntervalNanos it also hands over what the thread retired and
     * tries to advance the grace period and reclaim". With a pass interval of 0 and fences, a lone registered thread's
     * quiescent states reclaim what it retired, without flush().
     */
    @Test
    void quiescentStatesOfALoneQsbrThreadReclaim() {
        try (Reclaimer r = Reclaimer.create(new Scheme.Qsbr(64, 0L, 100_000_000L),
                Options.DEFAULT.withBarrier(Options.Barrier.FENCE))) {
            AtomicInteger ran = new AtomicInteger();
            try (Registration reg = r.register()) {
                for (int i = 0; i < 10; i++) r.retire(new Object(), o -> ran.incrementAndGet());
                for (int i = 0; i < 10 && ran.get() < 10; i++) reg.quiescent();
                assertEquals(10, ran.get(), "quiescent states reclaimed " + ran.get() + " of 10; " + r.stats());
                reg.offline();
            }
        }
    }

    // ---- quiescent states, protection, executors, owned guards ------------------------------------------------------

    /**
     * Guard#protect(AtomicReference): "protects the value read until this guard closes"; Guard#close: "What a nested
     * guard protected without a slot (protect(ref)) stays protected until the outermost guard closes". Many objects,
     * some read in nested guards that closed, retired and flushed by another thread.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaimingSchemes")
    void everythingProtectedWithoutASlotStaysProtected(String name) throws Exception {
        Reclaimer r = create(name);
        int n = 300;
        List<AtomicReference<Object>> refs = new ArrayList<>();
        List<Object> objs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Object o = new Object();
            objs.add(o);
            refs.add(new AtomicReference<>(o));
        }
        java.util.Set<Object> reclaimed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        try {
            try (Guard g = r.enter()) {
                for (int i = 0; i < n; i++) {
                    if (i % 3 == 0) {
                        try (Guard inner = g.nest()) {
                            assertSame(objs.get(i), inner.protect(refs.get(i)));
                        }
                    } else {
                        assertSame(objs.get(i), g.protect(refs.get(i)));
                    }
                }
                Thread w = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < n; i++) {
                        Object o = refs.get(i).getAndSet(null);
                        r.retire(o, reclaimed::add);
                    }
                    r.flush();
                    r.flush();
                });
                w.join();
                assertEquals(0, reclaimed.size(), name + ": reclaimed while protected: " + reclaimed.size() + " of " + n);
            }
            r.flush();
            assertEquals(n, reclaimed.size(), name);
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * Options#withActionExecutor: "Actions of one batch run one after another, in the order they were retired". Fewer
     * objects than a batch, retired by one thread and sealed by one flush, handed to a one-thread executor.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void actionsOfABatchRunInRetireOrderOnTheExecutor(String name) {
        java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            Reclaimer r = Reclaimer.create(Scheme.named(name), Options.fromSystemProperties().withActionExecutor(ex));
            List<Integer> order = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 40; i++) {
                final int k = i;
                r.retire(new Object(), o -> order.add(k));
            }
            if (!name.equals("none")) r.flush();
            r.close();
            List<Integer> sorted = new ArrayList<>(order);
            sorted.sort(null);
            assertEquals(sorted, order, name + ": order of actions " + order);
        } finally {
            ex.shutdownNow();
        }
    }

    /** Guard: "A guard belongs to the thread that opened it" — a virtual thread's guard used by another virtual thread. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aVirtualThreadsGuardUsedByAnotherVirtualThreadIsRefused(String name) throws Exception {
        Reclaimer r = create(name);
        try {
            AtomicReference<Guard> held = new AtomicReference<>();
            CountDownLatch opened = new CountDownLatch(1);
            CountDownLatch used = new CountDownLatch(1);
            AtomicReference<Throwable> ownerErr = new AtomicReference<>();
            Thread a = Thread.ofVirtual().start(() -> {
                try {
                    Guard g = r.enter();
                    held.set(g);
                    opened.countDown();
                    used.await();
                    assertEquals("v", g.protect(new AtomicReference<>("v")));
                    g.close();
                } catch (Throwable e) {
                    ownerErr.set(e);
                }
            });
            await(opened);
            List<Throwable> seen = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread b = Thread.ofVirtual().start(() -> {
                Guard g = held.get();
                for (Runnable op : List.<Runnable>of(() -> g.protect(new AtomicReference<>("x")), () -> g.retire(new Object(), o -> { }),
                        g::close, g::refresh, () -> g.nest())) {
                    try {
                        op.run();
                        seen.add(null);
                    } catch (Throwable e) {
                        seen.add(e);
                    }
                }
            });
            b.join();
            used.countDown();
            a.join();
            for (Throwable e : seen) assertTrue(e instanceof IllegalStateException, name + ": " + e);
            assertEquals(null, ownerErr.get(), name);
            r.close();
        } finally {
            closeQuietly(r);
        }
    }

    /** Guard#nest: "An OwnedGuard does not nest: its nest() opens the calling thread's guard, as enter() does." */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void anOwnedGuardsNestIsTheThreadGuard(String name) {
        Reclaimer r = create(name);
        try {
            OwnedGuard o = r.enterOwned();
            Guard n = o.nest();
            assertFalse(n instanceof OwnedGuard && n == o, name);
            try (Guard t = r.enter()) {
                assertSame(t.reclaimer(), n.reclaimer());
            }
            n.close();
            assertEquals("v", o.protect(new AtomicReference<>("v")), name + ": the owned guard after its nest() closed");
            o.close();
            r.close();
        } finally {
            closeQuietly(r);
        }
    }

    static final class Mutable {
        volatile String state = "live";

        @Override
        public String toString() {
            return state;
        }
    }

    /** Reclaimer#pendingAtClose: descriptions "read before their actions ran". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void pendingAtCloseIsReadBeforeTheActionsRan(String name) {
        Reclaimer r = checked(name);
        CountDownLatch inside = new CountDownLatch(1);
        for (int i = 0; i < 10; i++) r.retire(new Mutable(), m -> m.state = "freed");
        r.close();
        List<String> late = r.pendingAtClose();
        for (String d : late) assertTrue(d.endsWith("(live)"), name + ": " + d);
        if (name.equals("none")) assertEquals(10, late.size(), name + ": " + late);
        inside.countDown();
    }

    /**
     * Reclaimer#synchronize: "An OwnedGuard belongs to no thread, so it does not count as the caller's: this waits for
     * it as for any other guard, and returns only once some thread closes it."
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void synchronizeWaitsForAnOwnedGuardItsCallerKeepsOpenUntilAnotherThreadClosesIt(String name) throws Exception {
        Reclaimer r = create(name);
        try {
            AtomicReference<OwnedGuard> handed = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch opened = new CountDownLatch(1);
            AtomicInteger returned = new AtomicInteger();
            Thread t = new Thread(() -> {
                try {
                    handed.set(r.enterOwned());
                    opened.countDown();
                    r.synchronize(); // not refused: the owned guard is not this thread's guard
                    returned.incrementAndGet();
                } catch (Throwable e) {
                    failure.set(e);
                    opened.countDown();
                }
            });
            t.start();
            assertTrue(opened.await(10, TimeUnit.SECONDS), name + ": the thread did not open its owned guard");
            assertEquals(null, failure.get(), name + ": enterOwned failed");
            t.join(200); // a bounded look: synchronize() must still be waiting for the open owned guard
            assertEquals(0, returned.get(), name + ": synchronize() returned while the owned guard it must wait for was open");
            handed.get().close(); // closed by another thread, as an owned guard may be
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(t.isAlive(), name + ": synchronize() still waiting after the owned guard closed");
            assertEquals(null, failure.get(), name + ": " + failure.get());
            assertEquals(1, returned.get(), name);
        } finally {
            closeQuietly(r);
        }
    }
}
