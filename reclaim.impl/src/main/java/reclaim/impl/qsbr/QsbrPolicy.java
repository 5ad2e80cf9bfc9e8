package reclaim.impl.qsbr;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;
import reclaim.impl.core.Participant;
import reclaim.impl.core.Capabilities;
import reclaim.impl.core.ClockPolicy;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.core.ThreadGuard;
import reclaim.impl.core.Core;

/**
 * Quiescent-state-based reclamation (McKenney &amp; Slingwine, "Read-copy update: using execution history to
 * solve concurrency problems", PDCS 1998; liburcu's {@code urcu-qsbr}; the deferred-reclamation tracker of
 * the IBR benchmark; light-qsbr's executor model). A global grace-period counter {@code gp}; a thread that is
 * online announces the {@code gp} it saw at its last quiescent state; an object retired when {@code gp} was
 * {@code t} is reclaimed once every online thread has announced a value above {@code t}.
 *
 * <h2>Two ways to meet it, two costs</h2>
 * <ul>
 *   <li><b>Registered executors</b> ({@code register()}): the thread is online from registration until it goes
 *       {@linkplain Registration#offline() offline} or deregisters. {@code enter()} and {@code protect} cost no
 *       shared store (a guard-cache lookup, none through {@code Registration.enter()}, and a depth count; a
 *       volatile load per protect); the close of the
 *       outermost guard is a quiescent state: one load of {@code gp} and, only if it moved, one release store to
 *       the thread's own record. {@link Registration#quiescent()} announces one between guards and, at most
 *       every {@link Scheme.Qsbr#passIntervalNanos()}, seals its bag and tries to advance {@code gp} and reclaim
 *       (light-qsbr's {@code maybe_pass_epoch}; under the asymmetric barrier only once per
 *       {@code Core.HEAVY_AMORTIZED} objects sealed, since the collection runs {@code membarrier}). A registered thread about to block goes
 *       {@linkplain Registration#offline() offline} (one release store) and comes back online with its next
 *       guard (one CAS: store and full fence). Deregistering does not wait: the thread's pending objects are
 *       handed to the others and it returns.</li>
 *   <li><b>Any other thread</b>, through the common API only: it is online exactly while inside a guard. A
 *       platform thread keeps a record of its own from its first guard until it ends (as under EBR); its outermost
 *       {@code enter()} stores {@code gp} into the thread's open word, followed by a full fence under the fence
 *       strategy and by nothing under the asymmetric barrier (the collector runs {@code membarrier} instead), and
 *       its outermost {@code close()} stores 0 (a release store). A virtual thread leases a record per outermost
 *       guard and announces with the lease's CAS (store and full fence). Such a thread never holds
 *       reclamation back outside its guards, whether it announces quiescent states or not, and whether it
 *       ends with or without closing anything (a thread that ended is swept). An owned guard
 *       ({@code Reclaimer.enterOwned()}) is met the same way, on a record of its own: online from its open to its
 *       close, whatever the threads that carry it do (their quiescent states and {@code offline()} are theirs).</li>
 * </ul>
 *
 * <h2>When not to use it</h2>
 * QSBR is for a closed set of cooperating worker threads that pass quiescent states often: executors,
 * event loops, a coroutine dispatcher's workers. A registered thread that stays online without passing a
 * quiescent state (a long computation, a blocking call while online) stops reclamation for everyone; it is
 * reported in {@link Stats#stalled()} but garbage is unbounded meanwhile. Threads that come and go often
 * should not register: unregistered threads pay EBR's price (an announcing store per guard) and hold nobody back; the
 * registration churn (register + deregister) costs a lease and a seal, measured in the JMH suite.
 * {@code close()} requires every registered thread to be offline or deregistered.
 *
 * <p><b>Progress.</b> Reads are wait-free; {@code enter}/{@code close} of unregistered threads are lock-free
 * (see {@link Core}). <b>Reclamation is blocking.</b> <b>Bound on unreclaimed objects:</b>
 * none while a thread stays online without a quiescent state (detected and reported).
 *
 * <p><b>Happens-before.</b> A reader's quiescent announcement (or offline store, or guard close) is a release
 * store; the collector increments {@code gp} (a volatile read-modify-write), runs the heavy barrier (a full fence,
 * or {@code membarrier}), and reads every record with acquire semantics before it reclaims, so everything the reader did before its announcement
 * happens-before the reclaim actions. The retirer's unlink precedes its tag read (volatile, after a full
 * fence), so the tag is at least the {@code gp} any reader that could reach the object announced.
 */
