package reclaim.impl.core;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Runs reclaim actions with failures contained: an action that throws is counted, reported on the
 * {@code System.Logger} named {@code reclaim}, and the remaining actions still run. Counts every action
 * run (thrown or not) as reclaimed. Thread-safe.
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

    /**
     * Creates a runner whose reports name the scheme.
     *
     * @param scheme the scheme's name, for reports
     */
    public Reclamation(String scheme) {
        this(scheme, null);
    }

    /**
     * Creates a runner that also tells checked mode's tracking when an object's action is about to run.
     *
     * @param scheme the scheme's name, for reports
     * @param check the tracking, or null when unchecked
     */
    Reclamation(String scheme, RetireCheck check) {
        this.scheme = scheme;
        this.check = check;
    }

    /**
     * Runs every action of {@code batch} on its object, then clears the batch.
     *
     * @param batch a batch owned by the caller
     */
    public void run(Batch batch) {
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
