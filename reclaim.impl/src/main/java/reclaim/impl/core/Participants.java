package reclaim.impl.core;

/**
 * The participants of a core: the registry, leasing a participant per outermost guard, reserving one for a
 * thread (a registration or a sticky participant), and sweeping the participants of threads that ended.
 *
 * <h2>Leases</h2>
 * A guard takes a FREE participant by CAS to what it announces, starting at the participant its thread leased
 * last time (the hint), and gives it back with a release store of FREE when its outermost guard closes. So the
 * registry grows with the number of guards open at once, not with the number of threads that ever entered:
 * thousands of short-lived virtual threads share a handful of participants, and a virtual thread that blocks
 * inside a guard keeps its participant (it is still the same {@code Thread} when it resumes on another carrier).
 * With no FREE participant a new one is appended (wait-free, {@link Registry}). Lock-free: a lease retries only
 * when another thread took the same free participant.
 *
 * <h2>Sweeping</h2>
 * A participant whose holder ended while holding it (registered, sticky, or dead inside a guard) is swept: once
 * {@code holder.isAlive()} is false, the sweeper claims the holder word by CAS (a dead thread never holds a
 * participant again, so the word cannot come back to it: free of ABA, and exactly one sweeper wins), re-reads the
 * state and CASes it to BUSY, adopts the bag, detaches what the dead guard held (the scheme's
 * {@link Policy#swept}) and frees the participant. If the thread had released the participant, it cleared the
 * holder first and the claim fails. What was detached is counted as work in flight (so that {@code close()} waits
 * for it) and returned to the caller, never run here: a sweep happens in the middle of someone's bookkeeping (a
 * lease, a scan), and reclaim actions, which may enter guards and retire, run only once that bookkeeping is
 * complete. A lease hands it to its guard ({@code ThreadGuard.deferred}); the core walks it when the lease's
 * bookkeeping ends, whether it succeeded or threw. The participant of an owned guard ({@link OwnedGuardImpl}) has no
 * holder (its guard belongs to no thread): it is never swept, only released when that guard closes.
 */
final class Participants {
    /** {@link #sweep}'s answer for a participant that was not swept. */
    static final Object NOT_SWEPT = null;
    /** {@link #sweep}'s answer for a participant swept with nothing detached. */
    static final Object NOTHING = new Object() {
        @Override
        public String toString() {
            return "NOTHING";
        }
    };

    /** The holder of a participant being swept: claimed by CAS from the dead holder, so one sweeper wins. */
    static final ThreadRef SWEEPER = ThreadRef.marker();

    private final Core core;
    private final Policy policy;
    private final int batchSize;
    /** The registry: append-only, wait-free append; replaced by an empty one when the core closes. */
    private volatile Registry registry = new Registry();

    Participants(Core core, Policy policy, int batchSize) {
        this.core = core;
        this.policy = policy;
        this.batchSize = batchSize;
    }

    /**
     * Returns the participants as last published (a volatile read: part of every scanner's store–load
     * argument, since appending is a volatile store).
     *
     * @return the participants; do not modify
     */
    Participant[] all() {
        return registry.snapshot();
    }

    /** Drops every participant (close: a racing appender sees the core closed and leaves). */
    void dropAll() {
        registry = new Registry();
    }

    /**
     * Takes a FREE participant by CAS to {@code value} (an announcement, HELD or BUSY), starting at the hint;
     * appends one if none is free. Participants of ended threads met on the way are swept; what they detached
     * goes to {@code g.deferred}, for the caller to run once its own bookkeeping is done.
     *
     * @param g the caller's guard
     * @param value the state to take it in
     * @return the participant, held by the caller
     */
    Participant lease(ThreadGuard g, long value) {
        // The fast path: the participant this thread leased last time, most often free (no registry snapshot).
        Participant last = g.lastLeased;
        if (last != null && last.stateOpaque() == Participant.FREE && last.casState(Participant.FREE, value)) {
            last.setHolderOpaque(g.threadRef);
            return last;
        }
        Participant[] ps = all();
        int n = ps.length;
        int h = g.hint;
        int idx = Math.floorMod(h, Math.max(n, 1));
        for (int i = 0; i < n; i++) {
            Participant p = ps[idx];
            long s = p.stateOpaque();
            // A participant left by a thread that ended (a sticky or registered one, or a guard never closed):
            // sweep it so that it can be reused instead of growing the registry (a bounded check per participant).
            if (s != Participant.FREE && s != Participant.CLOSED && s != Participant.BUSY) {
                Object swept = sweep(p);
                if (swept != NOT_SWEPT) {
                    defer(g, swept);
                    s = Participant.FREE;
                }
            }
            // The opaque pre-check avoids a failing CAS (a locked instruction) on a participant in use.
            if (s == Participant.FREE && p.casState(Participant.FREE, value)) {
                p.setHolderOpaque(g.threadRef);
                g.hint = idx;
                g.lastLeased = p;
                return p;
            }
            if (++idx == n) idx = 0;
        }
        return append(g, value);
    }

