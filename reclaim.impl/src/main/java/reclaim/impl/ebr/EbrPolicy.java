package reclaim.impl.ebr;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;
import reclaim.impl.core.Participant;
import reclaim.impl.core.Capabilities;
import reclaim.impl.core.ClockPolicy;
import reclaim.impl.core.Core;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.core.ThreadGuard;

/**
 * Epoch-based reclamation, after Fraser's thesis ("Practical lock-freedom", Cambridge, 2004) in the shape of
 * crossbeam-epoch ({@code crossbeam-epoch/src/internal.rs}): a global epoch, per-guard announcements,
 * bags of retired objects sealed with the epoch and queued, and reclamation of a bag two epochs after it was
 * sealed. The participants, leases, bags, flush and close are the {@link Core}'s; this class is the
 * epoch rule.
 *
 * <p><b>Progress.</b> {@code enter}, {@code close}, {@code protect} and {@code retire} are lock-free (see
 * {@link Core}); advancing the epoch is wait-free (one pass over the records).
 * <b>Reclamation is blocking</b>: a thread that stays inside a guard freezes the epoch.
 *
 * <p><b>Bound on unreclaimed objects.</b> None while a guard stays open: EBR cannot bound garbage. It detects
 * the stall instead: a guard that holds the epoch back for longer than
 * {@link Scheme.Ebr#stallThresholdNanos()} is counted in {@link Stats#stalled()}. With no guard stalled, an
 * object is reclaimed at most two epoch advances after its bag is sealed; a bag is sealed when it holds
 * {@link Scheme.Ebr#batchSize()} objects or on {@code flush()}, so at most {@code records × batchSize}
 * objects wait in unsealed bags.
 *
 * <p><b>Happens-before</b> from {@code retire} to the action: see {@link Core}; the advancer
 * reads every record with acquire semantics after a full fence before it moves the epoch.
 *
 * <p><b>Announcing.</b> A platform thread keeps its participant, and its outermost enter stores
 * {@code epoch | 1} into its own open word (crossbeam's {@code pin}): under the fence strategy a full fence follows
 * the store; under the asymmetric barrier ({@code Barrier}) nothing does, and the advancer runs {@code membarrier}
 * where it ran the full fence. A virtual thread leases a participant per outermost guard and announces by the
 * lease's CAS. The advancer reads announcements through
 * {@code Participant.announcementVolatile()}. The epoch rule and its argument are unchanged: they use only that
 * the advancer sees the announcement or the guard's loads see the advancer's earlier stores.
 */
public final class EbrPolicy extends ClockPolicy {
    /*
     * Overview (the epoch rule).
     *
     * Epochs are even longs starting at 2; a guard announces "in a guard since epoch e" by holding e|1 in its
     * thread's open word (a platform thread keeps its participant: Policy.announcesInOpenWord), followed by a full
     * fence under the fence strategy (crossbeam pin()'s store and fence) and by nothing under the asymmetric one,
     * whose heavy barrier runs in tryAdvance instead; a virtual thread leases a participant and announces in its
     * state word by CAS. tryAdvance(): the heavy barrier (a full fence, or membarrier), then an
     * acquire read of every record; the epoch moves from g to g+2 only if every announced record holds g|1.
     * At most one epoch therefore separates the global epoch from any guard's announcement.
     *
     * A bag is tagged with the epoch read (volatile) after the seal's full fence. It is reclaimed once the
     * global epoch is >= tag + 4 (two advances): a guard that could have loaded one of its objects announced
     * at most tag (the tag is the global epoch read after the unlink and a full fence), and the
     * epoch cannot pass tag + 2 while such a guard is open. A guard that announces a stale epoch (read before
     * its CAS, the epoch moved meanwhile) only holds the epoch back longer, as in crossbeam's pin().
     */

    private static final long STEP = 2;
    /** A bag sealed in epoch t is reclaimed when the global epoch reaches t + SAFE_DISTANCE (two advances). */
    private static final long SAFE_DISTANCE = 2 * STEP;

    /** The global epoch: even, starting at 2; accessed only through {@code EPOCH}. */
    private long epoch = STEP;

    private final Scheme.Ebr scheme;

    private EbrPolicy(Scheme.Ebr scheme) {
        this.scheme = scheme;
    }

