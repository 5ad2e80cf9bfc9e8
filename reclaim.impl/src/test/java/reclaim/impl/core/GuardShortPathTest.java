package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;

/**
 * The short path of a thread's outermost guards ({@link ThreadGuard#fast}): decided on the first outermost enter
 * after the thread's participant changed, and decided again after every change (a registration, the sticky
 * participant becoming one, a deregistration). At each stage a guard must still protect what it read (the scheme's
 * binding to the participant is what the short path skips re-checking), and the path taken must be the one the
 * participant's kind calls for. A guard that the general path opens on such a thread (close()'s own reclaim
 * actions get one with no participant) closes as the general path closes it. A change made by a reclaim action that a
 * short close walks (registering the thread, closing its registration) is decided again at the next guard, and an
 * offline QSBR executor that retires outside its guards stays offline and keeps its path.
 */
class GuardShortPathTest {
    /** Every built-in scheme under each barrier strategy that this machine runs. */
    static Stream<Object[]> schemes() {
        List<Object[]> cases = new ArrayList<>();
        for (String s : List.of("qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w")) {
            cases.add(new Object[] {s, Options.Barrier.FENCE});
            if (Membarrier.unavailableReason() == null) cases.add(new Object[] {s, Options.Barrier.ASYMMETRIC});
        }
        return cases.stream();
    }

    /** A retired object: whether its action ran. */
    static final class Obj {
        volatile boolean reclaimed;
    }

    /**
     * One guard on the calling thread: protects the cell's object, retires it (replaced), flushes inside the guard
     * (the object must survive), closes, flushes (it must be reclaimed).
     */
    private static void guardProtects(Reclaimer r, String stage) {
        AtomicReference<Obj> cell = new AtomicReference<>(new Obj());
        Obj seen;
        try (Guard g = r.enter()) {
            seen = g.protect(cell, 0);
            cell.set(new Obj());
            g.retire(seen, o -> o.reclaimed = true);
            r.flush();
            assertFalse(seen.reclaimed, stage + ": reclaimed while the guard that protected it was open");
        }
        for (int i = 0; i < 4 && !seen.reclaimed; i++) r.flush();
        assertTrue(seen.reclaimed, stage + ": not reclaimed after the guard closed and flushes");
    }

    private static ThreadGuard guardOf(Reclaimer r) {
        return ((ReclaimerHandle) r).guard();
    }

    /**
     * The path a thread's outermost guards must take, from what the thread holds: a leased participant (none of its
     * own) takes the general path; its own participant takes the open word's short path where it announces there (a
     * sticky core, or QSBR's unregistered threads), with a fence after the store under fences (it orders the store
     * before the enter's read of the reclaimer's state), and the reserved short path where the core hands it to the policy's reserved enter and exit
     * (QSBR's registrations, Hyaline's under fences).
     */
    private static byte expectedPath(Core core, ThreadGuard g) {
        if (g.registered() == null) return ThreadGuard.GENERAL;
        if (!core.sticky && !g.stickyParticipant()) return ThreadGuard.FAST_RESERVED;
        return core.openKind;
    }

    /**
     * The open word's kind carries what its enter and leave must do, so that they test it in a register: a fence under
     * the fence strategy only, the policy's announcement where the core stores it, and the policy's leave only for the
     * schemes that detach something there (HP its hazards, Hyaline its slot's list, Crystalline its reservations): a
     * scheme that detaches and lost the bit would leave its protection behind at every close.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void theOpenWordKindSaysWhatItsEnterAndLeaveDo(String scheme, Options.Barrier barrier) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier));
        try {
            Core core = ReclaimerHandle.coreOf(r);
            byte kind = core.openKind;
            assertTrue(kind >= ThreadGuard.OPEN_WORD, "an open word kind: " + kind);
            assertEquals(barrier == Options.Barrier.FENCE, (kind & ThreadGuard.FENCED) != 0, "fenced: " + kind);
            assertEquals(core.openAnnounces, (kind & ThreadGuard.ANNOUNCING) != 0, "announcing: " + kind);
            boolean detaches = List.of("hp", "hyaline", "crystalline", "crystalline-w").contains(scheme);
            assertEquals(detaches, (kind & ThreadGuard.DETACHING) != 0, "detaching: " + kind);
            if (core.sticky) {
                guardProtects(r, "first guards");
                assertEquals(kind, guardOf(r).fast(), "a thread's own sticky participant takes the core's kind");
            }
        } finally {
            r.close();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void everyKindOfOwnParticipantDecidesItsPathAgainAndStillProtects(String scheme, Options.Barrier barrier) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier));
        try {
            Core core = ReclaimerHandle.coreOf(r);
            ThreadGuard g = guardOf(r);
            guardProtects(r, "first guards");
            guardProtects(r, "later guards");
            assertEquals(expectedPath(core, g), g.fast(), "unregistered");
            if (core.barrier.asymmetric()) {
                assertTrue(g.fast() >= ThreadGuard.OPEN_WORD, "a platform thread's own participant: " + g.fast());
            }

            Registration reg = r.register();
            assertEquals(ThreadGuard.UNDECIDED, g.fast(), "registering changes the participant's kind");
            guardProtects(r, "registered");
            guardProtects(r, "registered, later guards");
            assertEquals(expectedPath(core, g), g.fast(), "registered");
            if (core.barrier.asymmetric()) { // every scheme's own participant is on a short path there
                assertTrue(g.fast() > 0, "registered: " + g.fast());
            }

            reg.close();
            assertEquals(ThreadGuard.UNDECIDED, g.fast(), "deregistering drops the participant");
            guardProtects(r, "deregistered");
            guardProtects(r, "deregistered, later guards");
            assertEquals(expectedPath(core, g), g.fast(), "unregistered again");

            Registration again = r.register(); // from a leased or sticky participant again
            guardProtects(r, "registered again");
            again.close();
            guardProtects(r, "after the second registration");
        } finally {
            r.close();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void theShortPathRefusesToEnterAClosedReclaimer(String scheme, Options.Barrier barrier) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier));
        ThreadGuard g = guardOf(r);
        r.enter().close();
        r.enter().close(); // the second outermost enter is the first that may take the short path
        r.close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ReclaimerHandle.coreOf(r).enter(g));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertEquals(0, g.depth(), "a refused enter leaves the guard closed");
    }

    /** {@link #schemes()}, each in checked mode too ({@link Options#checked()}: the handle returns a view of the guard). */
    static Stream<Object[]> schemesChecked() {
        return schemes().flatMap(c -> Stream.of(new Object[] {c[0], c[1], false}, new Object[] {c[0], c[1], true}));
    }

