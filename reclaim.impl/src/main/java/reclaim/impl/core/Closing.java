package reclaim.impl.core;

import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import reclaim.api.Guard;

/**
 * {@code close()} of a {@link Core}, and what it needs while it runs: the closing thread, the objects that reclaim
 * actions retire while it drains, and the count of retired objects fixed when it completes.
 *
 * <h2>What close() does</h2>
 * <ol>
 *   <li>It marks the core CLOSING (a volatile store): no guard opens from then on, and no collection starts (a
 *       collection counts itself in flight, then reads the state: {@link Lifecycle}).</li>
 *   <li>It waits, bounded, for collections already running, while the participants are still open, so that their
 *       actions may still retire.</li>
 *   <li>It closes every participant, sealing its bag. A participant held by a guard counts as open: a positive
 *       state word, a sticky participant's open flag, or a hazard or reservation the policy sees. Its own guards
 *       count at once; another thread's are waited for until the deadline. Under the asymmetric barrier the idle
 *       participants of live threads are taken first, all of them, under one heavy barrier
 *       ({@link #closeIdleHeld}).</li>
 *   <li>With a guard open it throws {@link IllegalStateException} and leaves the core CLOSING: a later
 *       {@code close()} completes.</li>
 *   <li>Work that guards leaving with detached batches, or sweeps, counted in flight before they released a
 *       participant shows now; if any is still running at the deadline, it throws in the same way.</li>
 *   <li>With an action executor, it takes every handed-off batch that has not started and waits, until the
 *       deadline, for those that have (refusing in the same way); it runs the ones it took in its drain.</li>
 *   <li>It drains every sealed bag, and what actions retire meanwhile, then marks the core CLOSED.</li>
 * </ol>
 * The deadline is {@code Options.closeWait()} (one second by default) for the whole call (none for an abandoned core:
 * see {@link #abandon()}). Actions run by the drain may enter guards (they get none: nothing
 * else is reclaimed meanwhile) and retire (into {@link #late}); a {@code close()} they call is refused.
 *
 * <p>"Nothing else is reclaimed meanwhile" holds only while the action runs: the drain runs the next action once it
 * returns. So a guard that an action leaves open (opened and not closed, kept in a field or lost) is closed when the
 * action returns, before the next action runs ({@link #actionReturned}), and the action counts as failed: the guard
 * could otherwise still read objects the drain goes on to reclaim, and {@code close()} would complete with a guard
 * open. That holds for every action close() runs on its thread, from the moment it marks the core CLOSING: the
 * drain's, and those that closing a dead thread's participant runs (a sweep walks what its guard held), which may
 * happen in a close() that then refuses.
 */
final class Closing {
    private final Core core;
    /**
     * How long close() waits, in all, for participants still in use (a flush holding one BUSY, a guard that is
     * just finishing) and for work in flight, before it reports them: {@code Options.closeWait()}, in nanoseconds,
     * saturated at {@code Long.MAX_VALUE} (the deadline's wrapping arithmetic is exact up to that).
     */
    private final long waitNanos;
    private final Object lock = new Object();
    /** The thread running close(); its reclaim actions may still retire (accepted into {@link #late}). */
    private volatile Thread closer;
    /** The closer's guard, once one of its reclaim actions opened it ({@link Core}'s pinSlow); closer only. */
    private ThreadGuard actionGuard;
    /** Objects retired by reclaim actions while close() drains; touched only by the closer. */
    private final List<Batch> late = new ArrayList<>();
    /** Count of {@link #late} retires; written by the closer, read by stats(). */
    private volatile long lateRetired;
    /** Objects retired in all, fixed when close() completes (the participants are dropped then); -1 before. */
    private volatile long retiredAtClose = -1;

    Closing(Core core) {
        this.core = core;
        long w;
        try {
            w = core.options.closeWait().toNanos();
        } catch (ArithmeticException e) { // beyond about 292 years
            w = Long.MAX_VALUE;
        }
        this.waitNanos = w;
    }

