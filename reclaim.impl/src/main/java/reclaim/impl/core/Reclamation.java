package reclaim.impl.core;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Runs reclaim actions with failures contained: an action that throws is counted, reported on the
 * {@code System.Logger} named {@code reclaim}, and the remaining actions still run. Counts every action
 * run (thrown or not) as reclaimed, and those of batches that another thread sealed (the share of reclamation
 * done for other threads). Each batch, or each pass of single objects, is a JFR {@code reclaim.Reclamation} event
 * while a recording enables it ({@link Jfr}). Thread-safe.
 *
 * <p>With an action executor ({@code Options.actionExecutor()}), {@link #run(Batch)} hands the batch to it
 * ({@link HandOff}) instead, except on the thread running {@code close()}, which runs what it drains itself.
 *
 * <p><b>Trickling.</b> Under the asymmetric barrier a collection from {@code retire} or {@code enter} runs once per
 * {@code Core.HEAVY_AMORTIZED} objects sealed, so that its heavy barrier is paid rarely; run whole, the batches it
 * finds reclaimable (some thousand actions) would land on the one operation that triggered it, the tail of its
 * latency. Such a collection, and a walk of a Hyaline or Crystalline list (which may drop the last reference of
 * many batches at once), runs {@link #COLLECTION_RUNS} batch itself ({@link #beginTrickle}) and leaves the others,
 * already judged, on a stack ({@link #run}; a clock collection, which holds the chain it judged, defers them before it
 * runs any: {@link #deferSurplus}); each later seal runs a share of them ({@link #trickle}): the deferred objects
 * spread over the seals left before the next collection is due, one batch in a steady stream, up to
 * {@link #TRICKLE_MOST} where seals fall behind (the core's {@code trickleShare}). One batch a seal is the rate at which
 * bags are sealed, what reclamation must keep up with; more only where fewer seals run a share than bags were sealed
 * (a reclaim action's retires seal bags and run none), or where a collection found a backlog. A seal that runs a
 * batch is the operation that pays for it, once per bag: its latency is the p99.9 of a structure that retires on one
 * operation in four, so one batch rather than two halves it. A deferred batch needs no further judgement (its objects
 * were unreachable to every guard when it was judged, and stay so). {@code flush()} and {@code close()} run all of
 * them ({@link #drainDeferred}), those a seal's trickle holds for a moment included, and a trickling collection during
 * which such a drain began runs what it deferred itself before it ends ({@link #drains}), as {@code flush()} promises
 * of a collection in progress; the stack holds at most about {@code collectEvery} objects (past that a trickling
 * collection runs what it finds), and {@code pendingBound()} counts them ({@link #deferredWaiting}). Without an action
 * executor only: one takes the work off the thread already.
 */
public final class Reclamation {
    private static final System.Logger LOG = System.getLogger("reclaim");
    /** Failures reported in full before reporting thins out to one in {@link #REPORT_EVERY}. */
    private static final int REPORT_FIRST = 10;
    private static final int REPORT_EVERY = 1000;

    private final String scheme;
    private final Telemetry telemetry;
    /** Checked mode's tracking of retired objects, told before each action runs; null when unchecked. */
    private final RetireCheck check;
    private final LongAdder reclaimed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    /** Actions run for objects of batches that another thread than the running one sealed. */
    private final LongAdder forOthers = new LongAdder();
    /** Where batches go instead of running here, or null (run them on the calling thread). */
    private final HandOff handOff;
    /** Where a batch goes once its actions ran here, for a later seal to reuse; null: left to the garbage collector. */
    private final BatchPool pool;
    /** Batches judged reclaimable that a trickling collection left for later seals; null when nothing is deferred. */
    private final SealedBags deferred;
    /** The objects past which a trickling collection stops deferring and runs what it finds. */
    private final long deferLimit;
    /**
     * Seals' trickles that took the deferred stack, and that put back what they do not run (see drainDeferred). Volatile
     * increments and reads: in one synchronization order with the stack's swap and CAS, so a drain whose reads around
     * a pass saw both counts equal and unchanged had no trickle between its take and its put-back during that pass.
     */
    private final Windows splits = new Windows();
    /** Drains of the deferred stack begun (see drains()); volatile increments and reads. */
    private final AtomicLong drains = new AtomicLong();

    /** Batches a trickling collection (or a walk that trickles) runs itself before it defers the others. */
    static final int COLLECTION_RUNS = 1;
    /** The most deferred batches one seal runs (where seals fall behind: see {@code Core.trickleShare}). */
    static final int TRICKLE_MOST = 4;
    /**
     * The batches the calling thread's collection of this reclaimer may still run before it defers: {@code -1}
     * outside a trickling collection; null when this reclaimer never defers. One per reclaimer, not per thread only:
     * a reclaim action that uses another reclaimer (its flush, its close(), a guard whose close walks) runs that
     * reclaimer's batches outside this budget, so they are never deferred where only this reclaimer's seals and
     * flush would run them. Read once per batch.
     */
    private final ThreadLocal<int[]> budget;
    /**
     * The close() in progress, or null: after each action it checks that the action left no guard open
     * ({@link Closing#actionReturned}, which does nothing on any other thread than the closing one). Plain: written
     * by the closing thread, which reads its own writes; another thread that reads it, stale or not, is sent back by
     * {@code actionReturned}.
     */
    private Closing draining;

    /**
     * Creates a runner whose reports and events name the reclaimer.
     *
     * @param telemetry the reclaimer's telemetry (its name and scheme)
     */
    Reclamation(Telemetry telemetry) {
        this(telemetry, null, null, null, 0);
    }

    /**
     * Creates a runner that also tells checked mode's tracking when an object's action is about to run, and hands
     * batches to an action executor if there is one.
     *
     * @param telemetry the reclaimer's telemetry (its name and scheme)
     * @param check the tracking, or null when unchecked
     * @param handOff where batches go instead of running on the calling thread, or null
     * @param pool where batches go once their actions ran on the calling thread, or null
     * @param deferLimit the objects a trickling collection may leave for later seals; 0: it never defers
     */
    Reclamation(Telemetry telemetry, RetireCheck check, HandOff handOff, BatchPool pool, long deferLimit) {
        this.pool = pool;
        this.deferLimit = deferLimit;
        this.deferred = deferLimit > 0 && handOff == null ? new SealedBags(false) : null;
        this.budget = deferred == null ? null : ThreadLocal.withInitial(() -> new int[] {-1});
        this.telemetry = telemetry;
        this.scheme = telemetry.scheme;
        this.check = check;
        this.handOff = handOff;
    }

    /**
     * Runs every action of {@code batch} on its object, then clears the batch and gives it to the core's pool of
     * batches; or, with an action executor, hands the batch to it. Either way the caller must not touch the batch
     * afterwards: it may be reused by the next seal.
     *
     * @param batch a batch owned by the caller exclusively (no other thread reads it any more)
     */
    public void run(Batch batch) {
        HandOff h = handOff;
        if (h != null && !batch.isEmpty() && !h.runsHere()) {
            h.submit(batch); // its task keeps the batch: not pooled
            return;
        }
        SealedBags d = deferred;
        if (d != null && !batch.isEmpty() && deferHere(d)) {
            batch.link(null);
            d.add(batch); // allocates nothing; a later seal runs it (trickle)
            return;
        }
        runNowAndPool(batch);
    }

    private void runNowAndPool(Batch batch) {
        runNow(batch);
        if (pool != null) pool.give(batch); // not after a failure: runNow contains the actions', so only an Error
    }

    /** In a trickling collection whose budget is spent, and with room on the stack: defer this batch. */
    private boolean deferHere(SealedBags d) {
        int[] budget = this.budget.get();
        int left = budget[0];
        if (left < 0) return false; // not in a trickling collection
        if (left > 0) {
            budget[0] = left - 1;
            return false;
        }
        return d.objects() < deferLimit; // past the limit the collection runs what it finds: the stack stays bounded
    }

    /**
     * Starts a collection on the calling thread: a trickling one (see the class documentation), whose next
     * {@link #COLLECTION_RUNS} batches run here and the others are deferred, or one that runs all it finds (flush's, even
     * when an action of a trickling collection calls it).
     *
     * @param trickles whether the collection trickles
     * @return what {@link #endTrickle} takes
     */
    public int beginTrickle(boolean trickles) {
        if (deferred == null) return Integer.MIN_VALUE;
        int[] budget = this.budget.get();
        int saved = budget[0];
        if (saved != RUN_ALL) budget[0] = trickles ? COLLECTION_RUNS : -1; // inside beginRunAll, walks run all too
        return saved; // a collection nested in an action of another gets its own budget, and gives it back
    }

    /**
     * Starts a scope in which nothing is deferred, not even by the walks inside it that would trickle: the walk of a
     * list that a sweep detached from a participant whose thread ended. That walk runs on whatever operation swept it
     * (an enter, a retire, a registration), none of which a flush running meanwhile knows to wait for, so batches it
     * deferred after that flush's drain would wait for later seals against the flush's promise. Rare (a thread ended
     * inside a guard that held batches): it runs what it finds. End it with {@link #endTrickle}.
     *
     * @return what {@link #endTrickle} takes
     */
    public int beginRunAll() {
        if (deferred == null) return Integer.MIN_VALUE;
        int[] budget = this.budget.get();
        int saved = budget[0];
        budget[0] = RUN_ALL;
        return saved;
    }

    /** The budget inside {@link #beginRunAll}: below 0, so nothing is deferred, and kept by nested trickling walks. */
    private static final int RUN_ALL = -2;

    /**
     * Defers at once, in a trickling collection, the batches of a judged chain that its budget will not run (as many
     * as the deferred stack has room for), before any of them runs: so that a flush that an action of the others
     * calls, or one racing on another thread, finds them on the stack instead of missing them in the collector's
     * hands (and leaving them for later seals once it returned). Pointer work and one push: cannot fail.
     *
     * @param chain batches judged reclaimable, linked through {@link Batch#next}, owned by the caller
     * @return the chain the caller runs now ({@link #run} each), the others deferred
     */
    public Batch deferSurplus(Batch chain) {
        SealedBags d = deferred;
        if (d == null || chain == null) return chain;
        int left = budget.get()[0];
        if (left < 0) return chain; // not a trickling collection: it runs everything
        Batch run = null;
        Batch defer = null;
        long room = deferLimit - d.objects();
        for (Batch b = chain; b != null; ) { // pointer work: nothing here can throw
            Batch next = b.next();
            if (left > 0 || room <= 0 || b.isEmpty()) { // the budget's, or past the limit: runs now
                if (left > 0) left--;
                b.link(run);
                run = b;
            } else {
                room -= b.size();
                b.link(defer);
                defer = b;
            }
            b = next;
        }
        d.addChain(defer); // allocates nothing; later seals, a flush or close() run them
        return run;
    }

    /**
     * Ends the collection {@link #beginTrickle} started.
     *
     * @param saved what it returned
     */
    public void endTrickle(int saved) {
        if (saved != Integer.MIN_VALUE) budget.get()[0] = saved;
    }

    /**
     * Returns whether trickling collections of this reclaimer defer batches at all.
     *
     * @return true if they do
     */
    boolean defers() {
        return deferred != null;
    }

    /**
     * Returns whether batches wait on the deferred stack (a volatile read).
     *
     * @return true if some do
     */
    boolean deferredPending() {
        return deferred != null && !deferred.sharedEmpty();
    }

    /**
     * Runs {@code share} deferred batches, or as many as there are: takes the stack, puts back at once what it will
     * not run (a drain that looks meanwhile waits for the put-back: {@link #drainDeferred}), then runs its share.
     * Called by a seal, counted as work in flight by the caller.
     *
     * @param share the batches to run, at least one
     */
    void trickle(int share) {
        SealedBags d = deferred;
        if (d == null) return;
        Batch mine;
        long held = 0;
        splits.begin(); // before the take: a drain that looks while we hold the stack waits for us
        try {
            mine = d.takeAllHeld(); // counted in deferredWaiting() until run or put back
            if (mine == null) return;
            held = Batch.objectsIn(mine);
            Batch last = mine;
            for (int i = 1; i < share && last.next() != null; i++) last = last.next();
            Batch rest = last.next();
            last.link(null);
            d.addChain(rest); // allocates nothing, cannot fail
        } finally {
            splits.end(); // after the put-back
        }
        try {
            runChain(d, mine);
        } finally {
            d.release(held); // what was put back counted twice until here: the bound stays a bound
        }
    }

    /**
     * Marks a {@code close()} in progress on the calling thread: from now until {@code drainDone()}, each action
     * run is followed by {@link Closing#actionReturned}.
     *
     * @param c the close() that drains
     */
    void drainingFor(Closing c) {
        draining = c;
    }

    /** Ends what {@link #drainingFor} began. */
    void drainDone() {
        draining = null;
    }

    /**
     * flush() and close(): runs every deferred batch on the calling thread, including those a seal's {@link #trickle}
     * held while this looked. A trickle takes the whole stack and puts back what it does not run (pointer work, no
     * action runs meanwhile), so a drain that finds the stack empty in that moment would miss what it puts back:
     * the drain counts the trickles that began and ended around each pass over the stack, and passes again (after
     * waiting for the trickles in that moment to put back) until one pass saw none begin, end or hold the stack.
     * The drain counts once in {@link #drains()}, for the trickling collections that defer what it missed.
     */
    void drainDeferred() {
        drainDeferred(true);
    }

    /**
     * {@link #drainDeferred()}, counted in {@link #drains()} or not: a trickling collection's own catch-up drain is not
     * counted, or every collection running at that moment would drain too, and so on while collections overlap.
     *
     * @param counted whether the drain counts in {@link #drains()}
     */
    void drainDeferred(boolean counted) {
        SealedBags d = deferred;
        if (d == null) return;
        if (counted) drains.incrementAndGet(); // before the passes (see Core.collect)
        while (true) {
            long begun = splits.begun();
            long ended = splits.ended();
            for (Batch chain; (chain = d.takeAllHeld()) != null; ) {
                long held = Batch.objectsIn(chain);
                try {
                    runChain(d, chain);
                } finally {
                    d.release(held);
                }
            }
            if (splits.quiet(begun, ended, 0)) return;
            splits.awaitNoneOpen(); // pointer work of other seals
        }
    }

    /**
     * Returns how many drains of the deferred batches ({@code flush()}, {@code close()}) have begun: a trickling
     * collection that sees it move while it worked runs what it deferred itself before it ends (see
     * {@code Core.collect}).
     *
     * @return the count (a volatile read)
     */
    long drains() {
        return drains.get();
    }

    /** Runs a chain of deferred batches; after a failure (an Error) puts the ones not run back. */
    private void runChain(SealedBags d, Batch chain) {
        try {
            while (chain != null) {
                Batch b = chain;
                chain = b.next();
                b.link(null);
                runNowAndPool(b);
            }
        } finally {
            d.addChain(chain);
        }
    }

    /**
     * Returns the objects of the batches on the deferred stack now, without those a trickle or a drain holds: what is
     * left for the seals to run (a seal's share: {@code Core.trickleShare}).
     *
     * @return the count, 0 when nothing is deferred (a volatile read)
     */
    long deferredOnStack() {
        return deferred == null ? 0 : deferred.objects();
    }

    /**
     * Returns the objects of the batches deferred by trickling collections and not run yet, those that a trickle or a
     * drain holds while it runs them included.
     *
     * @return the count, 0 when nothing is deferred
     */
    public long deferredWaiting() {
        return deferred == null ? 0 : deferred.objectsAndHeld(); // those a trickle or a drain holds included
    }

    /**
     * Returns whether {@link #run(Batch)} hands batches to an action executor (on this thread): a caller that would
     * run single objects ({@link #runOne}) gathers them into a batch instead.
     *
     * @return true with an action executor, unless this thread is closing the reclaimer
     */
    public boolean handsOff() {
        return handOff != null && !handOff.runsHere();
    }

    /**
     * Runs every action of {@code batch} on its object on the calling thread, then clears the batch.
     *
     * @param batch a batch owned by the caller
     */
    void runNow(Batch batch) {
        int n = batch.size();
        Object event = Jfr.beginReclamation(); // null unless a recording enables the event
        ThreadRef sealer = batch.sealer();
        boolean others = sealer != null && !sealer.isCurrent();
        int failures = 0;
        try {
            for (int i = 0; i < n; i++) {
                if (!runContained(batch.object(i), batch.action(i))) failures++;
            }
        } finally {
            reclaimed.add(n);
            if (others) forOthers.add(n);
            batch.clear();
            if (event != null) Jfr.commitReclamation(event, telemetry, n, failures, sealer == null ? null : sealer.get(), others ? n : 0);
        }
    }

    /**
     * Starts a pass of {@link #runOne} calls (a hazard-pointer scan), for its JFR event.
     *
     * @return what {@link #endPass} takes; null unless a recording enables the event
     */
    public Object beginPass() {
        return Jfr.beginReclamation();
    }

    /**
     * Ends a pass {@link #beginPass} started (a pass that reclaimed nothing is no event).
     *
     * @param pass what {@link #beginPass} returned
     * @param objects actions run by the pass
     * @param failures of those, the actions that threw
     * @param ofOthers of those, the objects of batches another thread sealed
     */
    public void endPass(Object pass, long objects, long failures, long ofOthers) {
        if (ofOthers != 0) forOthers.add(ofOthers);
        if (pass != null && objects != 0) Jfr.commitReclamation(pass, telemetry, objects, failures, null, ofOthers);
    }

    /**
     * Returns whether the calling thread did not seal {@code batch} (its reclamation is work done for another
     * thread).
     *
     * @param batch a batch
     * @return true if another thread sealed it
     */
    public static boolean sealedByAnother(Batch batch) {
        ThreadRef sealer = batch.sealer();
        return sealer != null && !sealer.isCurrent();
    }

    /**
     * Runs one action on its object.
     *
     * @param object the object
     * @param action its action
     * @return false if the action threw (contained and counted)
     */
    public boolean runOne(Object object, Consumer<?> action) {
        try {
            return runContained(object, action);
        } finally {
            reclaimed.increment();
        }
    }

    /** Runs one action; returns false if it threw. */
    @SuppressWarnings("unchecked")
    private boolean runContained(Object object, Consumer<?> action) {
        if (check != null) check.reclaiming(object); // before the action: it may recycle the object at once
        boolean ok;
        try {
            ((Consumer<Object>) action).accept(object);
            ok = true;
        } catch (Throwable t) { // contained by design: one bad action must not stop the others
            failed(object, t);
            ok = false;
        }
        Closing c = draining;
        IllegalStateException leftOpen = c == null ? null : c.actionReturned(); // closed now, thrown or not
        if (leftOpen == null) return ok;
        if (ok) failed(object, leftOpen); // one failure per action: a throw already counted stands
        return false;
    }

    /** Counts and reports a failed action (the first {@link #REPORT_FIRST} in full, then one in {@link #REPORT_EVERY}). */
    private void failed(Object object, Throwable t) {
        failed.increment();
        long count = failed.sum();
        if (count <= REPORT_FIRST || count % REPORT_EVERY == 0) {
            LOG.log(System.Logger.Level.WARNING, () -> "reclaim action failed (scheme " + scheme + ", object "
                    + describe(object) + ", failures so far " + count + ")", t);
        }
    }

    private static String describe(Object object) {
        return object.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(object));
    }

    // ---- the action executor (no-ops without one) ----

    /**
     * flush(): runs the handed-off batches not started yet, and with {@code wait}, waits for the others.
     *
     * @param g the flushing thread's guard
     * @param wait whether to wait for batches other threads are running
     */
    void helpHandedOff(ThreadGuard g, boolean wait) {
        if (handOff != null) handOff.help(g, wait);
    }

    /**
     * flush(), outside guards, before its collection: runs the collection tasks not started yet and waits for the
     * running ones, so that none holds bags the flush's collection cannot see.
     *
     * @param g the flushing thread's guard
     */
    void settleHandedOffCollections(ThreadGuard g) {
        if (handOff != null) handOff.settleCollections(g);
    }

    /**
     * close(): takes the handed-off batches not started yet, waits for the others until {@code deadline}.
     *
     * @param deadline a {@link System#nanoTime()} value
     * @param backoff how to wait
     * @return false if one was still running at the deadline
     */
    boolean keepHandedOff(long deadline, Backoff backoff) {
        return handOff == null || handOff.keep(deadline, backoff);
    }

    /** close(): runs what {@link #keepHandedOff} took. */
    void runKept() {
        if (handOff != null) handOff.runKept();
    }

    /**
     * Returns the objects handed to the action executor whose actions have not run yet.
     *
     * @return the count, 0 without an executor
     */
    public long handedOffWaiting() {
        return handOff == null ? 0 : handOff.waiting();
    }

    /**
     * Returns the batches the action executor refused (their actions ran on the thread that handed them off).
     *
     * @return the count, 0 without an executor
     */
    public long handOffsRefused() {
        return handOff == null ? 0 : handOff.refused();
    }

    /**
     * Returns actions run so far.
     *
     * @return actions run so far
     */
    public long reclaimed() {
        return reclaimed.sum();
    }

    /**
     * Returns the share of the actions run so far whose batch another thread than the running one sealed: how
     * much of the reclamation threads did for one another.
     *
     * @return a fraction between 0 and 1 (0 before any action ran)
     */
    public double balancedShare() {
        long all = reclaimed.sum();
        return all == 0 ? 0 : Math.min(1.0, (double) forOthers.sum() / all);
    }

    /**
     * Returns actions that threw so far.
     *
     * @return actions that threw so far
     */
    public long failed() {
        return failed.sum();
    }
}