    /**
     * The thread that calls close() took the short path before; close() runs a reclaim action that enters a guard
     * of the same reclaimer (it gets one with no participant: the general path's closing case) and closes it. That
     * close must succeed as the general path's does (nothing to detach), not fail on the missing participant.
     */
    @ParameterizedTest(name = "{0} {1} checked={2}")
    @MethodSource("schemesChecked")
    void aGuardOpenedByCloseOwnActionClosesOnAThreadThatTookTheShortPath(String scheme, Options.Barrier barrier,
            boolean checked) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier).withChecked(checked));
        ThreadGuard g = ((ReclaimerHandle) r).guard();
        r.enter().close();
        r.enter().close(); // decided by now
        byte path = g.fast();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<Object> protectedInside = new AtomicReference<>();
        AtomicReference<Object> cell = new AtomicReference<>("payload");
        boolean[] ran = {false};
        r.retire(new Object(), o -> {
            try {
                try (Guard inner = r.enter()) {
                    protectedInside.set(inner.protect(cell, 0));
                }
                ran[0] = true;
            } catch (Throwable t) {
                failure.set(t);
                throw t;
            }
        });
        r.close();
        assertNull(failure.get(), "path " + path + ": the action's guard failed: " + failure.get());
        assertTrue(ran[0], "path " + path + ": the action ran to its end");
        assertEquals("payload", protectedInside.get());
        assertEquals(0, r.stats().failed(), "no reclaim action failed");
        assertEquals(0, g.depth(), "the action's guard closed");
    }

    /**
     * Runs guards on the short path, each of which retires and flushes inside (so that schemes whose guards hold
     * batches, Hyaline and Crystalline, have their close walk one), until {@code action} ran: it runs from a close
     * or a flush, on this thread, outside the guard.
     */
    private static void runFromACloseOrFlush(Reclaimer r, Runnable action) {
        boolean[] ran = {false};
        Throwable[] failed = {null};
        ThreadGuard tg = guardOf(r);
        r.enter().close();
        r.enter().close(); // decided
        java.util.function.Consumer<Object> once = new java.util.function.Consumer<>() {
            @Override
            public void accept(Object o) {
                if (tg.depth() != 0) { // run from a flush inside the guard: retire again, for a later walk outside
                    r.retire(new Object(), this);
                    return;
                }
                try {
                    action.run();
                } catch (Throwable t) {
                    failed[0] = t;
                }
                ran[0] = true;
            }
        };
        r.retire(new Object(), once);
        for (int i = 0; i < 16 && !ran[0]; i++) {
            Guard g = r.enter();
            try {
                r.flush();
            } finally {
                g.close();
            }
            if (!ran[0]) r.flush();
        }
        assertTrue(ran[0], "the action ran");
        if (failed[0] != null) throw new AssertionError("the action failed", failed[0]);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void aRegistrationMadeByAReclaimActionIsDecidedAgainAndProtects(String scheme, Options.Barrier barrier) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier));
        try {
            ThreadGuard g = guardOf(r);
            AtomicReference<Registration> reg = new AtomicReference<>();
            runFromACloseOrFlush(r, () -> reg.set(r.register()));
            assertNotNull(reg.get());
            guardProtects(r, "registered by an action");
            guardProtects(r, "registered by an action, later guards");
            assertTrue(g.fast() != ThreadGuard.UNDECIDED, "decided");
            assertEquals(g.registered(), g.record(), "the guard holds the registration's participant");
            runFromACloseOrFlush(r, () -> reg.get().close());
            assertEquals(null, g.registered(), "deregistered by an action");
            guardProtects(r, "deregistered by an action");
            guardProtects(r, "deregistered by an action, later guards");
        } finally {
            r.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void anOfflineQsbrExecutorThatRetiresOutsideItsGuardsStaysOfflineAndKeepsItsPath(String scheme,
            Options.Barrier barrier) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier));
        try (Registration reg = r.register()) {
            ThreadGuard g = guardOf(r);
            guardProtects(r, "registered");
            byte path = g.fast();
            reg.offline();
            long idle = g.registered().stateVolatile();
            Obj o = new Obj();
            r.retire(o, x -> x.reclaimed = true);
            assertEquals(idle, g.registered().stateVolatile(), "the retire left the executor as it was");
            assertEquals(path, g.fast(), "the retire's guard did not change the path");
            guardProtects(r, "offline, then a guard");
            reg.offline();
            for (int i = 0; i < 4 && !o.reclaimed; i++) r.flush();
            assertTrue(o.reclaimed, "what the offline executor retired is reclaimed");
        } finally {
            r.close();
        }
    }
}
