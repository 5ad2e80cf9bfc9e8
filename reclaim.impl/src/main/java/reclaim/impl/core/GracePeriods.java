package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Reclaimer.synchronize()}: waits until every guard that was open at the call has closed (liburcu's
 * {@code synchronize_rcu}), for every scheme, with no cost on the read path beyond what the guards already write.
 *
 * <h2>Two kinds of guards, two ways to tell an old guard from a new one</h2>
 * A grace period must not wait for guards opened after it started (a thread that opens guards back to back would
 * keep it waiting forever), so it must tell the guard it saw open at the start from a later guard on the same
 * participant. The state word alone cannot: a participant is released and leased again, or its owner closes and
 * reopens, between two looks.
 * <ul>
 *   <li><b>Guards that announce in the state word</b> (every guard that leases a participant, and registered threads
 *       of the schemes without sticky participants) announce a clock: EBR's epoch, QSBR's grace-period counter,
 *       Hyaline's era, or, for the schemes that keep no clock there (hazard pointers, Crystalline, the leak baseline),
 *       this class's {@linkplain #clockVolatile() grace clock}, which {@link Policy#announcement()} returns by
 *       default. A grace period moves the clock on ({@link Policy#beginGracePeriod}): a guard opened before the call
 *       announced at most the returned bound, one that reads the clock after it more. It waits until no participant
 *       announces a value in {@code (0, bound]}. EBR cannot move its epoch at will; it tries to advance it while it
 *       waits ({@link Policy#gracePeriodClockPassed}), which only the guards older than the bound can block.</li>
 *   <li><b>Guards on sticky participants</b> write nothing in the state word; their open flag, in the owner's
 *       {@link ThreadGuard}, is odd while a guard is open and grows by one at every outermost enter and close. The
 *       grace period notes the value of each odd flag at the start and waits until it changed (or the participant
 *       lost its owner: a thread that ended inside its guard, swept).</li>
 * </ul>
 * Under QSBR an online registered thread announces its last quiescent state between its guards too, so it holds a
 * grace period until it passes another one or goes offline; the caller, outside its guards, is quiescent, and a
 * registered caller announces so at every look ({@link Policy#waiting}).
 *
 * <h2>Happens-before</h2>
 * A guard that was open at the call ended with a release store (its participant's state, or its open flag), and the
 * next value of the same word is also written by a release store or a CAS (a new lease, the next enter). The waiter
 * reads those words with acquire or volatile semantics, so whatever value tells it the guard is over, the guard's
 * actions happen-before the read, and the return.
 *
 * <h2>Waiting</h2>
 * Each look scans every participant (the scheme's cost of a scan), then the waiter backs off ({@link Backoff}). A
 * participant whose thread ended while announcing is swept by the look that finds it.
 */
public final class GracePeriods {
    /** Padding before {@link #clock}: readers of other fields of neighbouring objects are not disturbed by it. */
    long p00, p01, p02, p03, p04, p05, p06, p07;
    /** The grace clock, starting at 1; accessed only through {@code CLOCK}. */
    private long clock = 1;
    /** Padding after {@link #clock}. */
    long q00, q01, q02, q03, q04, q05, q06, q07;

    private final Core core;

    GracePeriods(Core core) {
        this.core = core;
    }

    /**
     * Returns the grace clock, with volatile semantics: what a lease announces under a scheme that keeps no clock
     * of its own in the state word (not newer, in the synchronization order, than the clock at the announcing CAS).
     *
     * @return the clock, {@code >= 1}
     */
    public long clockVolatile() {
        return (long) CLOCK.getVolatile(this);
    }

    /**
     * Moves the grace clock on (a volatile read-modify-write).
     *
     * @return the value before: every guard whose lease came before announces at most this
     */
    public long getAndIncrementClock() {
        return (long) CLOCK.getAndAdd(this, 1L);
    }

    /**
     * Waits for a grace period (see the class documentation).
     *
     * @param caller the calling thread's guard, outside every guard
     * @param timeoutNanos how long to wait at most; {@code Long.MAX_VALUE} for no limit, {@code <= 0} to look once
     * @return whether every guard open at the call has closed
     */
    boolean await(ThreadGuard caller, long timeoutNanos) {
        Policy policy = core.policy;
        long start = System.nanoTime();
        long deadline = timeoutNanos == Long.MAX_VALUE || start + timeoutNanos < start ? Long.MAX_VALUE
                : start + Math.max(0, timeoutNanos);
        long bound = policy.beginGracePeriod(caller);
        List<OpenGuard> sticky = openStickyGuards();
        Backoff backoff = new Backoff();
        try {
            while (true) {
                policy.waiting(caller); // QSBR: a registered caller is quiescent, it must not hold its own wait
                if (elapsed(policy, bound, sticky)) break;
                if (deadline != Long.MAX_VALUE && System.nanoTime() - deadline >= 0) return false;
                backoff.pause(deadline);
            }
            return true;
        } finally {
            backoff.done();
        }
    }

    /** A sticky participant's guard seen open at the start, with the value of its open flag then. */
    private record OpenGuard(Participant participant, ThreadGuard owner, int open) {}

    /** The guards open on sticky participants now (acquire reads of each owner and its flag). */
    private List<OpenGuard> openStickyGuards() {
        List<OpenGuard> open = new ArrayList<>();
        for (Participant p : core.participants()) {
            ThreadGuard o = p.ownerAcquire();
            if (o == null) continue;
            int v = o.openAcquire();
            if (ThreadGuard.isOpen(v)) open.add(new OpenGuard(p, o, v));
        }
        return open;
    }

    /** One look: whether no guard of the start is still open. */
    private boolean elapsed(Policy policy, long bound, List<OpenGuard> sticky) {
        if (!policy.gracePeriodClockPassed(bound)) return false;
        for (int i = sticky.size() - 1; i >= 0; i--) {
            OpenGuard s = sticky.get(i);
            // Acquire: a different value was written by a release store after the guard's close (see above).
            if (s.owner.openAcquire() != s.open || s.participant.ownerAcquire() != s.owner
                    || core.sweepIfDead(s.participant)) {
                sticky.remove(i); // that guard is over: never look at it again
                continue;
            }
            return false;
        }
        for (Participant p : core.participants()) {
            // Volatile, at least acquire: the guard's release of the participant (or a later lease's CAS) is read.
            long s = p.stateVolatile();
            if (s > 0 && s <= bound && !core.sweepIfDead(p)) return false;
        }
        return true;
    }

    private static final VarHandle CLOCK;

    static {
        try {
            CLOCK = MethodHandles.lookup().findVarHandle(GracePeriods.class, "clock", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