    /** @return how long close() waits, in all, in nanoseconds (for tests) */
    long waitNanos() {
        return waitNanos;
    }

    /** @return whether the calling thread is running close() (it is one of close()'s reclaim actions) */
    boolean isCloser() {
        return closer == Thread.currentThread();
    }

    /** @return the retires of actions run by close() */
    long lateRetired() {
        return lateRetired;
    }

    /** @return the objects retired in all once close() completed, or -1 */
    long retiredAtClose() {
        return retiredAtClose;
    }

    /**
     * Notes the guard that a reclaim action run by close() opened (closer only).
     *
     * @param g the closing thread's guard
     */
    void actionEntered(ThreadGuard g) {
        actionGuard = g;
    }

    /**
     * After each action that close() runs on its thread: closes the guard the action left open, if it did (see the
     * class documentation). On another thread than the closer: nothing.
     *
     * @return the failure to count against the action if it left a guard open, else null
     */
    IllegalStateException actionReturned() {
        if (closer != Thread.currentThread()) return null; // another thread's action, run while close() waits for it
        ThreadGuard g = actionGuard;
        if (g == null || g.depth() == 0) return null;
        int left = g.depth();
        Guard view = g.checked != null ? g.checked : g; // checked mode: its view forgets what the guard read
        while (g.depth() > 0) view.close();
        return new IllegalStateException("a reclaim action run by close() left " + left + " guard(s) of this " + core.name
                + " reclaimer open; close() closed them when the action returned, before reclaiming anything else");
    }

    /** Accepts a retire from a reclaim action that close() runs (closer only). */
    void retireLate(Object object, Consumer<?> action) {
        if (core.check != null) core.check.retiring(object);
        Batch b = late.isEmpty() ? null : late.get(late.size() - 1);
        if (b == null || b.size() == core.batchSize) late.add(b = new Batch(core.batchSize));
        b.add(object, action);
        lateRetired = lateRetired + 1; // closer only
    }

    /** Set once the reclaimer the user holds became unreachable without close(); through {@code ABANDONED}. */
    private boolean abandoned;

    /**
     * Closes a core whose reclaimer became unreachable without close() (called by the cleaner). No call on it is in
     * progress (the handle fences every call), but guards opened before may still be open, held by code that kept
     * only the guard: then this close is refused and the last of those guards to close finishes it
     * ({@link #leftWhileClosing()}). A registration that was dropped while its thread was online (QSBR) holds it
     * back for good, as it would hold back an explicit close().
     */
    void abandon() {
        ABANDONED.setVolatile(this, true); // before the attempt: a guard that closes after it sees the flag
        if (tryAbandonedClose()) return;
        // Under the fence strategy a guard's close stores its open word (release) and then reads the state (opaque),
        // with no fence between: a guard closing at this very moment may have read OPEN while our read of its open
        // word (after our full fence) missed its store of 0, and then neither side would finish the close. Its store
        // is visible a moment later: look once more. (Under the asymmetric strategy the heavy barrier before our read
        // orders its store and its read, and this second attempt only repeats the first.)
        long until = System.nanoTime() + RECHECK_NANOS;
        while (System.nanoTime() - until < 0) Thread.onSpinWait();
        tryAbandonedClose();
    }

    /** How long {@link #abandon()} waits before it looks at a refused abandoned close once more: 100 µs. */
    private static final long RECHECK_NANOS = 100_000L;

    /** Called by a guard that closes while the core is not open: finishes an abandoned core's close. */
    void leftWhileClosing() {
        if ((boolean) ABANDONED.getVolatile(this)) tryAbandonedClose();
    }

    /** Attempts an abandoned core's close; returns false if a guard or work in flight refused it (they retry). */
    private boolean tryAbandonedClose() {
        try {
            close(true);
            return true;
        } catch (IllegalStateException stillOpen) {
            return false; // a guard or work in flight remains: whichever ends last retries
        } catch (RuntimeException e) {
            System.getLogger("reclaim").log(System.Logger.Level.WARNING,
                    "a " + core.name + " reclaimer dropped without close() could not reclaim everything it held", e);
            return true;
        }
    }

