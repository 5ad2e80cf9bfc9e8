package reclaim.api;

import java.math.BigInteger;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

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
 * <h2>Checked mode</h2>
 * Off by default: then retiring an object twice, or retiring one that is still linked, is undefined (an action may
 * run twice, or while readers can still reach its object), as in crossbeam-epoch, and nothing is spent on noticing.
 * {@link #withChecked(boolean) withChecked(true)}, or {@code -D}{@value #CHECKED_PROPERTY}{@code =true} for the
 * reclaimers created with {@link #fromSystemProperties()}, makes the built-in schemes, every one of them, check:
 * <ul>
 *   <li><b>Retiring twice.</b> Every object retired and whose action has not started is tracked by identity. A
 *       retire of one of them throws {@link IllegalStateException} naming the object (class, identity hash,
 *       {@code toString()}) and the thread that retired it first; the first retire stands, and its action runs
 *       once. An object may be retired again from the moment its action starts, so an action that recycles it
 *       (returns a node to a pool) lets it be taken, linked, unlinked and retired anew, even before the action
 *       returns. Not detected, therefore: a second retire that comes after the first one's action started.</li>
 *   <li><b>Retiring what is still linked.</b> A guard remembers the sources of its last 8 {@code protect}s (an
 *       {@code AtomicReference}, or a field and its holder) and what they returned, until its outermost
 *       {@code close()}. A retire inside it ({@link Guard#retire}, or {@link Reclaimer#retire} on the thread
 *       while its guard is open) of an object it read throws {@link IllegalStateException} naming the object and
 *       a source when every source it read the object from still holds it (a volatile read of each) and none of
 *       the other objects it read is retired already (a retired node's fields still point where they did: a
 *       Harris list's marker is held only by the node unlinked with it). That catches an ignored CAS failure or
 *       a forgotten unlink. Not detected: an object this guard did not read with {@code protect}, or read more
 *       than 8 {@code protect}s before; a retire outside any guard, or after one of the objects the guard read
 *       was retired; an object reachable through another path than those sources; keys read with
 *       {@link Guard#reserve}. It can refuse a correct retire only when every source the guard read the object
 *       from is a field of a node that is unlinked but not retired yet: retire such a node first.</li>
 *   <li><b>What {@code close()} reclaimed late.</b> The objects still pending when {@code close()} began to
 *       reclaim what was left are named by {@link Reclaimer#pendingAtClose()} (the first 64) and reported on the
 *       {@code System.Logger} named {@code reclaim}.</li>
 * </ul>
 * A refused retire retires nothing; the misuse is the caller's to fix. What checked mode costs: a lock-striped
 * identity map updated once per retire and once per reclaimed object, a view of each guard that records its
 * {@code protect}s, and the check's reads at each retire in a guard. Unchecked, none of it exists: {@code enter()}
 * returns the thread's guard itself, and the engine tests one final field per retire and per reclaimed object.
 *
 * @param barrier how readers' announcements are ordered before a reclaimer's scan of them
 * @param checked whether misuse that is otherwise undefined (retiring an object twice) is detected and refused
 * @param actionExecutor where reclaim actions run: null (the default) runs them on the thread that reclaims
 *     them, which may be a reader closing its guard under the robust schemes; see {@link #withActionExecutor}
 * @param closeWait how long {@link Reclaimer#close()} waits, in all, for other threads' guards, registered threads
 *     and reclamation in flight before it refuses; {@link #DEFAULT_CLOSE_WAIT} by default; see {@link #withCloseWait}
 */
public record Options(Barrier barrier, boolean checked, Executor actionExecutor, Duration closeWait) {

    /** The system property that sets {@link #barrier()} in {@link #fromSystemProperties()}: {@code auto}, {@code fence} or {@code asymmetric}. */
    public static final String BARRIER_PROPERTY = "reclaim.barrier";

    /** The system property that sets {@link #checked()} in {@link #fromSystemProperties()}: {@code true} or {@code false}. */
    public static final String CHECKED_PROPERTY = "reclaim.checked";

    /**
     * The system property that sets {@link #closeWait()} in {@link #fromSystemProperties()}: a whole number of
     * milliseconds or seconds with its unit ({@code 250ms}, {@code 2s}; any number of digits, a number beyond what a
     * {@link Duration} holds counting as the longest one), or an ISO-8601 duration as {@link Duration#parse} reads
     * it ({@code PT0.25S}). Case and surrounding blanks do not matter.
     */
    public static final String CLOSE_WAIT_PROPERTY = "reclaim.closeWait";

    /** How long {@link Reclaimer#close()} waits by default: one second. */
    public static final Duration DEFAULT_CLOSE_WAIT = Duration.ofSeconds(1);

    /** The defaults: {@link Barrier#AUTO}, unchecked, actions run where they are reclaimed, a one-second close wait. */
    public static final Options DEFAULT = new Options(Barrier.AUTO, false, null, DEFAULT_CLOSE_WAIT);

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
     * @throws NullPointerException if {@code barrier} or {@code closeWait} is null
     * @throws IllegalArgumentException if {@code closeWait} is negative
     */
    public Options {
        Objects.requireNonNull(barrier, "barrier");
        checkCloseWait(closeWait);
    }

    /**
     * Creates settings with the default close wait, {@link #DEFAULT_CLOSE_WAIT}.
     *
     * @param barrier how readers' announcements are ordered before a reclaimer's scan of them
     * @param checked whether misuse that is otherwise undefined is detected and refused
     * @param actionExecutor where reclaim actions run, or null to run them on the thread that reclaims them
     * @throws NullPointerException if {@code barrier} is null
     */
    public Options(Barrier barrier, boolean checked, Executor actionExecutor) {
        this(barrier, checked, actionExecutor, DEFAULT_CLOSE_WAIT);
    }

    /**
     * Returns the defaults, with {@link #barrier()}, {@link #checked()} and {@link #closeWait()} taken from the system
     * properties {@value #BARRIER_PROPERTY}, {@value #CHECKED_PROPERTY} and {@value #CLOSE_WAIT_PROPERTY} where they are
     * set. A property set to an empty or blank value counts as not set.
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
        String w = System.getProperty(CLOSE_WAIT_PROPERTY);
        if (w != null && !w.isBlank()) o = o.withCloseWait(parseCloseWait(w));
        return o;
    }

    /** Reads {@value #CLOSE_WAIT_PROPERTY}: {@code 250ms}, {@code 2s}, or ISO-8601 ({@code PT0.25S}). */
    private static Duration parseCloseWait(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        Duration d = null;
        RuntimeException cause = null;
        try {
            if (v.matches("[+-]?p.*")) {
                d = Duration.parse(v.toUpperCase(Locale.ROOT));
            } else if (v.matches("[0-9]+ms")) {
                d = duration(new BigInteger(v.substring(0, v.length() - 2)), 1000);
            } else if (v.matches("[0-9]+s")) {
                d = duration(new BigInteger(v.substring(0, v.length() - 1)), 1);
            }
        } catch (DateTimeParseException | ArithmeticException e) { // not a duration, or one too large for Duration
            cause = e;
        }
        if (d == null || d.isNegative()) {
            throw new IllegalArgumentException("system property " + CLOSE_WAIT_PROPERTY + "='" + value
                    + "': expected a duration of zero or more, such as 250ms, 2s or PT0.25S", cause);
        }
        return d;
    }

    /**
     * {@code count} units of {@code 1/perSecond} seconds (1: seconds, 1000: milliseconds), exactly; the longest
     * {@link Duration} if it holds no such length.
     */
    private static Duration duration(BigInteger count, int perSecond) {
        BigInteger[] s = count.divideAndRemainder(BigInteger.valueOf(perSecond));
        if (s[0].bitLength() > 63) return Duration.ofSeconds(Long.MAX_VALUE, 999_999_999);
        return Duration.ofSeconds(s[0].longValue(), s[1].longValue() * (1_000_000_000L / perSecond));
    }

    private static void checkCloseWait(Duration closeWait) {
        Objects.requireNonNull(closeWait, "closeWait");
        if (closeWait.isNegative()) throw new IllegalArgumentException("closeWait is negative: " + closeWait);
    }

    /**
     * Returns a copy with another barrier strategy.
     *
     * @param barrier the barrier strategy
     * @return a copy with {@link #barrier()} set
     */
    public Options withBarrier(Barrier barrier) {
        return new Options(barrier, checked, actionExecutor, closeWait);
    }

    /**
     * Returns a copy with checked mode on or off.
     *
     * @param checked whether to detect misuse that is otherwise undefined
     * @return a copy with {@link #checked()} set
     */
    public Options withChecked(boolean checked) {
        return new Options(barrier, checked, actionExecutor, closeWait);
    }

    /**
     * Returns a copy whose reclaim actions run on {@code executor} (liburcu's {@code call_rcu} thread, folly's
     * hazptr executor) instead of on the thread that reclaims them.
     *
     * <p>Without an executor an action runs where its object becomes reclaimable: under Hyaline and Crystalline
     * that is often a reader, in the {@link Guard#close()} that drops the last reference to a batch, so a reader's
     * {@code close()} may run a {@code munmap}, a {@code free} of a large block or a user callback. With one, the
     * reclaimer hands each batch of due actions to {@code executor} and the thread that found them due returns at
     * once. Everything else stays as it is:
     * <ul>
     *   <li><b>Exactly once.</b> Each handed-off batch is claimed by exactly one thread before it runs: the
     *       executor's, or a thread that runs it itself (below). An executor that runs a task late, or twice,
     *       runs nothing twice.</li>
     *   <li><b>Containment.</b> An action that throws on the executor is counted in {@link Stats#failed()} and
     *       reported, as anywhere else.</li>
     *   <li><b>Refusal.</b> If {@code executor.execute} throws (a
     *       {@link java.util.concurrent.RejectedExecutionException} from a saturated or shut-down pool), the batch runs at once on the handing thread, as without an
     *       executor, and the refusal is reported on the {@code System.Logger} named {@code reclaim} (and counted
     *       by the implementation). An executor that accepts tasks and never runs them only delays their actions
     *       until the next {@link Reclaimer#flush()} or {@link Reclaimer#close()}.</li>
     *   <li><b>flush() and close()</b> keep their promises: before they return they run themselves every batch
     *       that was handed off and not yet started, and wait for the ones the executor is running (a
     *       {@code flush()} called from an action on the executor does not wait for the others, and one called
     *       inside a guard only runs what has not started). {@code close()} waits for running batches within its
     *       usual moment and refuses, as for any reclamation in flight, if one is still running then. After
     *       {@code close()}, retired == reclaimed as always.</li>
     *   <li><b>Collections.</b> The collections that retires and enters set off (the judgement of sealed batches
     *       against the other threads' announcements, hazards or reservations, with its heavy barrier under
     *       {@link Barrier#ASYMMETRIC}) are handed to {@code executor} too, one waiting at a time, so the
     *       operation that sets one off pays only the hand-off; the batches it finds due are handed off as above.
     *       If the executor falls behind (one still waiting while more fall due), every fourth that finds it waiting
     *       runs on the thread that set it off: sealed batches do not pile up behind a slow or stuck executor.</li>
     *   <li><b>Statistics.</b> {@link Stats#pending()} counts handed-off objects until their action has run, and
     *       {@link Reclaimer#pendingBound()} adds those waiting for the executor to the scheme's own bound.</li>
     * </ul>
     * Actions then run in the executor's threads, so an action may block, call {@link Reclaimer#synchronize()}, or
     * take a lock that a reader holds, which an action run inside a reader's {@code close()} must never do.
     * Actions of one batch run one after another, in the order they were retired; batches may run concurrently if
     * the executor has several threads. {@link #withActionThread()} gives a ready-made executor.
     *
     * @param executor where reclaim actions run, or null to run them on the thread that reclaims them
     * @return a copy with {@link #actionExecutor()} set
     */
    public Options withActionExecutor(Executor executor) {
        return new Options(barrier, checked, executor, closeWait);
    }

    /**
     * Returns a copy whose {@link Reclaimer#close()} waits {@code wait}, in all, before it refuses: for guards that
     * other threads are just closing, registered threads going offline, flushes and collections running on other
     * threads, and batches of actions an {@linkplain #withActionExecutor action executor} is running. It returns as
     * soon as none is left, so the wait is paid only by a {@code close()} that refuses, or that finds them finishing.
     * {@link Duration#ZERO} refuses at once whatever is open or in flight (a shutdown that must not block); a long wait
     * suits a service that drains its readers before it closes. A guard the calling thread holds open itself (from
     * {@code enter()} or a registration's {@code enter()}) makes {@code close()} refuse at once, whatever the wait; an
     * {@link OwnedGuard} is waited for as other threads' guards are, whichever thread uses it. Keep the wait finite
     * where a reclaim action may block on the closing thread (or call {@code close()} itself): {@code close()} waits
     * for the collection running that action until the deadline. Waits beyond about 292 years count as that long.
     *
     * @param wait how long {@code close()} waits, in all; not negative
     * @return a copy with {@link #closeWait()} set
     * @throws NullPointerException if {@code wait} is null
     * @throws IllegalArgumentException if {@code wait} is negative
     */
    public Options withCloseWait(Duration wait) {
        return new Options(barrier, checked, actionExecutor, wait); // the constructor checks it
    }

    /**
     * Returns a copy whose reclaim actions run on the shared action thread, {@link #actionThread()}: the
     * ready-made form of {@link #withActionExecutor(Executor)}.
     * <pre>{@code
     * Reclaimer r = Reclaimer.create(new Scheme.Hyaline(), Options.DEFAULT.withActionThread());
     * }</pre>
     *
     * @return a copy with {@link #actionExecutor()} set to {@link #actionThread()}
     */
    public Options withActionThread() {
        return withActionExecutor(actionThread());
    }

    /**
     * Returns the executor of {@link #withActionThread()}: one daemon thread named {@value #ACTION_THREAD_NAME},
     * started when it first gets work and ended after a minute without any, shared by every reclaimer that uses
     * it (as liburcu's default {@code call_rcu} thread is shared by the threads that do not create their own). It
     * cannot be shut down. It queues up to {@value #ACTION_THREAD_QUEUE} batches and refuses more: the thread that
     * handed the batch off then runs it itself, so that when actions are slower than retires, memory stays bounded
     * and the retiring threads slow down instead (back-pressure, as {@code ThreadPoolExecutor.CallerRunsPolicy}
     * gives; each refusal is reported, see {@link #withActionExecutor}). Since it is shared, an action that blocks
     * delays the actions of every reclaimer that uses it: give a reclaimer whose actions may block an executor of its
     * own.
     *
     * @return the shared action thread
     */
    public static Executor actionThread() {
        return ActionThread.EXECUTOR;
    }

    /** The name of the thread behind {@link #actionThread()}: {@value}. */
    public static final String ACTION_THREAD_NAME = "reclaim-actions";

    /** The batches that {@link #actionThread()} queues at most before it refuses more: {@value}. */
    public static final int ACTION_THREAD_QUEUE = 1024;

    /** Holds the shared action thread, created on first use. */
    private static final class ActionThread {
        static final Executor EXECUTOR;

        static {
            // AbortPolicy, the default: a full queue refuses, and the handing thread runs the batch itself.
            ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 1, TimeUnit.MINUTES,
                    new ArrayBlockingQueue<>(ACTION_THREAD_QUEUE), r -> {
                        Thread t = new Thread(r, ACTION_THREAD_NAME);
                        t.setDaemon(true);
                        return t;
                    });
            pool.allowCoreThreadTimeOut(true);
            EXECUTOR = pool::execute; // an Executor only: nobody can shut the shared thread down
        }

        private ActionThread() {}
    }
}