    private static void defer(ThreadGuard g, Object swept) {
        if (swept == NOTHING) return;
        if (g.deferred == null) g.deferred = new java.util.ArrayList<>(2);
        g.deferred.add(swept);
    }

    /** Appends a participant already in state {@code value}, held by {@code g}'s thread: wait-free. */
    private Participant append(ThreadGuard g, long value) {
        Participant p = policy.newParticipant(value, g.threadRef, batchSize);
        // The volatile publication in the registry is the announcement's store for the store-load pair with
        // scanners (which read the registry after their fence): see Registry.
        g.hint = registry.append(p);
        g.lastLeased = p;
        // Store-load pair with close(): we published the participant (volatile) and now read the state
        // (volatile); close() writes the state and then reads the registry. One of us sees the other.
        if (core.stateVolatile() != Lifecycle.OPEN) {
            p.setHolderOpaque(null);
            p.setStateRelease(Participant.FREE); // a later close() takes it
            throw core.refused();
        }
        return p;
    }

    /**
     * Gives a leased participant back: clears the holder, then stores FREE with release semantics (which hands
     * its bag and the guard's reads on).
     *
     * @param p a participant the caller holds
     */
    static void release(Participant p) {
        p.setHolderOpaque(null); // before the release: a sweeper that sees FREE (or a later lease) cannot see us
        p.setStateRelease(Participant.FREE);
    }

    /**
     * If the participant's holder has ended, claims it, adopts its bag, detaches what the dead guard held and
     * frees it. Runs no reclaim action. If the seal throws (an allocation failing), the participant is left as it
     * was, its dead holder's, for a later sweep, and the failure propagates.
     *
     * @param p a participant
     * @return {@link #NOT_SWEPT}; {@link #NOTHING} if swept with nothing detached; else what was detached, already
     *     counted in flight, for {@link Core#walkCounted} once the caller's bookkeeping is done
     */
    Object sweep(Participant p) {
        ThreadRef h = p.holderOpaque();
        if (h == null || h == SWEEPER || !h.ended()) return NOT_SWEPT;
        // h has ended (its end happens-before this point: isAlive() returned false, JLS 17.4.4, or its reference was
        // cleared by a collection after its end, see ThreadRef) and a dead thread never holds a participant
        // again, so the holder word cannot come back to h: the claim by CAS is free of ABA and one sweeper wins. If
        // h had released the participant, it cleared the holder first and the CAS fails.
        if (!p.casHolder(h, SWEEPER)) return NOT_SWEPT;
        long s = p.stateVolatile();
        if ((s == Participant.HELD || s > 0) && p.casState(s, Participant.BUSY)) {
            try {
                core.seal(p);
            } catch (RuntimeException | Error e) {
                // An allocation failed: the bag is still in place. Left as it was (the state, then the holder word,
                // as when the state's CAS fails below), so that a later sweep does all of it, the policy's part
                // included; released FREE here, the bag would wait for another seal, but what the ended thread's
                // guard held (Hyaline's session, say) would never be detached.
                p.setStateRelease(s);
                p.casHolder(SWEEPER, h);
                throw e;
            }
            Object detached = null;
            try {
                detached = policy.swept(p);
                // Counted in flight before the release, as a leaving guard counts its own (Lifecycle): from here
                // until it is walked, the detached work is in no participant and no store, and close() must see
                // it. Whoever receives it walks it and counts it out (Core.walkCounted).
                if (detached != null) core.beginWork();
            } finally {
                p.setOwnerRelease(null); // the ended thread's guard (and its open flag) no longer counts
                release(p);
                core.evictCachedGuard(h.id); // nor stays reachable through the handle's cache (GuardLookup)
            }
            return detached == null ? NOTHING : detached;
        }
        p.casHolder(SWEEPER, h); // close() or a flush holds it BUSY right now: leave it as it was
        return NOT_SWEPT;
    }

    /**
     * Sweeps {@code p} if its holder ended and walks what was detached at once: for scanners that run no
     * bookkeeping of their own around the call (collections, flush, close).
     *
     * @param p a participant
     * @return whether it was swept (and announces nothing any more)
     */
    boolean sweepAndWalk(Participant p) {
        Object swept = sweep(p);
        if (swept == NOT_SWEPT) return false;
        if (swept != NOTHING) core.walkSwept(swept);
        return true;
    }

    /**
     * Returns the guard of the participant the calling thread reserved, sticky or by an explicit registration, if
     * it holds one (a thread whose thread locals were reset while it lives finds its guard and participant again
     * instead of leaking the participant).
     *
     * @param t the calling thread
     * @return its guard, or null
     */
    ThreadGuard reservedGuardOf(Thread t) {
        for (Participant p : all()) {
            ThreadGuard own = p.ownerAcquire();
            if (own != null && own.threadId == t.threadId() && own.registered == p) return own;
        }
        return null;
    }
}