public final class QsbrPolicy extends ClockPolicy {
    /*
     * Overview.
     *
     * State word of a participant (see Participant): positive = online, announcing the gp of its last
     * quiescent state; FREE/HELD = offline. An unregistered platform thread's own (sticky) record stays HELD and
     * its guards announce in the owner's open word instead: positive = in a guard since that gp; 0 = outside.
     * Participant.announcementVolatile() reads the state word, else the open word. Orderings:
     *  - going online: a CAS (store + full fence) of gp into the record (a registered executor, a virtual thread's
     *    lease), or a release store of gp into the open word followed by a full fence (fence strategy) or by
     *    nothing (asymmetric barrier), then the guard's loads: the store-load pair with the collector's heavy
     *    barrier (a full fence, or membarrier) and record reads;
     *  - quiescent: v = gp (acquire: later loads stay after it); if v differs from the last announcement,
     *    store it with release (earlier loads complete before it is visible). No store-load fence: an online
     *    thread is always counted, a stale value only delays reclamation;
     *  - retire: tag = gp read (volatile) after the seal's full fence, itself after the unlinks;
     *  - collect: g = gp.getAndAdd(1) (a volatile RMW), the heavy barrier, then min over the announcements
     *    (volatile and acquire reads), capped at g + 1; bags with tag < min are safe: they were sealed before the increment, and
     *    every online thread announced a value above their tag, that is a gp read after the increment that
     *    followed the tag, so its later reads cannot reach the objects, and its earlier ones completed before
     *    its release store. Without the cap, a bag sealed after the scan could be judged by it.
     */

    /** Guards between two collection attempts on a record. */
    private static final int COLLECT_INTERVAL = 128;

    private final long passIntervalNanos;
    /** The grace-period counter, starting at 1; accessed only through {@code GP}. */
    private long gp = 1;

    private final Scheme.Qsbr scheme;

    private QsbrPolicy(Scheme.Qsbr scheme) {
        this.scheme = scheme;
        this.passIntervalNanos = scheme.passIntervalNanos();
    }

    @Override
    protected Capabilities capabilities() {
        return new Capabilities(false, false, COLLECT_INTERVAL, scheme.batchSize(), scheme.stallThresholdNanos());
    }

    /**
     * Creates a QSBR reclaimer.
     *
     * @param scheme the tuning
     * @return a new reclaimer
     */
    public static Reclaimer create(Scheme.Qsbr scheme) {
        return create(scheme, Options.fromSystemProperties());
    }

    /**
     * Creates a reclaimer of this scheme with {@code options}.
     *
     * @param scheme the scheme's tuning
     * @param options the settings for any scheme
     * @return the reclaimer
     */
    public static Reclaimer create(Scheme.Qsbr scheme, Options options) {
        return ReclaimerHandle.create(scheme, new QsbrPolicy(scheme), options);
    }

    /**
     * An unregistered platform thread keeps its participant and announces {@code gp} in its open word, under either
     * barrier (as EBR does with its epoch): a store, then a full fence under the fence strategy, or nothing under the
     * asymmetric one, whose membarrier the collector runs instead ({@link #reclaimableBelow}).
     */
    @Override
    protected boolean announcesInOpenWord(boolean asymmetric) {
        return true;
    }

    /** A registered executor stays online between its guards: it announces in its state word, as before. */
    @Override
    protected boolean registrationsAnnounceInStateWord() {
        return true;
    }

    @Override
    protected long announcement() {
        return gpVolatile(); // volatile: not newer, in the synchronization order, than gp at the announcing CAS
    }

    @Override
    protected long stampNow() {
        return gpVolatile();
    }

    @Override
    protected long reclaimableBelow() {
        // Volatile RMW: nothing retired before it can be tagged at or above the value it leaves behind.
        long g = (long) GP.getAndAdd(this, 1L);
        // Collector side of the store-load pair with going online (an open word's store, followed by a full fence
        // under the fence strategy; a lease's or an online executor's CAS): orders our earlier stores (unlinks,
        // seals, the increment) before the loads of the announcements below. A full fence, or membarrier.
        core.heavy();
        // Only bags tagged before our increment (tag <= g) may be judged by this scan: a bag sealed later may
        // hold an object read by a reader whose announcement the scan below missed (it announced after our
        // read of its record). Tags are gp values read after the unlink, so tag <= g orders the unlink
        // before our increment, and a reader that could still hold such an object announced before our
        // reads of the records below: it is counted.
        long min = g + 1;
        for (Participant p : core.participants()) {
            // The state word (volatile), else the owner's open word (acquire): the load side of the store-load pair
            // with the announcement, and at least acquire, so a reader's reads before its release store
            // happen-before us.
            long l = p.announcementVolatile();
            if (l <= 0) continue;
            if (l <= g) {
                if (core.sweepIfDead(p)) continue;
                core.noteHoldingBack(p, l);
            }
            if (l < min) min = l;
        }
        return min;
    }