    void close(boolean abandoned) {
        synchronized (lock) {
            if (core.stateVolatile() == Lifecycle.CLOSED) return;
            Thread self = Thread.currentThread();
            if (closer == self) { // from a reclaim action that close() itself runs: it cannot complete here
                throw new IllegalStateException("close() called by a reclaim action that close() runs: the reclaimer"
                        + " closes when that close() returns");
            }
            // Store-load pairs: with append() (the state, then the registry), with Lifecycle.tryBeginWork (the state,
            // then the count of work in flight).
            core.setStateVolatile(Lifecycle.CLOSING);
            closer = self;
            // From here on every reclaim action this thread runs is checked for a guard it left open: the drain's,
            // and those of dead threads' batches that closing their participants runs (Hyaline's and Crystalline's
            // sweeps walk what the dead thread's guard held).
            core.reclamation().drainingFor(this);
            // Spins, yields, then parks of up to a millisecond: a long wait costs no core. A park would answer a
            // pending interrupt at once, again and again, so the waits clear it; it is restored (backoff.done())
            // before anything here runs reclaim actions (sweeps, the drain) and on the way out.
            Backoff backoff = new Backoff();
            try {
                // An abandoned core does not wait: the guards and work it would wait for finish the close themselves.
                long deadline = System.nanoTime() + (abandoned ? 0 : waitNanos);
                // A guard the caller holds open makes this close() refuse whatever it would wait for: it waits for
                // nothing then (another thread's guard may be waiting on the caller).
                if (callerInGuard(core.participants.all())) deadline = System.nanoTime();
                // Collections already running end while the participants are still open (their actions may
                // retire); none starts from now on.
                core.awaitQuiet(deadline, backoff);
                Participant[] ps = core.participants.all();
                backoff.done(); // the sweeps below may run actions
                closeIdleHeld(ps);
                int open = 0;
                for (Participant p : ps) {
                    if (!closeParticipant(p, deadline, backoff)) open++;
                }
                // A guard on a sticky participant shows in its open flag (or in a hazard or reservation it
                // published), not in the state word. Store-load order between our CASes above and the reads below:
                // a full fence, or membarrier where readers publish with opaque stores (Barrier).
                core.heavy();
                for (Participant p : ps) {
                    if (p.stateVolatile() == Participant.CLOSED && !closedIdle(p, deadline, backoff)) open++;
                }
                if (open > 0) {
                    throw new IllegalStateException(open + " guard(s) of this " + core.name + " reclaimer are still open"
                            + " (or registered threads online): it accepts no new guards; close them (take registered"
                            + " threads offline or deregister them), then call close() again to reclaim everything");
                }
                // Every participant is CLOSED: no guard is open and none can open. Work that leaving guards counted
                // in before releasing their participants is seen now (Lifecycle).
                if (!core.awaitQuiet(deadline, backoff)) {
                    throw new IllegalStateException("reclamation is still running on another thread (or this close()"
                            + " was called by a reclaim action): this " + core.name + " reclaimer accepts no new guards;"
                            + " call close() again once it has ended, to reclaim everything");
                }
                // Batches handed to the action executor: take those not started, wait for those running (nothing
                // can be handed off any more), so that the drain below runs with no other thread running actions.
                if (!core.reclamation().keepHandedOff(deadline, backoff)) {
                    throw new IllegalStateException("reclaim actions are still running on the action executor: this "
                            + core.name + " reclaimer accepts no new guards; call close() again once they have"
                            + " ended, to reclaim everything");
                }
                backoff.done(); // the drain runs actions
                if (core.check != null) core.check.draining(); // checked mode: name what is reclaimed this late
                core.policy.tidyClosed(); // what the scheme kept for guards that have all closed (Hyaline's late links)
                core.sealed.drain(core.participants.all(), core.reclamation()::run); // the closer runs them itself
                core.reclamation().drainDeferred(); // what trickling collections left for later seals
                core.reclamation().runKept();
                while (!late.isEmpty()) { // actions may retire more while they run: detach, then run
                    List<Batch> batches = new ArrayList<>(late);
                    late.clear();
                    for (Batch lb : batches) core.reclamation().run(lb);
                }
                retiredAtClose = core.retiredSoFar(core.participants.all());
                core.setStateVolatile(Lifecycle.CLOSED);
                core.participants.dropAll();
                core.telemetry.closed(core); // the last JFR snapshot; the periodic one is removed
            } finally {
                backoff.done();
                core.reclamation().drainDone();
                actionGuard = null; // every action's guard was closed when it returned (actionReturned)
                closer = null;
            }
        }
    }

