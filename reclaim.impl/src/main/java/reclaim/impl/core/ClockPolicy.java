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
     * The windows in which a collection holds every bag it took from the store, from the take to the put-back of those
     * it will not run (pointer work, no user code). A flush ({@link #collectAll}) checks them around each look at the
     * store (its own split included) and looks again, after the windows open at that moment have ended, until one look
     * saw none: what a collection put back (old bags past its cap, or bags too young for its bound but old enough for
     * the flush's) is then in the store when the flush looks, so a flush no longer returns while a bounded collection
     * outside every guard holds bags retired before it (reclaimed by neither: the collection put them back, and the
     * flush had found the store empty). See {@link Windows}.
     */
    private final Windows splits = new Windows();
    /** Runs inside each split's window, before the put-back (tests: a flush that runs meanwhile). Plain: set before use. */
    Runnable splitHookForTest;

    /**
     * Takes the shared stack's bags once one may be old enough (its tag hint is below the bound), puts back at once,
     * with one push, those it will not run (too young, or past {@code limit} and the backlog's share:
     * {@link #BACKLOG_SHARE}), then runs the others. With nothing old
     * enough it stops at the hint, after the clock advance attempt (which a queue's peek needed as well): a stalled
     * reader does not make every collection walk the bags it holds back. A flush's ({@link Core#COLLECT_ALL}) is
     * {@link #collectAll}.
     */
    @Override
    protected void collect(int limit) {
        SealedBags store = core.sealed;
        if (limit == Core.COLLECT_ALL) {
            collectAll(store);
            return;
        }
        // Nothing sealed, nothing to judge: no clock advance, and no scan (under the asymmetric barrier a scan
        // costs a membarrier, an interrupt of every CPU running a thread of the process). Stalls still show in
        // stats(), and flush() advances the clock itself.
        if (store.sharedEmpty()) return;
        long bound = reclaimableBelow();
        // The hint is at most every bag's tag (SealedBags) but for a push in flight, which flush does not race with.
        if (store.minTagHint() >= bound) return;
        // The bags it may run: at least a share of the backlog (the store's count, a volatile read before the take; a
        // stale count only moves the share by the bags sealed meanwhile), so that the walk below, which visits every
        // bag, costs at most a fixed number of bag visits per bag run.
        int cap = (int) Math.max(limit, Math.min(Integer.MAX_VALUE, store.objects() / core.batchSize() / BACKLOG_SHARE));
        runAll(store, split(store, bound, cap));
    }

    /**
     * flush()'s collection: with anything sealed, advances the clock once and runs every bag old enough for that
     * bound, and looks again while other collections' splits overlapped its look ({@link #splits}), so that
     * what they put back is judged too. Nothing sealed and no split in flight: no clock advance (as in
     * {@link #collect}).
     */
    private void collectAll(SealedBags store) {
        long bound = 0;
        boolean advanced = false;
        while (true) {
            long begun = splits.begun(); // before the look at the store: see splits
            long ended = splits.ended();
            Batch run = null;
            int mine = 0;
            if (!store.sharedEmpty()) {
                if (!advanced) {
                    bound = reclaimableBelow();
                    advanced = true;
                }
                if (bound == Long.MIN_VALUE) return; // nothing is safe (the leak baseline): nothing to wait for either
                run = split(store, bound, Integer.MAX_VALUE);
                mine = 1; // this pass's own split, counted once in each
            }
            // Only the splits that overlapped this look matter: one that began after it takes only what was pushed
            // after it (put back by those, or sealed since). So the check closes before the actions run, which a
            // split of another thread may overlap as it likes.
            boolean quiet = splits.quiet(begun, ended, mine);
            runAll(store, run);
            if (quiet) return;
            splits.awaitNoneOpen(); // other collections' pointer work
        }
    }

    /**
     * Takes every bag of the store, puts back at once, with one push, those it will not run (tagged at or above
     * {@code bound}, or past {@code cap}), and returns the others, inside a counted window ({@link #splits}).
     *
     * @return the bags to run, owned by the caller
     */
    private Batch split(SealedBags store, long bound, int cap) {
        splits.begin(); // before the take: a flush that looks while we hold the bags looks again
        try {
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
            Runnable hook = splitHookForTest;
            if (hook != null) hook.run();
            store.addChain(keep); // allocates nothing, cannot fail
            return run;
        } finally {
            splits.end(); // after the put-back
        }
    }

    /** Runs a chain of bags judged safe; after a failure (an Error) puts those not run back in the store. */
    private void runAll(SealedBags store, Batch run) {
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