    /**
     * Creates an EBR reclaimer.
     *
     * @param scheme the tuning
     * @return a new reclaimer
     */
    public static Reclaimer create(Scheme.Ebr scheme) {
        return create(scheme, Options.fromSystemProperties());
    }

    /**
     * Creates a reclaimer of this scheme with {@code options}.
     *
     * @param scheme the scheme's tuning
     * @param options the settings for any scheme
     * @return the reclaimer
     */
    public static Reclaimer create(Scheme.Ebr scheme, Options options) {
        return ReclaimerHandle.create(scheme, new EbrPolicy(scheme), options);
    }

    @Override
    protected Capabilities capabilities() {
        return new Capabilities(false, false, scheme.collectInterval(), scheme.batchSize(), scheme.stallThresholdNanos());
    }

    @Override
    protected long announcement() {
        // Volatile: the announced epoch must not be newer, in the synchronization order, than the epoch at
        // the announcing CAS (an acquire read gives no such order under the JLS).
        return epochVolatile() | 1;
    }

    /**
     * A platform thread keeps its participant and announces its epoch in its open word, under either barrier (as
     * crossbeam's pin: a store, then a fence that the asymmetric barrier moves to the collector).
     */
    @Override
    protected boolean announcesInOpenWord(boolean asymmetric) {
        return true;
    }

    @Override
    protected long stampNow() {
        return epochVolatile();
    }

    @Override
    protected long reclaimableBelow() {
        // tag <= g - SAFE_DISTANCE  <=>  tag < g - SAFE_DISTANCE + 1
        return tryAdvance() - SAFE_DISTANCE + 1;
    }

    @Override
    protected void beforeFlush(ThreadGuard g) {
        tryAdvance(); // with no guard open, two advances make everything sealed before them safe
        tryAdvance();
    }

    /**
     * A grace period's bound: the epoch now, announced. A guard opened before the call read the epoch before this
     * read, so it announces at most this; guards announce more only once the epoch has advanced past it.
     */
    @Override
    protected long beginGracePeriod(ThreadGuard caller) {
        return epochVolatile() | 1;
    }

    /**
     * The epoch cannot be moved at will: try to advance it. Only guards that announce an older epoch than the
     * current one block that, so once the grace period's own guards have left, it moves.
     */
    @Override
    protected boolean gracePeriodClockPassed(long bound) {
        long g = bound & ~1L;
        return epochVolatile() > g || tryAdvance() > g;
    }

    @Override
    protected boolean holdsBack(long state) {
        return holdsBack(state, epochVolatile());
    }

    /** Whether a guard announcing {@code state} holds the epoch {@code g} back: it entered in an earlier epoch. */
    private static boolean holdsBack(long state, long g) {
        return (state & ~1L) != g;
    }

    @Override
    protected String describe() {
        return "epoch " + epochVolatile();
    }

    @Override
    protected long era() {
        return epochAcquire() >>> 1;
    }

    /**
     * Tries to advance the epoch by one step.
     *
     * @return a value the global epoch has reached (the new one if this call or a racing one advanced)
     */
    private long tryAdvance() {
        long g = epochVolatile();
        // Collector side of the store-load pair with the announcement (the open word's store and, under fences, the
        // fence after it; or a lease's CAS): orders this thread's earlier stores (unlinks, seals) before
        // the loads of the announcements below. A full fence, or membarrier (Barrier).
        core.heavy();
        for (Participant p : core.participants()) {
            // Volatile (the load side of the store-load pair with the announcement), and at least acquire: a
            // guard's reads, before its release of the participant (or of its open word), happen-before our
            // reclamation.
            long l = p.announcementVolatile();
            if (l > 0 && holdsBack(l, g)) {
                if (core.sweepIfDead(p)) continue;
                core.noteHoldingBack(p, l);
                return g;
            }
        }
        if (casEpoch(g, g + STEP)) return g + STEP;
        return epochAcquire(); // a racing advancer moved it
    }

    private long epochAcquire() {
        return (long) EPOCH.getAcquire(this);
    }

    private long epochVolatile() {
        return (long) EPOCH.getVolatile(this);
    }

    private boolean casEpoch(long expected, long update) {
        return EPOCH.compareAndSet(this, expected, update);
    }

    private static final VarHandle EPOCH;

    static {
        try {
            EPOCH = MethodHandles.lookup().findVarHandle(EbrPolicy.class, "epoch", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
