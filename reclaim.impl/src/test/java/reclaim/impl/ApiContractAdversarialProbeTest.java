package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;
import reclaim.spi.ReclaimerProvider;

/**
 * Probes, from outside, of promises of the javadoc of {@code reclaim.api} that neither the conformance suite nor
 * {@link ApiContractProbeTest} checks, for every scheme ({@link Reclaimer#availableSchemes()} and
 * {@code crystalline-w}), under the barrier the surefire execution selects (AUTO, fence, no native access). Each test
 * quotes the promise it checks.
 *
 * <p>What these probes found, each kept as the test of its fix (code or documentation):
 * <ul>
 *   <li>checked mode did not check retires through an {@link OwnedGuard}, and a {@code refresh()} that did nothing
 *       made the checked view forget what the guard read;</li>
 *   <li>{@code pendingAtClose()} was documented as empty until {@code close()} completed, though the actions that
 *       {@code close()} runs already see it (documentation);</li>
 *   <li>a {@code close()} called by a reclaim action that {@code close()} runs returned normally before the
 *       reclaimer was closed (it now throws IllegalStateException);</li>
 *   <li>{@code Registration.close()} inside a guard threw an exception its javadoc did not name (documentation);</li>
 *   <li>{@code pendingBound()} and the robustness guarantee did not say that Hyaline and Crystalline bound
 *       {@link Born} objects (documentation);</li>
 *   <li>a {@code birthEra()} that throws escaped from the retires and flushes of other objects;</li>
 *   <li>{@code Scheme.Qsbr} refused "every value not positive" in its javadoc but accepts a pass interval of 0
 *       (documentation).</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ApiContractAdversarialProbeTest {

    static Stream<String> schemes() {
        List<String> names = new ArrayList<>(Reclaimer.availableSchemes());
        names.add("crystalline-w");
        return names.stream();
    }

    /** The factory a client calls: the scheme by name, the options of the system properties. */
    private static Reclaimer create(String name) {
        return Reclaimer.create(Scheme.named(name));
    }

    /** The same, in checked mode. */
    private static Reclaimer checked(String name) {
        return Reclaimer.create(Scheme.named(name), Options.fromSystemProperties().withChecked(true));
    }

    private static void closeQuietly(Reclaimer r) {
        try {
            if (!r.isClosed()) r.close();
        } catch (IllegalStateException ignored) {
            // a probe that failed may leave a guard open; the assertion that failed says why
        }
    }

    /** An object with a recognisable toString(). */
    record Tagged(String tag) {}

    // ---------------------------------------------------------------------------------------------------------
    // Checked mode
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Options (checked mode): "A guard remembers the sources of its last 8 protects ... A retire inside it
     * ({@link Guard#retire}, ...) of an object it read throws IllegalStateException ... when every source it read the
     * object from still holds it"; OwnedGuard: "Everything Guard promises". An owned guard is a guard: a retire
     * through it of what it just read from a source that still holds it is refused, as through a thread guard.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void checkedModeRefusesARetireThroughAnOwnedGuardOfAnObjectStillLinked(String name) {
        Reclaimer r = checked(name);
        try {
            AtomicReference<Tagged> source = new AtomicReference<>(new Tagged("still-linked"));
            try (Guard g = r.enter()) { // the thread guard refuses it: the baseline
                Tagged t = g.protect(source);
                assertThrows(IllegalStateException.class, () -> g.retire(t, x -> {}), "thread guard");
            }
            OwnedGuard owned = r.enterOwned();
            try {
                Tagged t = owned.protect(source);
                assertSame(source.get(), t);
                AtomicInteger runs = new AtomicInteger();
                IllegalStateException e = null;
                try {
                    owned.retire(t, x -> runs.incrementAndGet());
                } catch (IllegalStateException refused) {
                    e = refused;
                }
                Tagged unlinked = new Tagged("retired twice through an owned guard");
                owned.retire(unlinked, x -> runs.incrementAndGet());
                assertThrows(IllegalStateException.class, () -> owned.retire(unlinked, x -> runs.incrementAndGet()),
                        "a second retire through an owned guard, checked mode");
                assertNotNull(e, "checked mode accepted, through an owned guard, the retire of " + t
                        + " which the AtomicReference it was read from still holds");
            } finally {
                owned.close();
            }
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * Guard.refresh: "returns false if nothing changed (a nested guard, a reclaimer that is closing ...)"; Options:
     * a guard remembers its protects "until its outermost close()". A refresh that did nothing (the reclaimer is
     * closing) must not make checked mode forget what the guard read: a retire of an object still linked is still
     * refused.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aRefreshThatDidNothingKeepsCheckedModeChecking(String name) {
        Reclaimer r = checked(name);
        AtomicReference<Tagged> source = new AtomicReference<>(new Tagged("read-before-refresh"));
        Guard g = r.enter();
        try {
            Tagged t = g.protect(source);
            assertThrows(IllegalStateException.class, r::close, "close() with this thread's guard open");
            assertFalse(g.refresh(), "refresh() of a reclaimer that is closing");
            IllegalStateException e = null;
            try {
                g.retire(t, x -> {});
            } catch (IllegalStateException refused) {
                e = refused;
            }
            assertNotNull(e, "after a refresh() that returned false (nothing changed), checked mode accepted the"
                    + " retire of " + t + ", still held by the source this guard read it from");
        } finally {
            g.close();
            closeQuietly(r);
        }
    }

    /**
     * Reclaimer.pendingAtClose: "empty when the reclaimer is not in checked mode, before close() began to reclaim
     * what was left (the reclaim actions that close() runs may already see the list), and when nothing was left".
     * Empty before close(); a reclaim action that close() runs sees it empty or already as close() leaves it.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void pendingAtCloseIsEmptyUntilCloseBeginsToReclaimWhatWasLeft(String name) {
        Reclaimer r = checked(name);
        AtomicBoolean closing = new AtomicBoolean();
        AtomicReference<List<String>> seenByAction = new AtomicReference<>();
        AtomicReference<Boolean> closedSeenByAction = new AtomicReference<>();
        try {
            r.retire(new Tagged("late"), t -> {
                if (!closing.get()) return;
                closedSeenByAction.set(r.isClosed());
                seenByAction.set(r.pendingAtClose());
            });
            assertEquals(List.of(), r.pendingAtClose(), "before close()");
            closing.set(true); // one retire stays in the thread's batch until close()
            r.close();
            assertEquals(1, r.pendingAtClose().size(), "after close(): " + r.pendingAtClose());
            if (seenByAction.get() != null) {
                assertEquals(Boolean.FALSE, closedSeenByAction.get(), "isClosed() inside close()");
                assertTrue(seenByAction.get().isEmpty() || seenByAction.get().equals(r.pendingAtClose()),
                        "pendingAtClose() read by a reclaim action that close() runs: " + seenByAction.get());
            }
        } finally {
            closeQuietly(r);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // close()
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Reclaimer: "once close() returns, every retired object's action has run exactly once"; isClosed(): "Returns
     * whether close() has completed". A close() called by a reclaim action that the first close() runs either
     * refuses (IllegalStateException, as every other close() that cannot complete) or returns with the promise
     * kept: it must not return normally while other actions have not run and isClosed() is false.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aCloseCalledByAnActionThatCloseRunsKeepsThePromiseOrRefuses(String name) {
        Reclaimer r = create(name);
        AtomicBoolean closing = new AtomicBoolean();
        AtomicInteger others = new AtomicInteger();
        AtomicReference<String> observed = new AtomicReference<>();
        try {
            r.retire(new Tagged("closes"), t -> { // retired first: close() runs it before the others
                if (!closing.get()) return;
                try {
                    r.close();
                    observed.set("returned normally: isClosed()=" + r.isClosed() + ", other actions run "
                            + others.get() + " of 9, stats " + r.stats());
                } catch (IllegalStateException refused) {
                    observed.set("refused");
                }
            });
            for (int i = 0; i < 9; i++) r.retire(new Tagged("other-" + i), t -> others.incrementAndGet());
            closing.set(true); // ten retires stay in the thread's batch until close()
            r.close();
            assertTrue(r.isClosed());
            assertEquals(9, others.get());
            if (observed.get() != null && !observed.get().equals("refused")) {
                assertEquals("returned normally: isClosed()=true, other actions run 9 of 9",
                        observed.get().substring(0, observed.get().indexOf(", stats")),
                        "a close() called by a reclaim action that close() runs " + observed.get());
            }
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * Reclaimer.close: "@throws IllegalStateException if guards are still open" means guards of this reclaimer: a
     * guard of another reclaimer open on the calling thread does not refuse it, and synchronize() inside a guard of
     * another reclaimer is not refused ("@throws IllegalStateException if the calling thread is inside a guard of
     * this reclaimer").
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aGuardOfAnotherReclaimerRefusesNeitherCloseNorAGracePeriod(String name) {
        Reclaimer outer = create(name);
        Reclaimer inner = create(name);
        try (Guard g = outer.enter()) {
            assertNotNull(g.protect(new AtomicReference<>("x")));
            assertTrue(inner.synchronize(Duration.ofSeconds(30)), "a grace period of another reclaimer");
            assertDoesNotThrow(() -> inner.synchronize());
            inner.retire(new Tagged("in-inner"), t -> {});
            assertDoesNotThrow(inner::close, "close() of a reclaimer with a guard of another one open");
            assertTrue(inner.isClosed());
            assertEquals(1, inner.stats().reclaimed());
        } finally {
            closeQuietly(inner);
            closeQuietly(outer);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Grace periods and owned guards
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Reclaimer.synchronize: "Every guard whose enter() happened-before this call, on any thread" is waited for, and
     * the call is refused only "inside a guard of this reclaimer" on the calling thread; an owned guard "belongs to no
     * thread". So a timed grace period with an owned guard open, held by the calling thread, times out (false),
     * neither refuses nor passes it; once the owned guard is closed it passes.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aTimedGracePeriodWaitsForAnOwnedGuardTheCallerHolds(String name) {
        Reclaimer r = create(name);
        try {
            OwnedGuard owned = r.enterOwned();
            assertNotNull(owned.protect(new AtomicReference<>("held")));
            assertFalse(r.synchronize(Duration.ofMillis(20)), "a grace period passed an owned guard that is still open");
            owned.close();
            assertTrue(r.synchronize(Duration.ofSeconds(30)));
        } finally {
            closeQuietly(r);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Registrations
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Registration.close: "@throws IllegalStateException if called from a thread other than the one that registered,
     * or inside a guard of the reclaimer (the registration stays open: close the guard first, then the
     * registration)". Refused inside a guard the thread opened through it, the registration stays usable: the guard
     * keeps working and closes normally, and the registration then closes.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aRegistrationClosedInsideAGuardIsRefusedAndStaysOpen(String name) {
        Reclaimer r = create(name);
        AtomicReference<String> head = new AtomicReference<>("v");
        try {
            Registration reg = r.register();
            Guard g = reg.enter();
            try {
                assertThrows(IllegalStateException.class, reg::close, "Registration.close() inside a guard");
                assertEquals("v", g.protect(head));
            } finally {
                g.close();
            }
            try (Guard again = reg.enter()) {
                assertEquals("v", again.protect(head), "the registration stayed open");
            }
            reg.close();
            assertThrows(IllegalStateException.class, reg::enter, "enter() after the registration was closed");
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * Registration.offline: "The thread must be outside every guard; its next guard, or online(), brings it back";
     * Reclaimer.close: "requires registered threads to be offline or deregistered". An offline registered thread
     * that retires, flushes and waits for a grace period outside its guards stays offline, and close() completes on
     * it; offline() and online() may be repeated (online(): "Idempotent").
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void anOfflineThreadThatRetiresAndFlushesStaysOffline(String name) {
        Reclaimer r = create(name);
        AtomicInteger ran = new AtomicInteger();
        try (Registration reg = r.register()) {
            reg.online();
            reg.online();
            reg.offline();
            reg.offline();
            r.retire(new Tagged("while-offline"), t -> ran.incrementAndGet());
            r.flush();
            assertTrue(r.synchronize(Duration.ofSeconds(30)));
            assertDoesNotThrow(r::close, "close() with the only registered thread offline");
            assertTrue(r.isClosed());
            assertEquals(1, ran.get());
        } finally {
            closeQuietly(r);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Robustness
    // ---------------------------------------------------------------------------------------------------------

    /** A Born object: its birth era is the reclaimer's era when it was made. */
    record BornAt(long birthEra) implements Born {}

    /**
     * Reclaimer.pendingBound: "the bound a robust scheme keeps on Stats.pending() however long a guard stays open,
     * computed for the current number of participants ... Under Hyaline and Crystalline the objects born no later
     * than the oldest open reservation ... are added on top, and every object that is not Born counts as such: the
     * bound stays fixed for Born objects made after the stall and grows with objects that are not born. Hazard
     * pointers bound every object." With one guard open and the participants unchanged, Born objects made after
     * the stall (every robust scheme) and plain objects (hazard pointers) keep pending under a bound that stays a
     * bound (the conformance suite's yardstick: under a tenth of the retires); plain objects under Hyaline and
     * Crystalline stay under the stated bound, which grows with them.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aRobustSchemeKeepsPendingUnderTheBoundItDocumentsForBornAndPlainObjects(String name) {
        for (boolean born : new boolean[] {true, false}) {
            Reclaimer r = create(name);
            try {
                org.junit.jupiter.api.Assumptions.assumeTrue(r.scheme().robust(), name + " promises no bound");
                AtomicReference<Object> head = new AtomicReference<>(new Tagged("held by the stalled guard"));
                OwnedGuard stalled = r.enterOwned(); // a guard that stays open for the whole run
                assertNotNull(stalled.protect(head));
                int retires = 50_000;
                String above = null;
                long maxBound = 0;
                long maxPending = 0;
                long firstBound = -1;
                int participants = -1;
                for (int i = 1; i <= retires; i++) {
                    r.retire(born ? new BornAt(r.era()) : new Object(), o -> {});
                    if (i % 256 == 0) {
                        r.flush();
                        if (participants < 0) participants = r.stats().participants();
                        long pending = r.stats().pending();
                        long bound = r.pendingBound();
                        if (firstBound < 0) firstBound = bound;
                        if (pending > bound && above == null) {
                            above = "pending " + pending + " above the stated bound " + bound + " after " + i + " retires";
                        }
                        maxBound = Math.max(maxBound, bound);
                        maxPending = Math.max(maxPending, pending);
                    }
                }
                stalled.close();
                String what = born ? "Born objects" : "objects that are not Born";
                assertEquals(null, above, what + ", with one guard open");
                assertEquals(participants, r.stats().participants(), "the participants changed meanwhile");
                if (born || name.equals("hp")) {
                    assertEquals(firstBound, maxBound, "with " + participants + " participants throughout,"
                            + " pendingBound() grew from " + firstBound + " to " + maxBound + " (pending up to "
                            + maxPending + ") over " + retires + " retires of " + what);
                    assertTrue(maxPending < retires / 10, "pending reached " + maxPending + " of " + retires
                            + " retires of " + what + " with one guard stalled");
                }
            } finally {
                closeQuietly(r);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Containment
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Guard.retire: "if it throws, the failure is contained, counted in Stats.failed() and reported, and other
     * actions still run"; Stats: "failed: reclaim actions that threw; each is also counted in reclaimed". Whatever
     * call runs a throwing action (a guard's close or refresh under the schemes that reclaim there, a retire's
     * collection, an enter, a flush, close()), it does not throw, and the figures add up.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void throwingActionsRunByAnyCallAreContainedAndCounted(String name) {
        Reclaimer r = create(name);
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Tagged> head = new AtomicReference<>(new Tagged("head"));
        int n = 0;
        int failing = 0;
        try {
            for (int round = 0; round < 40; round++) {
                Guard g = assertDoesNotThrow(() -> r.enter());
                for (int i = 0; i < 50; i++, n++) {
                    Tagged old = head.getAndSet(new Tagged("n" + n));
                    boolean fails = n % 3 == 0;
                    if (fails) failing++;
                    assertDoesNotThrow(() -> g.retire(old, t -> {
                        ran.incrementAndGet();
                        if (fails) throw new IllegalStateException("deliberate failure of " + t);
                    }));
                    assertNotNull(g.protect(head));
                }
                assertDoesNotThrow(g::refresh);
                assertDoesNotThrow(g::close);
                assertDoesNotThrow(() -> r.retire(new Tagged("outside"), t -> {
                    ran.incrementAndGet();
                    throw new IllegalArgumentException("deliberate failure outside a guard");
                }));
                n++;
                failing++;
                if (round % 10 == 9) assertDoesNotThrow(r::flush);
            }
            assertDoesNotThrow(r::close);
            Stats s = r.stats();
            assertEquals(n, ran.get(), "actions run");
            assertEquals(n, s.retired(), s.toString());
            assertEquals(n, s.reclaimed(), s.toString());
            assertEquals(0, s.pending(), s.toString());
            assertEquals(failing, s.failed(), s.toString());
        } finally {
            closeQuietly(r);
        }
    }
    // ---------------------------------------------------------------------------------------------------------
    // refresh() racing close()
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Guard.refresh: "the same as closing the guard and opening it again at once ... if the reclaimer starts closing
     * during the call, it throws IllegalStateException and the guard is closed". Here it starts closing between the
     * two halves (from a reclaim action that the refresh's leave runs, with the guard closed, while another thread's
     * close() begins): the refresh throws, the guard is closed, and that close() completes (no guard is open).
     * Schemes whose refresh runs no action while the guard is closed are not exercised (the test says so).
     *
     * @throws Exception if the closing thread fails
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aReclaimerThatStartsClosingDuringARefreshClosesTheGuard(String name) throws Exception {
        Reclaimer r = create(name);
        AtomicReference<Tagged> head = new AtomicReference<>(new Tagged("head"));
        AtomicBoolean armed = new AtomicBoolean();
        AtomicReference<Throwable> closerResult = new AtomicReference<>();
        CountDownLatch closerDone = new CountDownLatch(1);
        AtomicReference<Thread> closer = new AtomicReference<>();
        AtomicReference<String> hookFailure = new AtomicReference<>();
        Guard g = r.enter();
        try {
            for (int i = 0; i < 3_000; i++) {
                g.retire(head.getAndSet(new Tagged("n" + i)), t -> {
                    if (!armed.get()) return;
                    try {
                        g.protect(head);
                        return; // the guard is open: not between the two halves of the refresh
                    } catch (IllegalStateException closed) {
                        // between them: the guard is closed
                    }
                    if (!armed.compareAndSet(true, false)) return;
                    closer.set(Thread.ofPlatform().name("closer").start(() -> {
                        try {
                            r.close();
                        } catch (Throwable e) {
                            closerResult.set(e);
                        } finally {
                            closerDone.countDown();
                        }
                    }));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (System.nanoTime() - deadline < 0) { // until the close() has begun: no new guard then
                        try {
                            r.enterOwned().close();
                        } catch (IllegalStateException closing) {
                            return;
                        }
                        Thread.onSpinWait();
                    }
                    hookFailure.set("close() on another thread did not begin within 60 s");
                });
            }
            armed.set(true);
            Throwable refreshed = null;
            try {
                g.refresh();
            } catch (Throwable e) {
                refreshed = e;
            }
            Thread c = closer.get();
            org.junit.jupiter.api.Assumptions.assumeTrue(c != null,
                    name + ": no reclaim action ran between the two halves of refresh()");
            assertTrue(closerDone.await(60, TimeUnit.SECONDS));
            c.join();
            assertEquals(null, hookFailure.get());
            assertTrue(refreshed instanceof IllegalStateException,
                    "refresh() during which the reclaimer started closing: " + refreshed);
            assertThrows(IllegalStateException.class, () -> g.protect(head), "the guard is closed after that refresh()");
            assertThrows(IllegalStateException.class, g::close, "the guard is closed after that refresh()");
            assertEquals(null, closerResult.get(), "the other thread's close(), with no guard open");
            assertTrue(r.isClosed());
            Stats s = r.stats();
            assertEquals(3_000, s.retired(), s.toString());
            assertEquals(s.retired(), s.reclaimed(), s.toString());
        } finally {
            armed.set(false);
            try {
                g.close();
            } catch (IllegalStateException alreadyClosed) {
                // the refresh closed it
            }
            Thread c = closer.get();
            if (c != null) c.join();
            closeQuietly(r);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // After close, and from inside close()
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Reclaimer.synchronize(Duration): "how long to wait at most"; "A timeout that is zero or negative checks once,
     * without waiting"; "true if every guard open at the call has closed". Durations at the ends of the range (beyond
     * what nanoseconds can hold) are accepted: with no guard open both pass at once.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aGracePeriodAcceptsTheExtremeDurations(String name) {
        Reclaimer r = create(name);
        try {
            assertTrue(r.synchronize(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)));
            assertTrue(r.synchronize(Duration.ofSeconds(Long.MIN_VALUE)));
            try (Guard g = r.enter()) {
                assertNotNull(g);
                assertThrows(IllegalStateException.class, () -> r.synchronize(Duration.ofSeconds(Long.MAX_VALUE)),
                        "a timed grace period inside a guard of this reclaimer");
            }
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * Reclaimer: "After close, enter, retire and register throw IllegalStateException; stats still works";
     * synchronize: "On a closed reclaimer it returns at once"; era(): "the era, >= 1" (no exception documented);
     * Stats: "After close(): retired() == reclaimed() and pending() == 0"; scheme() and pendingBound() document no
     * exception either.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void theQueriesStillAnswerAfterClose(String name) {
        Reclaimer r = create(name);
        for (int i = 0; i < 100; i++) r.retire(new Tagged("t" + i), t -> {});
        r.close();
        assertTrue(r.era() >= 1);
        assertEquals(Scheme.named(name), r.scheme());
        long bound = r.pendingBound();
        assertEquals(r.scheme().robust(), bound < Long.MAX_VALUE, "pendingBound() after close(): " + bound);
        assertTrue(r.synchronize(Duration.ZERO), "a grace period on a closed reclaimer");
        assertDoesNotThrow(() -> r.synchronize());
        Stats s = r.stats();
        assertEquals(100, s.retired(), s.toString());
        assertEquals(100, s.reclaimed(), s.toString());
        assertEquals(0, s.pending(), s.toString());
        assertEquals(name, s.scheme());
        assertTrue(r.isClosed());
        assertDoesNotThrow(r::close, "close() is idempotent");
        assertThrows(IllegalStateException.class, () -> r.inGuard(g -> "x"));
    }

    /**
     * Reclaimer.synchronize: "On a reclaimer that is closing ... it waits for those guards as usual"; a reclaim action
     * that close() runs sees no guard open (close() got that far only with none), so a grace period it waits for
     * passes; an action that retires more meanwhile has it run before close() returns ("once close() returns, every
     * retired object's action has run exactly once"), and Stats add up.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void anActionThatCloseRunsMayWaitForAGracePeriodAndRetire(String name) {
        Reclaimer r = create(name);
        AtomicBoolean closing = new AtomicBoolean();
        AtomicReference<Object> graceSeen = new AtomicReference<>();
        AtomicInteger retiredByAction = new AtomicInteger();
        try {
            r.retire(new Tagged("waits"), t -> {
                if (!closing.get()) return;
                try {
                    graceSeen.set(r.synchronize(Duration.ofSeconds(10)));
                } catch (Throwable e) {
                    graceSeen.set(e);
                }
                r.retire(new Tagged("retired by an action of close()"), x -> retiredByAction.incrementAndGet());
            });
            closing.set(true);
            r.close();
            if (graceSeen.get() != null) assertEquals(Boolean.TRUE, graceSeen.get(), "a grace period inside close()");
            assertEquals(1, retiredByAction.get(), "the object an action of close() retired");
            Stats s = r.stats();
            assertEquals(2, s.retired(), s.toString());
            assertEquals(2, s.reclaimed(), s.toString());
        } finally {
            closeQuietly(r);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Smaller promises
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Reclaimer.inGuard and Registration.inGuard: "closes it, also when block throws". The exception reaches the
     * caller unchanged, and no guard is left open: close() completes on the same thread.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void inGuardClosesTheGuardWhenTheBlockThrows(String name) {
        Reclaimer r = create(name);
        try {
            IllegalArgumentException thrown = new IllegalArgumentException("from the block");
            assertSame(thrown, assertThrows(IllegalArgumentException.class, () -> r.inGuard(g -> {
                throw thrown;
            })));
            try (Registration reg = r.register()) {
                assertSame(thrown, assertThrows(IllegalArgumentException.class, () -> reg.inGuard(g -> {
                    throw thrown;
                })));
                assertDoesNotThrow(reg::quiescent, "quiescent() after inGuard threw: the guard was left open");
                reg.offline();
            }
            assertDoesNotThrow(r::close, "close() after inGuard threw: the guard was left open");
        } finally {
            closeQuietly(r);
        }
    }

    /** A holder with a reference field, for the VarHandle forms of protect. */
    static final class Holder {
        volatile Tagged value = new Tagged("in a field");
        static final VarHandle VALUE;

        static {
            try {
                VALUE = MethodHandles.lookup().findVarHandle(Holder.class, "value", Tagged.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    /**
     * Guard.protect(VarHandle, Object, int): "@param slot the slot, 0 <= slot < slots()", "@throws
     * IllegalArgumentException if slot is out of range": the same range as the AtomicReference form, on thread and
     * owned guards.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void theFieldFormOfProtectAcceptsExactlyTheSlotRange(String name) {
        Reclaimer r = create(name);
        Holder h = new Holder();
        try {
            try (Guard g = r.enter()) {
                checkFieldSlots(g, h);
            }
            OwnedGuard owned = r.enterOwned();
            try {
                checkFieldSlots(owned, h);
            } finally {
                owned.close();
            }
        } finally {
            closeQuietly(r);
        }
    }

    private static void checkFieldSlots(Guard g, Holder h) {
        int n = g.slots();
        assertTrue(n >= Guard.MIN_SLOTS);
        for (int s = 0; s < Guard.MIN_SLOTS; s++) assertSame(h.value, g.<Tagged>protect(Holder.VALUE, h, s));
        assertThrows(IllegalArgumentException.class, () -> g.protect(Holder.VALUE, h, -1), "slot -1");
        assertThrows(IllegalArgumentException.class, () -> g.reserve(0, -1), "reserve(0, -1)");
        if (n < Integer.MAX_VALUE) {
            assertSame(h.value, g.<Tagged>protect(Holder.VALUE, h, n - 1));
            assertThrows(IllegalArgumentException.class, () -> g.protect(Holder.VALUE, h, n), "slot " + n + " of " + n);
            assertThrows(IllegalArgumentException.class, () -> g.reserve(0, n), "reserve(0, " + n + ")");
        }
    }

    /**
     * ReclaimerProvider: "Returns the short names (Scheme.name()) of the schemes this provider can create";
     * supports: "true if create(Scheme) will succeed for it"; priority: "The built-in provider has priority 0";
     * Reclaimer.scheme(): "this reclaimer's scheme and tuning". Found by ServiceLoader as a client finds it, the
     * built-in provider names every scheme it creates (crystalline-w too), supports every tuning, and the reclaimers
     * report the tuning they were given.
     */
    @Test
    void theBuiltInProviderNamesAndCreatesEverySchemeWithItsTuning() {
        // The tests run inside module reclaim.impl, which provides the service but does not use it; a client does.
        ApiContractAdversarialProbeTest.class.getModule().addUses(ReclaimerProvider.class);
        List<ReclaimerProvider> providers = ServiceLoader.load(ReclaimerProvider.class).stream()
                .map(ServiceLoader.Provider::get).toList();
        ReclaimerProvider builtin = providers.stream().filter(p -> p instanceof BuiltinProvider).findFirst()
                .orElseThrow(() -> new AssertionError("ServiceLoader found no built-in provider: " + providers));
        assertEquals(0, builtin.priority());
        assertNotNull(builtin.name());
        List<Scheme> tuned = List.of(new Scheme.Qsbr(32, 1_000, 5_000_000), new Scheme.Ebr(16, 8, 1_000_000),
                new Scheme.HazardPointers(5, 3), new Scheme.Hyaline(16, false), new Scheme.Hyaline(16, true),
                new Scheme.Crystalline(16, 5), new Scheme.Crystalline(16, 5, true), new Scheme.None());
        for (Scheme s : tuned) {
            assertTrue(builtin.schemes().contains(s.name()), s + " missing from " + builtin.schemes());
            assertTrue(builtin.supports(s), s.toString());
            try (Reclaimer r = Reclaimer.create(s)) {
                assertEquals(s, r.scheme());
                assertEquals(s.name(), r.stats().scheme());
                assertEquals(s.robust(), r.pendingBound() < Long.MAX_VALUE, s.toString());
            }
            try (Reclaimer r = builtin.create(s, Options.DEFAULT.withChecked(true).withBarrier(Options.Barrier.FENCE))) {
                assertEquals(s, r.scheme());
                Object o = new Tagged("twice");
                r.retire(o, x -> {});
                assertThrows(IllegalStateException.class, () -> r.retire(o, x -> {}), "checked options ignored");
            }
        }
        for (String n : Scheme.NAMES) assertTrue(builtin.schemes().contains(n), n);
        assertTrue(builtin.schemes().contains("crystalline-w"));
        assertFalse(Reclaimer.availableSchemes().contains("crystalline-w"));
    }

    /**
     * Scheme.Qsbr's constructor: "@throws IllegalArgumentException if batchSize or stallThresholdNanos is not
     * positive, or passIntervalNanos is negative (0: a pass at every quiescent state)".
     */
    @Test
    void qsbrTuningRefusesWhatItsDocumentationRefuses() {
        assertThrows(IllegalArgumentException.class, () -> new Scheme.Qsbr(0, 1, 1), "batchSize 0");
        assertThrows(IllegalArgumentException.class, () -> new Scheme.Qsbr(64, 1, 0), "stallThresholdNanos 0");
        assertThrows(IllegalArgumentException.class, () -> new Scheme.Qsbr(64, -1, 1), "passIntervalNanos -1");
        assertEquals(0, new Scheme.Qsbr(64, 0, 1).passIntervalNanos(), "passIntervalNanos 0 is allowed");
    }
    // ---------------------------------------------------------------------------------------------------------
    // A refused close() seen by a registered thread; stalls of owned guards; a Born that fails
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Reclaimer: close() "called while guards are still open ... throws IllegalStateException and stops accepting new
     * guards ...; the open guards finish normally, and a later close() completes"; Registration.enter: "@throws
     * IllegalStateException ... when the reclaimer is closed"; online(): "@throws IllegalStateException ... when the
     * reclaimer is closed"; close(): "requires registered threads to be offline or deregistered". On a registered
     * thread whose own guard refused the close: the open guard nests and works, the next outermost guard through the
     * registration is refused, online() is refused, and once the thread is offline close() completes.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aRefusedCloseRefusesTheNextGuardOfARegisteredThread(String name) {
        Reclaimer r = create(name);
        AtomicReference<Tagged> head = new AtomicReference<>(new Tagged("head"));
        AtomicInteger ran = new AtomicInteger();
        try (Registration reg = r.register()) {
            try (Guard g = reg.enter()) {
                assertNotNull(g.protect(head));
                IllegalStateException refused = assertThrows(IllegalStateException.class, r::close);
                assertTrue(refused.getMessage().contains("open"), refused.getMessage());
                assertFalse(r.isClosed());
                try (Guard nested = reg.enter()) { // not a new guard: the open one, one level deeper
                    assertSame(head.get(), nested.protect(head));
                }
                g.retire(head.getAndSet(new Tagged("next")), t -> ran.incrementAndGet());
                // "stops accepting ... retires from other threads": this thread's, inside its open guard, still count
                r.retire(head.getAndSet(new Tagged("after")), t -> ran.incrementAndGet());
            }
            assertThrows(IllegalStateException.class, reg::enter, "a new guard through the registration after a refused close()");
            assertThrows(IllegalStateException.class, r::enter, "a new guard after a refused close()");
            assertThrows(IllegalStateException.class, reg::online, "online() after a refused close()");
            reg.offline();
            assertDoesNotThrow(r::close, "close() again, no guard open and the registered thread offline");
            assertTrue(r.isClosed());
            assertEquals(2, ran.get());
            Stats s = r.stats();
            assertEquals(2, s.retired(), s.toString());
            assertEquals(2, s.reclaimed(), s.toString());
        } finally {
            closeQuietly(r);
        }
    }

    /**
     * OwnedGuard: "under QSBR an owned guard is online from enterOwned() until close() and holds reclamation back
     * exactly as long as an open guard does (reported in Stats.stalled() if that is long)"; Stats.stalled: "threads
     * currently inside a guard that hold back reclamation for longer than the scheme's stall threshold (... EBR and
     * QSBR, detect and report stalls here)". With a threshold of 1 ns an owned guard that holds reclamation back is
     * reported, and no longer once it is closed.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ebr", "qsbr"})
    void anOwnedGuardThatHoldsReclamationBackIsReportedAsStalled(String name) {
        Scheme scheme = name.equals("ebr") ? new Scheme.Ebr(64, 1, 1) : new Scheme.Qsbr(64, 1, 1);
        Reclaimer r = Reclaimer.create(scheme);
        AtomicInteger ran = new AtomicInteger();
        try {
            OwnedGuard owned = r.enterOwned();
            int stalled = 0;
            int retires = 0;
            try {
                assertNotNull(owned.protect(new AtomicReference<>(new Tagged("held"))));
                for (int i = 0; i < 10_000 && stalled == 0; i++) {
                    r.retire(new Tagged("t" + i), t -> ran.incrementAndGet());
                    retires++;
                    r.flush();
                    stalled = r.stats().stalled();
                }
                assertEquals(0, ran.get(), "reclaimed while an owned guard open since before every retire held it back");
            } finally {
                owned.close();
            }
            assertEquals(1, stalled, "an owned guard holding " + name + " back past a 1 ns threshold, after "
                    + retires + " retires and flushes: " + r.stats());
            r.flush();
            Stats s = r.stats();
            assertEquals(0, s.stalled(), s.toString());
            assertEquals(retires, ran.get(), s.toString());
        } finally {
            closeQuietly(r);
        }
    }

    /** A Born object whose birthEra() always throws: user code that the scheme calls. */
    record BadBorn(int id) implements Born {
        @Override
        public long birthEra() {
            throw new UnsupportedOperationException("birthEra() of " + this + " always fails");
        }
    }

    /**
     * Reclaimer.retire and Guard.retire: "@throws NullPointerException if object or action is null; @throws
     * IllegalStateException if the reclaimer is closed; in checked mode also ...; a refused retire retires nothing";
     * Reclaimer.close: "Reclaims every retired object", "once close() returns, every retired object's action has run
     * exactly once". A retired Born object whose birthEra() always throws (user code, as a reclaim action is) may be
     * refused at its own retire, but the retire of another object, which is not Born, throws none of it; a retire
     * that throws retires nothing; close() completes and runs each action of an accepted retire once.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aBornWhoseBirthEraThrowsBreaksNoOtherRetire(String name) {
        Reclaimer r = create(name);
        AtomicInteger ran = new AtomicInteger();
        List<String> othersRefused = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        int accepted = 0;
        try {
            for (int i = 0; i < 300; i++) {
                boolean bad = i % 100 == 7;
                Object o = bad ? new BadBorn(i) : new Tagged("t" + i);
                try {
                    r.retire(o, x -> ran.incrementAndGet());
                    accepted++;
                } catch (RuntimeException e) {
                    if (!bad) othersRefused.add("retire of " + o + " threw " + e);
                }
            }
            try {
                r.flush();
            } catch (RuntimeException e) {
                seen.add("flush() threw " + e);
            }
            Throwable closed = null;
            try {
                r.close();
            } catch (Throwable e) {
                closed = e;
            }
            assertEquals(null, closed, "close() with a Born object whose birthEra() throws");
            assertTrue(r.isClosed());
            assertEquals(List.of(), othersRefused.subList(0, Math.min(3, othersRefused.size())), othersRefused.size()
                    + " retires of objects that are not Born threw the exception of another object's birthEra(); " + seen);
            assertEquals(accepted, ran.get(), "actions run after close(), against the retires that returned normally");
            Stats s = r.stats();
            assertEquals(s.retired(), s.reclaimed(), s.toString());
        } finally {
            closeQuietly(r);
        }
    }
}