    /**
     * Closes, before {@link #closeParticipant} goes through them one by one, the participants that other threads hold
     * between guards, with one heavy barrier for all of them: under the asymmetric barrier the owner of such a
     * participant may be adding to its bag without taking it ({@code Core.claimBag}), which a taker must rule out
     * after a heavy barrier ({@code Core.bagInUse}), one per participant if taken one at a time. Each is taken BUSY
     * (as closeParticipant would, with no guard open on it), then one heavy barrier, then each is sealed and marked
     * CLOSED unless, read again after the barrier, its owner's bag word is set or its owner has a guard open (an
     * enter whose open word the first read missed, its store still in its CPU's buffer); those go back to HELD, and
     * closeParticipant waits for them as it does for a participant a flush holds or a guard holds open. The sweeps
     * come first, in a pass of their own, as a flush's do: a sweep may run reclaim actions (what a thread that ended
     * inside a guard held), and none may run while participants are held BUSY here. Under fences a retire takes its
     * bag by CAS and there is nothing to share: nothing is done.
     *
     * @param ps every participant
     */
    private void closeIdleHeld(Participant[] ps) {
        if (!core.bagWord) return;
        for (Participant p : ps) core.participants.sweepAndWalk(p);
        Participant[] held = new Participant[ps.length];
        int n = 0;
        try {
            for (Participant p : ps) {
                ThreadRef h = p.holderOpaque();
                if (h != null && h.isCurrent()) continue; // our own: its bag word is ours, closeParticipant takes it
                if (p.stateVolatile() == Participant.HELD && !(p.guardOpen() || core.policy.inUse(p))
                        && p.casState(Participant.HELD, Participant.BUSY)) {
                    held[n++] = p;
                }
            }
            if (n == 0) return;
            core.heavy(); // bagInUse's barrier, once for every participant in held
            for (int i = 0; i < n; i++) {
                Participant p = held[i];
                held[i] = null;
                // After the barrier, the owner's words again: its bag word (retiring), and its open word and the
                // policy's words, read before the barrier above only as a filter. An enter that stored its open word
                // and then read OPEN, reordered by its CPU under that first read, is seen now (the store-load pair
                // with the enter's check of the core's state, Core.openSticky); such a participant goes back to HELD,
                // and closeParticipant waits for its guard as for any other.
                if (Core.ownerUsesBag(p) || p.guardOpen() || core.policy.inUse(p)) p.setStateRelease(Participant.HELD);
                else sealClosed(p, Participant.HELD);
            }
        } finally {
            // heavy() or a seal threw: what was not reached goes back as it was
            for (int i = 0; i < n; i++) if (held[i] != null) held[i].setStateRelease(Participant.HELD);
        }
    }

