package reclaim.impl.core;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Runs reclaim actions with failures contained: an action that throws is counted, reported on the
 * {@code System.Logger} named {@code reclaim}, and the remaining actions still run. Counts every action
 * run (thrown or not) as reclaimed. Thread-safe.
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
    /** Checked mode's tracking of retired objects, told before each action runs; null when unchecked. */
    private final RetireCheck check;
    private final LongAdder reclaimed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    /** Where batches go instead of running here, or null (run them on the calling thread). */
    private final HandOff handOff;

    /**
     * Creates a runner whose reports name the scheme.
     *
     * @param scheme the scheme's name, for reports
     */
    public Reclamation(String scheme) {
        this(scheme, null, null);
    }

    /**
     * Creates a runner that also tells checked mode's tracking when an object's action is about to run, and hands
     * batches to an action executor if there is one.
     *
     * @param scheme the scheme's name, for reports
     * @param check the tracking, or null when unchecked
     * @param handOff where batches go instead of running on the calling thread, or null
     */
    Reclamation(String scheme, RetireCheck check, HandOff handOff) {
        this.scheme = scheme;
        this.check = check;
        this.handOff = handOff;
    }

    /**
     * Runs every action of {@code batch} on its object, then clears the batch; or, with an action executor, hands
     * the batch to it (the caller must not touch the batch afterwards).
     *
     * @param batch a batch owned by the caller
     */
    public void run(Batch batch) {
        HandOff h = handOff;
        if (h != null && !batch.isEmpty() && !h.runsHere()) {
            h.submit(batch);
            return;
        }
        runNow(batch);
    }

    /**
     * Runs every action of {@code batch} on its object on the calling thread, then clears the batch.
     *
     * @param batch a batch owned by the caller
     */
    void runNow(Batch batch) {
        int n = batch.size();
        try {
            for (int i = 0; i < n; i++) {
                runContained(batch.object(i), batch.action(i));
            }
        } finally {
            reclaimed.add(n);
            batch.clear();
        }
    }

    /**
     * Runs one action on its object.
     *
     * @param object the object
     * @param action its action
     */
    public void runOne(Object object, Consumer<?> action) {
        try {
            runContained(object, action);
        } finally {
            reclaimed.increment();
        }
    }

    @SuppressWarnings("unchecked")
    private void runContained(Object object, Consumer<?> action) {
        if (check != null) check.reclaiming(object); // before the action: it may recycle the object at once
        try {
            ((Consumer<Object>) action).accept(object);
        } catch (Throwable t) { // contained by design: one bad action must not stop the others
            failed.increment();
            long count = failed.sum();
            if (count <= REPORT_FIRST || count % REPORT_EVERY == 0) {
                LOG.log(System.Logger.Level.WARNING, () -> "reclaim action failed (scheme " + scheme + ", object "
                        + describe(object) + ", failures so far " + count + ")", t);
            }
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
     * Returns actions that threw so far.
     *
     * @return actions that threw so far
     */
    public long failed() {
        return failed.sum();
    }
}
