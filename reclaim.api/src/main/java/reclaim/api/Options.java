package reclaim.api;

import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Settings that apply to a reclaimer of any scheme, beside the scheme's own tuning ({@link Scheme}).
 *
 * <p>Pass them to {@link Reclaimer#create(Scheme, Options)}. {@link Reclaimer#create(Scheme)} and the other
 * factories use {@link #fromSystemProperties()}, so a deployment can switch a setting without a code change. Each
 * setting is immutable; the {@code with...} methods return a copy with one setting changed:
 * <pre>{@code
 * Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT.withChecked(true));
 * }</pre>
 *
 * <p>A provider that does not implement a setting refuses it with {@link IllegalArgumentException} (see
 * {@link reclaim.spi.ReclaimerProvider#create(Scheme, Options)}); the built-in provider implements all of them.
 *
 * @param barrier how readers' announcements are ordered before a reclaimer's scan of them
 * @param checked whether misuse that is otherwise undefined (retiring an object twice) is detected and refused
 * @param actionExecutor where reclaim actions run: null (the default) runs them on the thread that reclaims
 *     them, which may be a reader closing its guard under the robust schemes
 */
public record Options(Barrier barrier, boolean checked, Executor actionExecutor) {

    /** The system property that sets {@link #barrier()} in {@link #fromSystemProperties()}: {@code auto}, {@code fence} or {@code asymmetric}. */
    public static final String BARRIER_PROPERTY = "reclaim.barrier";

    /** The system property that sets {@link #checked()} in {@link #fromSystemProperties()}: {@code true} or {@code false}. */
    public static final String CHECKED_PROPERTY = "reclaim.checked";

    /** The defaults: {@link Barrier#AUTO}, unchecked, actions run where they are reclaimed. */
    public static final Options DEFAULT = new Options(Barrier.AUTO, false, null);

    /**
     * How a reader's announcement (an epoch, a hazard pointer, a reservation) is ordered before its later loads of
     * shared links, against a reclaimer that reads the announcement after unlinking.
     */
    public enum Barrier {
        /** {@link #ASYMMETRIC} where it is available and known to be safe, else {@link #FENCE}. */
        AUTO,
        /** Every reader pays a store-load fence (a volatile store, CAS or swap) when it announces. */
        FENCE,
        /**
         * Readers announce with an ordinary store; a reclaimer issues one process-wide barrier (Linux
         * {@code membarrier}) before it reads the announcements. Needs Linux, and native access enabled for the
         * implementation's module; refused with {@link IllegalArgumentException} at creation where unavailable.
         */
        ASYMMETRIC
    }

    /**
     * Creates settings.
     *
     * @throws NullPointerException if {@code barrier} is null
     */
    public Options {
        Objects.requireNonNull(barrier, "barrier");
    }

    /**
     * Returns the defaults, with {@link #barrier()} and {@link #checked()} taken from the system properties
     * {@value #BARRIER_PROPERTY} and {@value #CHECKED_PROPERTY} where they are set.
     *
     * @return the settings
     * @throws IllegalArgumentException if a property is set to a value it does not accept
     */
    public static Options fromSystemProperties() {
        Options o = DEFAULT;
        String b = System.getProperty(BARRIER_PROPERTY);
        if (b != null && !b.isBlank()) {
            try {
                o = o.withBarrier(Barrier.valueOf(b.strip().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("system property " + BARRIER_PROPERTY + "='" + b
                        + "': expected auto, fence or asymmetric", e);
            }
        }
        String c = System.getProperty(CHECKED_PROPERTY);
        if (c != null && !c.isBlank()) {
            String v = c.strip().toLowerCase(Locale.ROOT);
            if (!v.equals("true") && !v.equals("false")) {
                throw new IllegalArgumentException("system property " + CHECKED_PROPERTY + "='" + c + "': expected true or false");
            }
            o = o.withChecked(v.equals("true"));
        }
        return o;
    }

    /**
     * Returns a copy with another barrier strategy.
     *
     * @param barrier the barrier strategy
     * @return a copy with {@link #barrier()} set
     */
    public Options withBarrier(Barrier barrier) {
        return new Options(barrier, checked, actionExecutor);
    }

    /**
     * Returns a copy with checked mode on or off.
     *
     * @param checked whether to detect misuse that is otherwise undefined
     * @return a copy with {@link #checked()} set
     */
    public Options withChecked(boolean checked) {
        return new Options(barrier, checked, actionExecutor);
    }

    /**
     * Returns a copy with another executor for reclaim actions.
     *
     * @param executor where reclaim actions run, or null to run them on the thread that reclaims them
     * @return a copy with {@link #actionExecutor()} set
     */
    public Options withActionExecutor(Executor executor) {
        return new Options(barrier, checked, executor);
    }
}