    /**
     * Takes a participant for good: seals its bag and marks it CLOSED.
     *
     * @return false if a guard (or an online registered thread, or a flush that does not finish) holds it
     */
    private boolean closeParticipant(Participant p, long deadline, Backoff backoff) {
        backoff.done(); // a sweep may run actions
        core.participants.sweepAndWalk(p);
        ThreadRef h = p.holderOpaque();
        boolean mine = h != null && h.isCurrent();
        while (true) {
            long s = p.stateVolatile();
            if (s == Participant.CLOSED) return true;
            boolean idle = s == Participant.FREE || s == Participant.HELD;
            if (idle && !(p.guardOpen() || core.policy.inUse(p))) {
                if (!p.casState(s, Participant.BUSY)) continue;
                boolean inUse;
                try {
                    // Its owner may be adding to the bag outside a guard (Core.claimBag): then let it finish, as when
                    // a flush holds it BUSY (below).
                    inUse = s == Participant.HELD && !mine && core.bagInUse(p);
                } catch (RuntimeException | Error e) {
                    p.setStateRelease(s); // the barrier threw: as it was
                    throw e;
                }
                if (!inUse) {
                    sealClosed(p, s);
                    return true;
                }
                p.setStateRelease(s);
                if (System.nanoTime() - deadline > 0) return false;
                backoff.pause(deadline);
                continue;
            }
            // A guard (announced, or open on a sticky participant), an online executor, or a flush or seal in
            // progress (BUSY): it may be just finishing. Wait, bounded (a flush may itself be blocked on us, an
            // action calling close()); past the deadline, or at once if it is our own guard, count it as open.
            if (mine && s != Participant.BUSY) return false;
            backoff.done(); // a sweep may run actions
            if (core.participants.sweepAndWalk(p)) continue;
            if (System.nanoTime() - deadline > 0) return false;
            backoff.pause(deadline);
        }
    }

    /**
     * Whether the calling thread holds a guard of this core open on a participant of its own (its open flag, a
     * hazard or reservation, an announcement), or, under QSBR, is online: then {@code close()} refuses whatever
     * else it finds, as {@link #closeParticipant} and {@link #closedIdle} count such a guard at once.
     */
    private boolean callerInGuard(Participant[] ps) {
        for (Participant p : ps) {
            long s = p.stateVolatile();
            // Ours if we hold it, or (closed by an earlier close(), which clears the holder) if our guard owns it
            ThreadRef h = p.holderOpaque();
            ThreadGuard o = p.ownerAcquire();
            if (!(h != null && h.isCurrent()) && !(o != null && o.ownedByCaller())) continue;
            // Idle, closed, or BUSY (another thread's flush sealing it: its holder's guard shows in its open flag):
            // a guard shows in the open flag, a hazard or a reservation; any other state is an announcement
            boolean noAnnouncement = s == Participant.FREE || s == Participant.HELD || s == Participant.CLOSED
                    || s == Participant.BUSY;
            if (!noAnnouncement || p.guardOpen() || core.policy.inUse(p)) return true;
        }
        return false;
    }

    /**
     * Seals the bag of {@code p}, which the caller holds BUSY (taken from state {@code s}), and marks it CLOSED. If the
     * seal throws (an allocation failing), {@code p} goes back to {@code s} with its bag in place, and the failure
     * propagates: closed, that bag would never be drained, and a later {@code close()} takes it again.
     */
    private void sealClosed(Participant p, long s) {
        boolean sealed = false;
        try {
            core.seal(p);
            sealed = true;
        } finally {
            if (sealed) {
                p.setHolderOpaque(null);
                p.setStateRelease(Participant.CLOSED);
            } else {
                p.setStateRelease(s);
            }
        }
    }

    /**
     * Whether a participant close() took shows no guard (its owner's open flag, a hazard or reservation), waiting,
     * bounded, for another thread's: a guard just closing, or an enter that met CLOSING and is taking its open flag
     * back ({@code Core.openSticky}). The caller's own guard counts at once.
     */
    private boolean closedIdle(Participant p, long deadline, Backoff backoff) {
        while (p.guardOpen() || core.policy.inUse(p)) {
            ThreadGuard o = p.ownerAcquire();
            if (o == null || o.ownedByCaller()) return false;
            if (System.nanoTime() - deadline > 0) return false;
            backoff.pause(deadline);
        }
        return true;
    }

    private static final VarHandle ABANDONED;

    static {
        try {
            ABANDONED = java.lang.invoke.MethodHandles.lookup().findVarHandle(Closing.class, "abandoned", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
