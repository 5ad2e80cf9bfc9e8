package reclaim.impl.core;

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

    /**
     * Creates a runner whose reports and events name the reclaimer.
     *
     * @param telemetry the reclaimer's telemetry (its name and scheme)
     */
    Reclamation(Telemetry telemetry) {
        this(telemetry, null, null, null);
    }

    /**
     * Creates a runner that also tells checked mode's tracking when an object's action is about to run, and hands
     * batches to an action executor if there is one.
     *
     * @param telemetry the reclaimer's telemetry (its name and scheme)
     * @param check the tracking, or null when unchecked
     * @param handOff where batches go instead of running on the calling thread, or null
     * @param pool where batches go once their actions ran on the calling thread, or null
     */
    Reclamation(Telemetry telemetry, RetireCheck check, HandOff handOff, BatchPool pool) {
        this.pool = pool;
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
        runNow(batch);
        if (pool != null) pool.give(batch); // not after a failure: runNow contains the actions', so only an Error
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
        Thread sealer = batch.sealer();
        boolean others = sealer != null && sealer != Thread.currentThread();
        int failures = 0;
        try {
            for (int i = 0; i < n; i++) {
                if (!runContained(batch.object(i), batch.action(i))) failures++;
            }
        } finally {
            reclaimed.add(n);
            if (others) forOthers.add(n);
            batch.clear();
            if (event != null) Jfr.commitReclamation(event, telemetry, n, failures, sealer, others ? n : 0);
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
        Thread sealer = batch.sealer();
        return sealer != null && sealer != Thread.currentThread();
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
        try {
            ((Consumer<Object>) action).accept(object);
            return true;
        } catch (Throwable t) { // contained by design: one bad action must not stop the others
            failed.increment();
            long count = failed.sum();
            if (count <= REPORT_FIRST || count % REPORT_EVERY == 0) {
                LOG.log(System.Logger.Level.WARNING, () -> "reclaim action failed (scheme " + scheme + ", object "
                        + describe(object) + ", failures so far " + count + ")", t);
            }
            return false;
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
     * close(): takes the handed-off batches not started yet, waits for the others until {@code deadline}.
     *
     * @param deadline a {@link System#nanoTime()} value
     * @return false if one was still running at the deadline
     */
    boolean keepHandedOff(long deadline) {
        return handOff == null || handOff.keep(deadline);
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