    @Override
    protected void beforeFlush(ThreadGuard g) {
        // reclaimableBelow() advances gp itself; with nobody online every bag sealed before it is safe. A registered
        // executor that flushes (outside its guards) is quiescent: move gp past what it retired, announce it.
        if (g.registered() != null && g.announced() != 0) {
            GP.getAndAdd(this, 1L);
            announceQuiescent(g);
        }
    }

    /**
     * A grace period (liburcu's {@code synchronize_rcu}): moves {@code gp} on, so that every online thread must
     * announce a later value (a guard, a quiescent state) before the wait ends; an online registered thread that
     * passes none holds it. The caller itself is quiescent: see {@link #waiting}.
     */
    @Override
    protected long beginGracePeriod(ThreadGuard caller) {
        // Volatile RMW: a guard or quiescent state before the call announced at most g; one that reads gp after it, more.
        return (long) GP.getAndAdd(this, 1L);
    }

    /**
     * A registered executor online that waits (for a grace period, or in a flush for the action executor) is outside
     * its guards, hence quiescent: it announces so at every look, or it would wait for itself, or for a grace period
     * that waits for it.
     */
    @Override
    protected void waiting(ThreadGuard g) {
        if (g.registered() != null && g.announced() != 0) announceQuiescent(g);
    }

    @Override
    protected long idleState(ThreadGuard g) {
        long v = g.announced();
        return v != 0 ? v : Participant.HELD; // online executors keep announcing between guards
    }

    @Override
    protected boolean holdsBack(long state) {
        return state < gpVolatile();
    }

    @Override
    protected String describe() {
        return "grace period " + gpVolatile();
    }

    @Override
    protected long era() {
        return gpAcquire();
    }

    // ---- registered executors ----

    @Override
    protected void registered(ThreadGuard g) {
        online(g);
    }

    /**
     * The outermost enter on the thread's own participant. An online executor: nothing (the announcement made at its
     * last quiescent state covers this guard; one load). An offline one: back online (store and fence). An
     * unregistered platform thread's sticky participant (never online: {@code announced} stays 0): gp into the open
     * word ({@link Core#openOwn}).
     */
    @Override
    protected void enterReserved(ThreadGuard g) {
        if (g.announced() != 0) return;
        if (g.stickyParticipant()) core.openOwn(g);
        else online(g);
    }

    /**
     * The outermost close on the thread's own participant: a quiescent state for an executor (online inside its
     * guards), the open word's 0 for a sticky participant ({@link Core#closeOwn}).
     */
    @Override
    protected void exitReserved(ThreadGuard g) {
        if (g.announced() != 0) announceQuiescent(g);
        else core.closeOwn(g);
    }

    @Override
    protected void quiescent(ThreadGuard g) {
        if (g.announced() == 0) return; // offline: holds nobody back anyway
        announceQuiescent(g);
        if (passIntervalNanos == 0 || System.nanoTime() - g.lastPass() >= passIntervalNanos) {
            g.lastPass(System.nanoTime());
            core.pass(g); // light-qsbr's maybe_pass_epoch: advance gp and reclaim what is due
        }
    }

    @Override
    protected void offline(ThreadGuard g) {
        if (g.announced() == 0) return;
        g.registered().setStateRelease(Participant.HELD); // release: our reads so far are done
        g.announced(0);
    }

    @Override
    protected void online(ThreadGuard g) {
        if (g.announced() != 0) return;
        long v = gpVolatile();
        // Store + full fence (a CAS from HELD): the store-load pair with the collector, before any later load.
        if (!core.claimOwn(g, v)) throw core.refused();
        g.announced(v);
    }

    /** Announces a quiescent state: one acquire load, and a release store only when gp moved. */
    private void announceQuiescent(ThreadGuard g) {
        long v = gpAcquire();
        if (v != g.announced()) {
            g.registered().setStateRelease(v);
            g.announced(v);
        }
    }

    private long gpAcquire() {
        return (long) GP.getAcquire(this);
    }

    private long gpVolatile() {
        return (long) GP.getVolatile(this);
    }

    private static final VarHandle GP;

    static {
        try {
            GP = MethodHandles.lookup().findVarHandle(QsbrPolicy.class, "gp", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
