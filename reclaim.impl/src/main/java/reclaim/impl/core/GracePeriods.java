package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@code Reclaimer.synchronize()}: waits until every guard that was open at the call has closed (liburcu's
 * {@code synchronize_rcu}), for every scheme, with no cost on the read path beyond what the guards already write.
 *
 * <h2>Telling an old guard from a new one</h2>
 * A grace period must not wait for guards opened after it started (a thread that opens guards back to back would
 * keep it waiting forever), so it must tell the guard it saw open at the start from a later guard in the same place:
 * a participant is released and leased again, and the owner of a sticky one closes and reopens, between two looks.
 * So every guard announces a clock, in its participant's state word (a lease, a registered thread of a scheme without
 * sticky participants) or in its owner's open word (a sticky participant): EBR's epoch, QSBR's grace-period counter,
 * Hyaline's era, or, for the schemes that keep no clock there (hazard pointers, Crystalline, the leak baseline), this
 * class's grace clock, which {@link Policy#announcement()} returns by default and a sticky enter stores when its
 * policy announces nothing ({@code Core.openSticky}). A grace period moves the clock on
 * ({@link Policy#beginGracePeriod}): a guard opened before the call announced at most the returned bound, one that
 * reads the clock after it more. It waits until no participant announces
 * ({@link Participant#announcementVolatile()}) a value in {@code (0, bound]}. EBR cannot move its epoch at will; it
 * tries to advance it at each look ({@link Policy#gracePeriodClockPassed}), which only guards older than the bound
 * can block.
 *
 * <p>Under QSBR an online registered thread announces its last quiescent state between its guards too, so it holds a
 * grace period until it passes another one or goes offline; the caller, outside its guards, is quiescent, and a
 * registered caller announces so at every look ({@link Policy#waiting}).
 *
 * <h2>The store-load pair</h2>
 * A guard stores its announcement, then loads links; the caller of {@code synchronize()} stores (the swap of its
 * example), then reads announcements. Unless one side sees the other's store, a guard could read the old object and
 * still be missed. Guards order their side with a fence or a locked instruction (a lease's CAS, EBR's fence under the
 * fence strategy, a hazard's or a reservation's fence), or with nothing under the asymmetric barrier; the waiter runs
 * the heavy barrier ({@link Core#heavy()}: a full fence, or {@code membarrier}) once, after it moved the clock and
 * before its first look. So a guard whose protected read saw the object swapped out before the call is waited for,
 * whether its enter happened-before the call or raced with it.
 *
 * <h2>Happens-before</h2>
 * A guard that was open at the call ended with a release store (its participant's state, or its open word), and the
 * next value of the same word is written by a CAS (a new lease, a registered thread's enter) or a release store (a
 * sticky enter, a QSBR quiescent state). The waiter reads those words with acquire or volatile semantics, so whatever
 * value tells it the guard is over, the guard's actions happen-before that read, and the return.
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
     * Returns the grace clock, opaque: what a sticky guard of a scheme without a clock of its own writes into its open
     * word. A guard whose enter happened-before a grace period reads at most the value that the grace period moved
     * on from (coherence), and sees the new value eventually, which is all a grace period needs.
     *
     * @return the clock, {@code >= 1}
     */
    public long clockOpaque() {
        return (long) CLOCK.getOpaque(this);
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
        // A timeout of 0 or less looks once (the overflow test below must not see a negative one as an overflow).
        long deadline = timeoutNanos <= 0 ? start
                : timeoutNanos == Long.MAX_VALUE || start + timeoutNanos < start ? Long.MAX_VALUE : start + timeoutNanos;
        long bound = policy.beginGracePeriod(caller);
        // The waiter's side of the store-load pair with every guard's announcement (see the class documentation):
        // after it, a guard whose announcing store it did not order shows to the looks below, or else that guard's
        // loads come after the caller's earlier stores (the swap before synchronize()) and the clock's move. Once per
        // grace period: a full fence, or membarrier under the asymmetric barrier, where enters do not fence.
        core.heavy();
        Backoff backoff = new Backoff();
        try {
            while (true) {
                policy.waiting(caller); // QSBR: a registered caller is quiescent, it must not hold its own wait
                if (elapsed(policy, bound)) return true;
                if (deadline != Long.MAX_VALUE && System.nanoTime() - deadline >= 0) return false;
                backoff.pause(deadline);
            }
        } finally {
            backoff.done();
        }
    }

    /** One look: whether no guard of the start is still open. */
    private boolean elapsed(Policy policy, long bound) {
        if (!policy.gracePeriodClockPassed(bound)) return false;
        for (Participant p : core.participants()) {
            // The state word (volatile), else the owner's open word (acquire): a guard's release of either, or the
            // next guard's store of a later clock value, is read (see the class documentation).
            long a = p.announcementVolatile();
            if (a > 0 && a <= bound && !core.sweepIfDead(p)) return false;
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
