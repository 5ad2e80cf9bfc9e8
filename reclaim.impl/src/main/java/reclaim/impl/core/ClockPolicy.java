package reclaim.impl.core;

/**
 * A policy whose readers announce a clock value and whose bags are judged by the clock read when they were
 * sealed: EBR's epoch, QSBR's grace-period counter, the leak baseline's counter. A bag is stamped at sealing
 * (after the seal's full fence) and reclaimed once every announcement has moved past its stamp.
 */
public abstract class ClockPolicy extends Policy {
    /**
     * The share of the bags waiting in the store that a bounded collection may run, whatever its limit: one in this
     * many. A collection walks every bag it takes (the young ones are put back), so with a fixed limit a backlog made
     * each collection longer without making it run more: past some tens of thousands of bags the walk, inside the
     * collector's guard, outlasted the seals of that time, held the clock back meanwhile, and the backlog grew without
     * end (EBR and QSBR, eight threads on two cores, a write-heavy map: 20 million objects waiting after a few seconds,
     * stall reports every 100 ms). Running a share of the backlog shrinks it geometrically, by a sixteenth at each
     * collection, and keeps what one collection runs within a small multiple of the walk it already makes: one bag run
     * (64 actions by default) per sixteen bags visited. The price is on the one operation that starts a collection
     * after a reader held the clock back: it runs a sixteenth of what piled up (a backlog of 200,000 objects, 3,125
     * bags: some 195 bags, 12,500 actions, where 32 bags was the most before), as it already walked all of it.
     */
    static final int BACKLOG_SHARE = 16;

    /** Creates the policy. */
    protected ClockPolicy() {}

    /** A guard of a clock scheme holds nothing of its own that a leave would detach: its announcement is all. */
    @Override
    protected final Object leaving(ThreadGuard g) {
        return null;
    }

    /** False: {@link #leaving} detaches nothing. */
    @Override
    protected final boolean detachesOnLeave() {
        return false;
    }

    /**
     * Returns the stamp of a bag sealed now; called after a full fence that follows the retires.
     *
     * @return the stamp (read with volatile semantics)
     */
    protected abstract long stampNow();

    /**
     * Advances the clock if the scheme can, and returns the bound below which stamps are safe: a bag with
     * {@code stamp < bound} is reclaimed. Scans {@link Core#participants()}, sweeping with
     * {@link Core#sweepIfDead}.
     *
     * @return the bound; {@code Long.MIN_VALUE} if nothing is safe
     */
    protected abstract long reclaimableBelow();

    @Override
    protected final void sealing(Batch bag) {
        bag.tag(stampNow());
    }

    /**
     * Takes the shared stack's bags once one may be old enough (its tag hint is below the bound), puts back at once,
     * with one push, those it will not run (too young, or past {@code limit} and the backlog's share:
     * {@link #BACKLOG_SHARE}), then runs the others. With nothing old
     * enough it stops at the hint, after the clock advance attempt (which a queue's peek needed as well): a stalled
     * reader does not make every collection walk the bags it holds back. The
     * young bags are out of the stack only while the chain is split (no user code runs meanwhile), so a racing
     * {@code flush} misses them no longer than it missed a bag polled and re-added by a queue.
     */
    @Override
    protected void collect(int limit) {
        SealedBags store = core.sealed;
        // Nothing sealed, nothing to judge: no clock advance, and no scan (under the asymmetric barrier a scan
        // costs a membarrier, an interrupt of every CPU running a thread of the process). Stalls still show in
        // stats(), and flush() advances the clock itself.
        if (store.sharedEmpty()) return;
        long bound = reclaimableBelow();
        // The hint is at most every bag's tag (SealedBags) but for a push in flight, which flush does not race with.
        if (limit != Core.COLLECT_ALL && store.minTagHint() >= bound) return;
        // The bags it may run: at least a share of the backlog (the store's count, a volatile read before the take; a
        // stale count only moves the share by the bags sealed meanwhile), so that the walk below, which visits every
        // bag, costs at most a fixed number of bag visits per bag run.
        int cap = limit == Core.COLLECT_ALL ? limit
                : (int) Math.max(limit, Math.min(Integer.MAX_VALUE, store.objects() / core.batchSize() / BACKLOG_SHARE));
        Batch rest = store.takeAll();
        Batch run = null;
        Batch keep = null;
        int due = 0;
        while (rest != null) { // pointer work only: nothing here can throw
            Batch b = rest;
            rest = b.next();
            if (due < cap && b.tag() < bound) {
                due++;
                b.link(run);
                run = b;
            } else {
                b.link(keep);
                keep = b;
            }
        }
        store.addChain(keep); // allocates nothing, cannot fail
        // A trickling collection defers what its budget will not run before it runs anything (Reclamation): a flush
        // that an action calls, or a racing one, finds those on the deferred stack. Cannot fail either.
        run = core.reclamation().deferSurplus(run);
        try {
            while (run != null) {
                Batch b = run;
                run = b.next();
                b.link(null);
                core.reclamation().run(b);
            }
        } finally {
            store.addChain(run); // after a failure: the bags not run yet are not lost
        }
    }
}
