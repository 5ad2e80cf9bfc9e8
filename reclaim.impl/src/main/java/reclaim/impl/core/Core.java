package reclaim.impl.core;

import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Objects;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Options;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * The engine every scheme runs on: guards over {@link Participants}, retire bags sealed into {@link SealedBags},
 * flush, registration and close, with a {@link Policy} that says what the scheme does at each step. The user
 * holds a {@link ReclaimerHandle}, which finds the calling thread's guard ({@link GuardLookup}) and calls in here.
 *
 * <p><b>Progress.</b> {@code enter}, {@code close}, {@code protect} and {@code retire} are lock-free (a lease
 * retries only when another thread took the same free participant; with none free a new one is appended, wait-free),
 * unless the policy says more (Crystalline-W). Whether reclamation is blocking is the scheme's business: a
 * policy that announces a clock (EBR, QSBR) is held back by a reader that stays announced, and reports it through
 * {@link Policy#holdsBack} and {@link Stats#stalled()}.
 *
 * <p><b>Happens-before.</b> Actions of a thread before it retires an object happen-before the object's action:
 * the retire is followed by the seal's full fence and the bag's publication (a volatile store or CAS), and the
 * collector takes the bag with a volatile read. A guard releases its participant (a release store) or its hazards
 * when it closes; collectors read them with at least acquire semantics before they decide, so the guard's reads
 * happen-before the reclaim actions.
 */
public final class Core extends Lifecycle {
    /*
     * Overview.
     *
     * enter() finds the thread's guard; only the outermost guard touches shared state. A thread without a
     * reserved participant leases one per outermost guard (Participants.lease, a CAS from FREE to the policy's
     * announcement); a thread with one (a registration, or the sticky participant that schemes with
     * stickyParticipants give platform threads) asks the policy to enter it (EBR: CAS from HELD to the epoch;
     * sticky schemes: nothing but the open flag). Then policy.entered() (Hyaline activates its slot, HP and
     * Crystalline bind their arrays) and, if policy.collectDue(), a bounded collection. A thread that holds a
     * participant of its own takes a short path once that was decided (the kind in ThreadGuard.word, decideFast: on
     * the first outermost enter after its participant changed): its announcement (the open word's store, with a fence
     * under fences where it is the policy's; or the policy's reserved enter), the depth, policy.enteredAgain(), the
     * countdown; close() the same way back. close() of the outermost
     * guard asks policy.leaving() to detach what the guard held (no user code), releases the participant, and only
     * then walks what was detached (policy.left(), counted as work in flight): reclaim actions run with the
     * thread's bookkeeping complete, so they may enter guards and retire.
     *
     * retire() adds to the bag of the participant the guard holds (a sticky owner takes its own participant BUSY
     * for the moment: by CAS under fences, through its bag word under the asymmetric barrier, see claimBag);
     * outside any guard, a thread with a sticky participant opens no guard: it takes its participant the same way,
     * as a flush does, so nothing is announced and nothing detached for one retire.
     * A full bag is sealed: full fence (orders the unlinks that preceded the retires before the loads that follow),
     * policy.sealing() (a clock reads and stamps it), and it is published in the store; then
     * the retirer collects (policy.collect(), counted as work in flight, bounded). Under the asymmetric barrier, a
     * policy whose collection pays the heavy barrier (membarrier) is asked to collect from retire or enter only once
     * HEAVY_AMORTIZED objects were sealed since the last attempt (amortized()); flush and close always collect. With
     * an action executor, a collection that a retire or an enter finds due runs on the executor (collectDue(),
     * HandOff), so that the operation pays neither the collection's heavy barrier nor its scan.
     *
     * close() (Closing) marks the core CLOSING, lets collections in flight end, closes every participant (sealing
     * its bag), refuses if a guard is still open (in the state word, in a sticky participant's open flag, or in a
     * hazard or reservation the policy sees), refuses if work is still in flight after the participants are
     * closed, and otherwise drains every bag. See Lifecycle for the store-load pairs that make "in flight" exact.
     */

    /**
     * Bags a collection run from enter() or retire() takes at most, to bound the latency it adds; a clock scheme's
     * collection runs a share of a larger backlog all the same ({@link ClockPolicy#BACKLOG_SHARE}), or a backlog would
     * grow without end.
     */
    public static final int COLLECT_LIMIT = 8;
    /** The limit flush() passes: everything that is due. */
    public static final int COLLECT_ALL = Integer.MAX_VALUE;
    /**
     * Under the asymmetric barrier, the objects that must be sealed since the last collection attempt before a
     * retire or an enter starts another: a heavy barrier (membarrier, some microseconds) is then paid at most once per
     * this many retired objects, instead of once per bag.
     */
    public static final int HEAVY_AMORTIZED = 1024;

    final Scheme scheme;
    /** The settings for any scheme this core was created with. */
    final Options options;
    /** The barrier strategy, resolved from {@link #options} (see {@link Barrier}). */
    public final Barrier barrier;
    /** The scheme's short name, for messages and stats. */
    public final String name;
    final Policy policy;
    /**
     * Whether a thread's own participant, sticky or registered, enters and leaves on the open word: the policy's
     * {@link Capabilities} say so, or it {@linkplain Policy#announcesInOpenWord(boolean) announces in the open word}
     * under this barrier, unless it {@linkplain Policy#registrationsAnnounceInStateWord() announces registrations in
     * the state word} (QSBR: then its {@link Policy#enterReserved}/{@link Policy#exitReserved} take both kinds, so
     * that an executor's guard tests nothing more). Platform threads get sticky participants when this holds or
     * {@link #openAnnounces} does; {@link #onOpenWord} tells a thread's own participant's kind.
     */
    final boolean sticky;
    /** Whether the outermost enter writes the policy's announcement into the open word (else the grace clock). */
    final boolean openAnnounces;
    /**
     * Whether a retire takes its own participant's bag through the bag word rather than by CAS ({@link #claimBag}):
     * under the asymmetric barrier.
     */
    final boolean bagWord;
    /**
     * How a guard opens and leaves on the open word ({@link ThreadGuard#OPEN_WORD} and its bits), kept in the guard of
     * each thread whose own participant is there ({@link #decideFast}): {@link ThreadGuard#FENCED} under the fence
     * strategy, where a full fence follows the open word's store, ordering it before the guard's read of the core's
     * state ({@link #openSticky}) and, for an announcement, before its loads of shared links;
     * {@link ThreadGuard#ANNOUNCING} where {@link #openAnnounces}; {@link ThreadGuard#DETACHING} where the policy's
     * {@link Policy#leaving} may detach something ({@link Policy#detachesOnLeave}), so that a leave with nothing to
     * detach ({@link #leaveOpenWord}) neither calls nor loads the policy.
     */
    final byte openKind;
    final boolean sealPerParticipant;
    final int collectInterval;
    final int batchSize;
    /**
     * Objects sealed since the last collection attempt that a retire or an enter needs before it collects: 0 under
     * the fence strategy (every full bag collects), {@link #HEAVY_AMORTIZED} or more under the asymmetric one.
     */
    final long collectEvery;
    /**
     * The bag limit of a collection run from enter() or retire(): enough for {@link #collectEvery} objects (a clock
     * scheme's runs a share of a larger backlog: {@link ClockPolicy#BACKLOG_SHARE}).
     */
    final int collectLimit;
    /**
     * The amortization's next due point and the counters of {@link #toString()}: written by collectors, so kept off
     * this object, whose final fields every enter reads.
     */
    private final Pacing pacing = new Pacing();

        final Participants participants;
    /** Where sealed bags wait for the policy's judgement. */
    public final SealedBags sealed;
    private final Reclamation reclamation;
    /** The action executor's side ({@code Options.actionExecutor()}): batches and due collections go there; or null. */
    private final HandOff handOff;
    /** Empty batches of {@link #batchSize} whose actions ran, reused by seals (see {@link Batch}). */
    private final BatchPool pool;
    /** Checked mode's tracking of retired objects ({@link Options#checked()}); null when unchecked. */
    final RetireCheck check;
    /** Stalls, the pending high-water mark and the JFR events. */
    final Telemetry telemetry;

    /** close() and what it needs while it runs. */
    private final Closing closing;
    /** The lookup whose cache holds this core's guards ({@link #attachLookup}); volatile: read by sweeps on any thread. */
    private volatile WeakReference<GuardLookup> lookup;
    /** synchronize(), and the clock that leases announce under schemes without one of their own. */
    final GracePeriods grace;

    /**
     * Builds a core running {@code policy}.
     *
     * @param scheme the scheme record
     * @param policy the scheme's policy, attached to this core only
     * @param options the settings for any scheme
     */
    public Core(Scheme scheme, Policy policy, Options options) {
        this.scheme = Objects.requireNonNull(scheme, "scheme");
        this.options = Objects.requireNonNull(options, "options");
        this.barrier = Barrier.resolve(options.barrier());
        this.name = scheme.name();
        this.policy = policy;
        Capabilities c = policy.capabilities();
        this.openAnnounces = policy.announcesInOpenWord(barrier.asymmetric());
        this.bagWord = barrier.asymmetric();
        this.openKind = (byte) (ThreadGuard.OPEN_WORD | (barrier.asymmetric() ? 0 : ThreadGuard.FENCED)
                | (openAnnounces ? ThreadGuard.ANNOUNCING : 0) | (policy.detachesOnLeave() ? ThreadGuard.DETACHING : 0));
        // A policy sticky already announces nothing.
        this.sticky = (c.stickyParticipants() || openAnnounces) && !policy.registrationsAnnounceInStateWord();
        this.sealPerParticipant = c.sealPerParticipant();
        this.collectInterval = c.collectInterval();
        this.batchSize = c.batchSize();
        this.collectEvery = barrier.asymmetric() && policy.collectsWithHeavyBarrier() ? Math.max(HEAVY_AMORTIZED, batchSize) : 0;
        this.collectLimit = (int) Math.max(COLLECT_LIMIT, 2 * ((collectEvery + batchSize - 1) / batchSize));
        this.sealed = new SealedBags(sealPerParticipant);
        this.check = options.checked() ? new RetireCheck(name) : null;
        this.telemetry = new Telemetry(name, c);
        this.pool = new BatchPool(batchSize);
        this.handOff = options.actionExecutor() == null ? null : new HandOff(this, options.actionExecutor());
        this.reclamation = new Reclamation(telemetry, check, handOff, pool, collectEvery);
        this.participants = new Participants(this, policy, batchSize);
        this.closing = new Closing(this);
        this.grace = new GracePeriods(this);
        policy.attach(this);
        telemetry.start(this);
    }

    // =====================================================================================================
    // Services for policies
    // =====================================================================================================

    /**
     * Returns the policy this core runs.
     *
     * @return the policy
     */
    public Policy policy() {
        return policy;
    }

    /**
     * Runs the barrier strategy's heavy barrier ({@link Barrier#heavy()}) and counts it for {@link #toString()}.
     */
    public void heavy() {
        pacing.heavy();
        barrier.heavy();
    }

    /**
     * Returns the objects a collection may leave waiting in sealed bags on top of what the policy's own bound says:
     * what the asymmetric barrier's amortization lets accumulate before a retire or an enter collects
     * ({@link #HEAVY_AMORTIZED}, and a bag per participant sealing meanwhile), 0 under the fence strategy; and with an
     * action executor, what may wait for a handed-off collection (the bags of {@link HandOff#COLLECT_MISSES} due
     * collections and one more before a retiring thread collects itself) plus the bags a running one holds.
     *
     * @return the objects
     */
    public long amortizationSlack() {
        long slack = collectEvery == 0 ? 0 : collectEvery + (long) participants.all().length * batchSize;
        if (handOff != null) {
            slack += (HandOff.COLLECT_MISSES + 1) * Math.max(collectEvery, batchSize) + (long) collectLimit * batchSize;
        }
        return slack;
    }

    /**
     * Returns the participants as last published (a volatile read: part of every scanner's store-load argument).
     *
     * @return the participants; do not modify
     */
    public Participant[] participants() {
        return participants.all();
    }

    /**
     * If {@code p}'s holder has ended, claims it, adopts its bag, walks what its guard held and frees it.
     *
     * @param p a participant
     * @return whether it was swept (and announces nothing any more)
     */
    public boolean sweepIfDead(Participant p) {
        return participants.sweepAndWalk(p);
    }

    /**
     * Notes that {@code p}, announcing {@code state}, holds reclamation back (for stall detection).
     *
     * @param p the participant
     * @param state its state as read
     */
    public void noteHoldingBack(Participant p, long state) {
        telemetry.holdingBack(this, p, state, System.nanoTime());
    }

    /**
     * Returns the runner of reclaim actions (counts and contains failures).
     *
     * @return the runner
     */
    public Reclamation reclamation() {
        return reclamation;
    }

    /**
     * Takes an empty batch of {@link #batchSize()} from the core's pool, or a new one if it keeps none: what a
     * policy fills with objects it moves out of sealed bags. Give it back through {@link #recycle} or
     * {@link Reclamation#run}.
     *
     * @return an empty batch owned by the caller
     */
    public Batch takeBatch() {
        return pool.take();
    }

    /**
     * Gives a batch the caller owns exclusively, whose objects ran or were moved elsewhere, back to the core's pool
     * (cleared first: it pins nothing). A batch of another size is dropped to the garbage collector.
     *
     * @param b the batch; the caller must not touch it afterwards
     */
    public void recycle(Batch b) {
        pool.give(b);
    }

    /** @return the pool of batches (for tests) */
    BatchPool pool() {
        return pool;
    }

    /**
     * Returns the number of objects per bag.
     *
     * @return the batch size
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * CASes the reserved participant of {@code g} from its owner's idle state to {@code update}, waiting while
     * another thread holds it BUSY for a moment (a flush sealing its bag: it holds no lock and runs no user code
     * meanwhile).
     *
     * @param g a reserving thread's guard, called on that thread outside every guard
     * @param update the new state
     * @return false if the core closed the participant
     */
    public boolean claimOwn(ThreadGuard g, long update) {
        Participant p = g.registered;
        long idle = policy.idleState(g);
        while (true) {
            if (p.casState(idle, update)) return true;
            long s = p.stateVolatile();
            if (s == Participant.CLOSED) return false;
            if (s == idle) continue; // the seal that held it BUSY ended between our CAS and this read
            if (s != Participant.BUSY) {
                throw new IllegalStateException("internal error: reserved participant in state " + s + ", expected " + idle);
            }
            Thread.onSpinWait();
        }
    }

    /** {@link #tryClaimOwn}: the participant is now the caller's. */
    static final int CLAIMED = 0;
    /** {@link #tryClaimOwn}: the core closed the participant. */
    static final int CLAIM_CLOSED = 1;
    /** {@link #tryClaimOwn}: another thread holds the participant for a moment (a flush sealing its bag). */
    static final int CLAIM_BUSY = 2;

    /** Tries at most twice to CAS the reserved participant from the idle state to {@code update}: wait-free. */
    private int tryClaimOwn(ThreadGuard g, long update) {
        Participant p = g.registered;
        long idle = policy.idleState(g);
        for (int attempt = 0; attempt < 2; attempt++) {
            if (p.casState(idle, update)) return CLAIMED;
            long s = p.stateVolatile();
            if (s == Participant.CLOSED) return CLAIM_CLOSED;
            if (s == Participant.BUSY) return CLAIM_BUSY;
            if (s != idle) {
                throw new IllegalStateException("internal error: reserved participant in state " + s + ", expected " + idle);
            }
        }
        return CLAIM_BUSY; // held and released twice meanwhile: as good as busy
    }

    /**
     * Seals the bag of {@code g}'s reserved participant (held by the caller, outside any guard) and collects what
     * is due: a registered thread's periodic pass.
     *
     * @param g the registered thread's guard
     */
    public void pass(ThreadGuard g) {
        seal(g.registered);
        // Under the asymmetric barrier a collection that pays membarrier runs once per collectEvery objects sealed,
        // as from retire or enter: a pass comes every few microseconds, the barrier costs some. Otherwise the pass
        // runs a seal's share of what earlier collections deferred, as a retire that seals does.
        if (g.collecting != 0) return; // a reclaim action's pass, inside a collection this thread runs: see collectAt
        g.collecting++;
        try {
            if (amortized()) collect(COLLECT_LIMIT);
            else trickle();
        } finally {
            endCollecting(g);
        }
    }

    // =====================================================================================================
    // Guards
    // =====================================================================================================

    /** Creates the guard of {@code t} (the lookup's thread-local initial value). */
    ThreadGuard newGuard(Thread t) {
        return policy.newGuard(t);
    }

    /** The guard of the participant {@code t} reserved (sticky or registered), or null (see {@link GuardLookup}). */
    ThreadGuard reservedGuardOf(Thread t) {
        return participants.reservedGuardOf(t);
    }

    /**
     * Notes the lookup that finds this core's guards (the handle the user holds), weakly: the core must not keep it
     * reachable (see {@link ReclaimerHandle}). Once, from the handle's constructor.
     *
     * @param l the lookup
     */
    void attachLookup(GuardLookup l) {
        lookup = new WeakReference<>(l);
    }

    /**
     * Evicts the guard of the thread with id {@code threadId}, which ended, from the lookup's cache (see
     * {@link GuardLookup#evict}); nothing if the handle is gone.
     *
     * @param threadId the ended thread's id
     */
    void evictCachedGuard(long threadId) {
        WeakReference<GuardLookup> w = lookup;
        GuardLookup l = w == null ? null : w.get();
        if (l != null) l.evict(threadId);
    }

    /**
     * Opens {@code g}, the calling thread's guard.
     *
     * @param g the guard
     * @return the guard
     */
    Guard enter(ThreadGuard g) {
        // The open word's store, then the core's state (openSticky): the schemes' open-word kinds (announcing,
        // detaching or both, under either barrier) are cases, each compared with the guard's word as a constant (depth 0
        // and the kind in one compare) and passed on as one to openFast, so that its tests of the kind's bits fold away
        // (and a branch that a thread never takes is not compiled); any other kind is tested in the default branch.
        int w = g.word;
        switch (w) { // C2 tests the case its profile found most frequent first: each scheme's own kind, one compare
            case ThreadGuard.OPEN_ANNOUNCING -> { // EBR, QSBR
                if (openFast(g, ThreadGuard.OPEN_ANNOUNCING)) return g;
            }
            case ThreadGuard.OPEN_DETACHING -> { // HP, Crystalline
                if (openFast(g, ThreadGuard.OPEN_DETACHING)) return g;
            }
            case ThreadGuard.OPEN_ANNOUNCING_DETACHING -> { // Hyaline
                if (openFast(g, ThreadGuard.OPEN_ANNOUNCING_DETACHING)) return g;
            }
            // The same three under the fence strategy: each a constant too.
            case ThreadGuard.OPEN_ANNOUNCING | ThreadGuard.FENCED -> {
                if (openFast(g, (byte) (ThreadGuard.OPEN_ANNOUNCING | ThreadGuard.FENCED))) return g;
            }
            case ThreadGuard.OPEN_DETACHING | ThreadGuard.FENCED -> {
                if (openFast(g, (byte) (ThreadGuard.OPEN_DETACHING | ThreadGuard.FENCED))) return g;
            }
            case ThreadGuard.OPEN_ANNOUNCING_DETACHING | ThreadGuard.FENCED -> {
                if (openFast(g, (byte) (ThreadGuard.OPEN_ANNOUNCING_DETACHING | ThreadGuard.FENCED))) return g;
            }
            default -> {
                if (w >= ThreadGuard.DEPTH_ONE) { // nested: only the outermost guard announces
                    g.deeper();
                    return g;
                }
                if (w == ThreadGuard.FAST_RESERVED) { // the policy's announcement: checked before, as pin() does
                    if (stateOpaque() == Lifecycle.OPEN && openFast(g, ThreadGuard.FAST_RESERVED)) return g;
                } else if ((byte) w > 0) { // any other open word kind: its bits tested as they come
                    if (openFast(g, (byte) w)) return g;
                }
            }
        }
        pin(g); // a general guard, or a core that is closing: pinSlow refuses (or serves close()'s own actions)
        return g;
    }

    /**
     * Opens the outermost guard of a thread whose guard {@linkplain ThreadGuard#fast() takes a short path}: what
     * {@link #pin} does for it, less the tests that {@link #decideFast} settled once (a participant of its own, held as
     * the record; the word it announces in, and what it stores there; the fence). The announcement (on the open word,
     * a release store: see {@link #openSticky}; otherwise the policy's {@link Policy#enterReserved}), the depth, the
     * policy's {@link Policy#enteredAgain}, and the collect countdown.
     *
     * @param g the calling thread's guard
     * @param kind the guard's short path ({@link ThreadGuard#fast()}, positive)
     * @return false if the core is closing (nothing is open then; the caller takes {@link #pin}, which refuses)
     */
    private boolean openFast(ThreadGuard g, byte kind) {
        Policy pol = policy; // in a local: see pin()
        if (kind == ThreadGuard.FAST_RESERVED) pol.enterReserved(g);
        else if (!openSticky(g, pol, kind)) return false;
        g.word = ThreadGuard.DEPTH_ONE | (kind & ThreadGuard.KIND); // depth 1; kind is the guard's kind
        pol.enteredAgain(g);
        if (pol.collectDue(g) && levels(g).collecting == 0 && amortized()) collectOnEnter(g);
        return true;
    }

    /**
     * Decides which path {@code g}'s outermost guards take ({@link ThreadGuard#fast()}), as {@link #pin} and
     * {@link #unpin} would for it: the general one for a leased participant; for a participant of the thread's own, held as its
     * record, {@link #openKind} where it enters and leaves on the open word ({@link #onOpenWord}: what
     * {@link #openSticky} stores, directly or through QSBR's {@link #openOwn}), and {@link ThreadGuard#FAST_RESERVED}
     * where the core passes it to the policy's reserved enter and exit (QSBR's registrations; a policy whose
     * participants are not sticky). Called by
     * {@link #opened}, after the policy's {@code entered}, on the first outermost enter since the thread's participant
     * changed. Plain: only the owning thread reads it.
     */
    private void decideFast(ThreadGuard g) {
        Participant own = g.registered;
        byte f;
        if (own == null || g.record != own) f = ThreadGuard.GENERAL;
        else if (onOpenWord(g)) f = openKind;
        else f = ThreadGuard.FAST_RESERVED;
        g.fast(f);
    }

    /** Opens depth 1 on a participant. */
    private void pin(ThreadGuard g) {
        Participant p = g.registered;
        if (p != null && stateOpaque() == Lifecycle.OPEN) { // the common case, small enough to inline
            // The policy in a local: the open word's release store below would make the JIT load the field again
            // after it (it does not trust final instance fields, and a release is a compiler barrier).
            Policy pol = policy;
            // Where registrations announce in the state word (QSBR), the policy opens the thread's sticky participant
            // too (openOwn): its registered executors' enter stays the one load it was.
            if (!sticky) pol.enterReserved(g);
            else if (!openSticky(g, pol)) { // close() began after our check: refused below
                pinSlow(g);
                return;
            }
            opened(g, p, pol);
            return;
        }
        pinSlow(g);
    }

    /** pin() for a thread without a reserved participant yet, or on a core that is closing. */
    private void pinSlow(ThreadGuard g) {
        if (stateOpaque() != Lifecycle.OPEN) {
            if (closing.isCloser()) {
                // A reclaim action run by close(): nothing else is reclaimed meanwhile (close drains on this
                // thread, one action at a time), so the guard needs no participant; its retires go to the late list.
                g.record = null;
                g.depth(1);
                // Its close must be unpin()'s (nothing to detach: no participant), not a short path's, which would ask
                // the policy to detach from a participant the guard does not hold. The core never opens again, so
                // the short path is not lost.
                g.fast(ThreadGuard.GENERAL);
                closing.actionEntered(g); // a guard the action leaves open is closed when it returns
                return;
            }
            throw refused();
        }
        try {
            Participant p = g.registered;
            // A sticky participant, reserved once (g is the calling thread's guard: pinSlow never opens an owned one)
            if (p == null && (sticky || openAnnounces) && !Thread.currentThread().isVirtual()) {
                p = participants.lease(g, Participant.HELD);
                g.own(p);
                g.sticky = true;
            }
            if (p != null) {
                if (!sticky) policy.enterReserved(g);
                else if (!openSticky(g, policy)) throw refused();
            } else {
                // The lease's CAS is a volatile read-modify-write: ordered before this guard's later volatile loads
                // of shared links (the store-load pair that a scanner's fence and reads pair with).
                p = participants.lease(g, policy.announcement());
            }
            opened(g, p, policy);
        } finally {
            if (g.deferred != null) runDeferred(g); // swept on the way: our bookkeeping is over, done or failed
        }
    }

    /**
     * Opens the outermost guard of {@code g} on the open word of its sticky participant: for a policy that
     * {@linkplain Policy#registrationsAnnounceInStateWord() announces registrations in the state word}, whose
     * {@link Policy#enterReserved} receives both kinds of its own participants.
     *
     * @param g the calling thread's guard, holding its sticky participant
     */
    public void openOwn(ThreadGuard g) {
        if (!openSticky(g, policy)) throw refused();
    }

    /**
     * Closes the outermost guard of {@code g} on the open word: the counterpart of {@link #openOwn}, from the policy's
     * {@link Policy#exitReserved}. A release store of 0.
     *
     * @param g the calling thread's guard, holding its sticky participant
     */
    public void closeOwn(ThreadGuard g) {
        g.setOpenRelease(0);
    }

    /**
     * Whether the outermost guards of {@code g} on its own participant ({@code g.registered}) open and close on the open
     * word (sticky participants: the participant stays HELD and is taken BUSY for a retire or a seal), rather than
     * through the policy's {@link Policy#enterReserved}/{@link Policy#exitReserved} on the state word. The caller
     * holds {@code g}'s own participant, or is about to.
     */
    private boolean onOpenWord(ThreadGuard g) {
        return sticky || g.sticky;
    }

    /**
     * Opens a guard on the thread's own sticky participant: a store of the open word, beside the depth. It is the
     * policy's announcement ({@link #openAnnounces}), or else the grace clock ({@link GracePeriods#clockOpaque()}):
     * a clock either way, never 0, so that a grace period tells this guard from the thread's later ones. Then the
     * guard's loads. Where the word is the policy's announcement and scanners decide on it (EBR), the store and the
     * guard's loads of shared links are the reader's side of a store-load pair: under the asymmetric strategy
     * scanners read the word after the heavy barrier ({@link Barrier}), which orders this store before the loads, so
     * nothing follows it here; under the fence strategy a full fence follows it ({@link ThreadGuard#FENCED}). Where the
     * word is the grace clock (HP, Crystalline), only close() and grace periods read it, after their heavy barrier;
     * the scheme's own protection (a hazard, a reservation) carries its own ordering. A release store (on x86 the same
     * plain store as an opaque one): a grace period that reads this value instead of the 0 that the previous guard's close
     * stored also sees what that guard did.
     *
     * <p>Then the core's state, after the store (and the fence, under the fence strategy, for either word): the other
     * half of the store-load pair with {@code close()}, which stores CLOSING and reads the open words after its heavy
     * barrier ({@link Closing}). Either this load sees CLOSING, and the store is taken back and the guard refused, or
     * {@code close()} sees the open word and refuses (waiting first, bounded, for the word to clear). Checked before
     * the store, as it once was, an enter could read OPEN and store after {@code close()} had read its word: a guard
     * open on a reclaimer whose close() had completed ({@code EnterVsCloseTest} in the jcstress suite).
     *
     * @return true if the guard is open; false if the core is closing (the open word is 0 again)
     */
    private boolean openSticky(ThreadGuard g, Policy pol) {
        return openSticky(g, pol, openKind);
    }

    /**
     * {@link #openSticky(ThreadGuard, Policy)} with what to store and whether to fence read from {@code kind} (an
     * {@link ThreadGuard#OPEN_WORD} kind: {@link #openKind}, or the guard's copy of it in {@link #openFast}).
     */
    private boolean openSticky(ThreadGuard g, Policy pol, byte kind) {
        if ((kind & ThreadGuard.ANNOUNCING) != 0) g.setOpenRelease(pol.announcement());
        else g.setOpenRelease(grace.clockOpaque());
        boolean fence = (kind & ThreadGuard.FENCED) != 0;
        pol.opening(g, fence); // a scheme's own announcement (Hyaline's session word), before the fence that orders it
        // Under fences, for either word: orders the store before the core's state below, pairing with close()'s
        // fence (a release store orders nothing before a later load); for an announcement, also before the guard's
        // loads of shared links, pairing with the full fence a scanner runs before it reads the announcements
        // (EbrPolicy.tryAdvance), and the same for what opening() stored.
        if (fence) VarHandle.fullFence();
        if (stateOpaque() == Lifecycle.OPEN) return true;
        return openRefused(g, pol);
    }

    /**
     * Takes back the stores of a guard that found the core closing ({@link #openSticky}): the policy's
     * ({@link Policy#openingRefused}), then the open word. An abandoned core's close that
     * the store made refuse is retried ({@link Closing#leftWhileClosing}): {@code enter()} does not fence the handle
     * (it is on every guard's path), so the cleaner may close the core while an enter that the handle's last use
     * began is still running.
     */
    private boolean openRefused(ThreadGuard g, Policy pol) {
        pol.openingRefused(g); // before the open word: a close() that reads 0 there sees it taken back
        g.setOpenRelease(0);
        closing.leftWhileClosing();
        return false;
    }

    /**
     * Opens the scheme guard behind an owned guard (its thread is null) on a participant leased for its lifetime,
     * as a virtual thread's outermost guard leases one; {@link #unpin} closes it. See {@link OwnedGuardImpl}.
     *
     * @param g a new guard of {@link #newGuard}, with no thread
     */
    void pinOwned(ThreadGuard g) {
        // Not even for close()'s own reclaim actions (pinSlow's exception): what they retire goes to a list that only
        // the closing thread may touch, and an owned guard may move to another thread.
        if (stateOpaque() != Lifecycle.OPEN) throw refused();
        try {
            // The lease's CAS orders the announcement before the guard's later loads, as in pinSlow. Its holder is
            // g.threadRef, null: no thread's end sweeps the participant, only the owned guard's close releases it.
            opened(g, participants.lease(g, policy.announcement()), policy);
        } finally {
            if (g.deferred != null) runDeferred(g);
        }
    }

    private void opened(ThreadGuard g, Participant p, Policy pol) {
        // A reference store pays G1's post-write barrier (a store-load fence once the guard is in an old region);
        // a thread's own participant is already there on every enter after its first.
        if (g.record != p) g.record = p;
        g.depth(1);
        pol.entered(g);
        if (g.fast() == ThreadGuard.UNDECIDED) decideFast(g);
        if (pol.collectDue(g) && levels(g).collecting == 0 && amortized()) collectOnEnter(g);
    }

    /**
     * Whether a collection from retire or enter is worth its heavy barrier: always under the fence strategy; under the
     * asymmetric one, once {@link #collectEvery} objects were sealed since the last attempt (which this call then
     * counts from). An opaque read of the store's published count (a line that changes once per bag).
     */
    private boolean amortized() {
        long every = collectEvery;
        if (every == 0) return true;
        return pacing.due(sealed.publishedOpaque(), every);
    }

    private void collectOnEnter(ThreadGuard g) {
        try {
            collectAt(levels(g), true); // actions are contained; only our own bookkeeping could throw here
        } catch (RuntimeException | Error e) {
            g.depth(0);
            unpin(g);
            throw e;
        }
    }

    /** Walks what sweeps detached (and counted in flight) during the caller's lease. */
    private void runDeferred(ThreadGuard g) {
        ArrayList<Object> d = g.deferred;
        g.deferred = null;
        Throwable first = null;
        for (Object o : d) { // every item is counted in flight: walk them all, even if one walk fails
            try {
                walkSwept(o);
            } catch (RuntimeException | Error e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first instanceof RuntimeException re) throw re;
        if (first instanceof Error err) throw err;
    }

    /**
     * Closes the outermost guard of {@code g}: detaches what it held, releases the participant, then walks.
     *
     * @param g the guard whose depth just reached 0
     */
    void unpin(ThreadGuard g) {
        Participant p = g.record; // read first: nothing below may change it before the release
        if (p == null) return; // a guard opened by a reclaim action during close()
        byte kind;
        if (p != g.registered) kind = ThreadGuard.GENERAL; // a leased participant
        else kind = sticky ? openKind : ThreadGuard.FAST_RESERVED; // QSBR: closeOwn(g) for a sticky one
        unpin(g, kind);
    }

    /**
     * Leaves the outermost guard of {@code g} (its depth already 0) on its record: {@link ThreadGuard#GENERAL}
     * releases a leased participant, {@link ThreadGuard#FAST_RESERVED} passes the thread's own to the policy's
     * {@link Policy#exitReserved}, any other kind clears the open word. The policy's {@link Policy#leaving} runs first,
     * except for an open word kind without {@link ThreadGuard#DETACHING}, whose policy has nothing to detach. A short
     * path ({@link ThreadGuard#close()}) calls it with its kind, which decideFast settled for the thread's own
     * participant.
     *
     * @param g the calling thread's guard, holding a record
     * @param kind how the record is left
     */
    void unpin(ThreadGuard g, byte kind) {
        Policy pol = policy;
        Object detached = kind < ThreadGuard.OPEN_WORD || (kind & ThreadGuard.DETACHING) != 0 ? pol.leaving(g) : null;
        // Counted before the release: close() reads the participants before it reads the count (Lifecycle).
        if (detached != null) beginWork();
        if (kind == ThreadGuard.GENERAL) {
            Participant p = g.record;
            g.record = null;
            Participants.release(p);
        } else if (kind == ThreadGuard.FAST_RESERVED) {
            pol.exitReserved(g); // at the same point as the open word's store below
        } else {
            g.setOpenRelease(0); // after the count: a close() that reads 0 sees the count (Lifecycle)
        }
        if (detached != null) walkLeft(g, detached); // user code runs only now, with the guard fully closed
        if (stateOpaque() != Lifecycle.OPEN) closing.leftWhileClosing(); // an abandoned core waits for its guards
    }

    /**
     * Walks what the leave of {@code g}'s outermost guard detached: at once, or, where {@code g}'s thread is already
     * running reclaim actions of this core (the guard was a reclaim action's, or its retire's), after them, by the
     * walk or collection that runs them ({@link #endCollecting}): a loop instead of a recursion, for actions that
     * retire what their object links to.
     *
     * @param g the calling thread's guard, closed
     * @param detached what the leave detached, counted in flight
     */
    private void walkLeft(ThreadGuard g, Object detached) {
        ThreadGuard t = levels(g);
        if (t.collecting != 0) {
            try {
                t.queueWalk(detached); // still counted in flight: close() waits for it
                return;
            } catch (OutOfMemoryError e) {
                // no room to queue it: walk it now, inside the actions, rather than leave it counted and unwalked
            }
        }
        t.collecting++;
        try {
            walkCounted(detached);
        } finally {
            endCollecting(t);
        }
    }

    /**
     * The guard that counts the calling thread's levels of reclaim actions ({@link ThreadGuard#collecting}) for an
     * operation through {@code g}: {@code g} itself when it is a thread's guard; for an owned guard, which belongs to
     * no thread, the guard of the thread using it (an action that opens an owned guard, or retires or closes through
     * one, is still inside the collection of the thread running it). Only on the rare paths: a due collection, a walk.
     *
     * @param g the guard an operation goes through
     * @return the guard of the calling thread
     */
    private ThreadGuard levels(ThreadGuard g) {
        if (g.threadRef != null) return g;
        ThreadGuard t = callerGuard();
        return t == null ? g : t;
    }

    /**
     * The calling thread's guard of this core, through the reclaimer's lookup; null once the reclaimer was dropped and
     * collected (then nothing of this core runs on a thread's own guard any more: only owned guards and the cleaner).
     *
     * @return the guard, or null
     */
    ThreadGuard callerGuard() {
        WeakReference<GuardLookup> w = lookup;
        GuardLookup l = w == null ? null : w.get();
        return l == null ? null : l.guard();
    }

    /**
     * The flush a reclaim action asked for ({@link #flush}), at the end of the outermost level of the thread's
     * actions: a whole flush, itself a level, so that its actions' flushes come round again here. One that finds the
     * core closing does nothing: {@code close()} reclaims everything.
     *
     * @param g the calling thread's guard, at its outermost level
     */
    private void reflush(ThreadGuard g) {
        if (stateOpaque() != Lifecycle.OPEN) return;
        try {
            flushNow(g);
        } catch (IllegalStateException e) {
            if (stateOpaque() == Lifecycle.OPEN) throw e; // refused because close() began meanwhile: it drains
        }
    }

    /**
     * Ends a level of {@link ThreadGuard#collecting}; the outermost one first walks what nested leaves queued
     * ({@link #walkLeft}), and what those walks queue in turn, each even if another failed (each is counted in flight
     * until walked), then throws the first failure.
     *
     * @param g the calling thread's guard
     */
    void endCollecting(ThreadGuard g) {
        Throwable first = null;
        while (g.collecting == 1) {
            try {
                Object d = g.takeQueuedWalk();
                if (d != null) {
                    walkCounted(d);
                } else if (g.flushAgain) { // a reclaim action's flush(): see flush
                    g.flushAgain = false;
                    reflush(g);
                } else {
                    break;
                }
            } catch (RuntimeException | Error e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        g.collecting--;
        if (first instanceof RuntimeException re) throw re;
        if (first instanceof Error err) throw err;
    }

    /**
     * Leaves the outermost guard of {@code g} (its depth already 0) on the open word of its own participant, where the
     * policy detaches nothing ({@link ThreadGuard#close()}, for a kind without {@link ThreadGuard#DETACHING}): what
     * {@link #unpin(ThreadGuard, byte)} does for it, the release store of 0 and the core's state.
     *
     * @param g the calling thread's guard, holding its own participant
     */
    void leaveOpenWord(ThreadGuard g) {
        g.setOpenRelease(0);
        if (stateOpaque() != Lifecycle.OPEN) closing.leftWhileClosing(); // an abandoned core waits for its guards
    }

    /**
     * {@link #walkCounted} for a list that a sweep detached from a participant whose thread ended: it defers nothing
     * ({@link Reclamation#beginRunAll}), so that what a flush found taken by the sweep is reclaimed before the walk
     * ends, as flush() promises of work in progress.
     *
     * @param detached what {@link Policy#swept} returned
     */
    void walkSwept(Object detached) {
        int saved = reclamation.beginRunAll();
        try {
            walkCounted(detached);
        } finally {
            reclamation.endTrickle(saved);
        }
    }

    /**
     * Walks detached work that was counted in flight when it was detached, and counts it out.
     *
     * @param detached what {@link Policy#swept} or {@link Policy#leaving} returned
     */
    void walkCounted(Object detached) {
        try {
            policy.left(detached);
        } finally {
            endWork();
        }
    }

    // =====================================================================================================
    // Retire
    // =====================================================================================================

    /** Retires outside a guard of the caller's, or inside one. */
    <T> void retire(ThreadGuard g, T object, Consumer<? super T> action) {
        Objects.requireNonNull(object, "object");
        Objects.requireNonNull(action, "action");
        if (stateOpaque() != Lifecycle.OPEN && closing.isCloser()) { // an action run by close()
            closing.retireLate(object, action);
            return;
        }
        if (g.depth() != 0) {
            retireInto(g, g.record, object, action);
            return;
        }
        Participant own = g.registered;
        if (own != null && onOpenWord(g) && stateOpaque() == Lifecycle.OPEN) {
            // Outside any guard, on the thread's own sticky participant: no guard to open. The bag is taken in
            // retireInto (through the bag word, or by CAS to BUSY as a flush outside a guard takes it), which is all
            // the add and the seal need;
            // the open word stays 0, so nothing is announced and nothing is detached at the end. A core that closed
            // the participant meanwhile refuses the retire there.
            retireInto(g, own, object, action);
            return;
        }
        // A registered thread idle in its state word (QSBR: offline) opens this guard for the retire only, not as
        // its next guard: it goes offline again after it, or it would hold everyone back while it blocks.
        boolean offline = own != null && policy.idleState(g) == Participant.HELD;
        // The guard opened for the retire is a level of this thread's reclaim actions (collectAt): no collection runs
        // inside it, neither its enter's nor the one a full bag sets off, since inside it this thread's own
        // announcement would hold back what the collection (and a flush its actions ask for) is for. The one the bag
        // sets off runs once the guard is closed, where its level ends.
        boolean sealed = false;
        g.collecting++;
        try {
            pin(g);
            try {
                sealed = add(g, g.record, object, action);
            } finally {
                g.depth(0);
                unpin(g);
                if (offline && g.registered == own) policy.offline(g);
            }
        } finally {
            endCollecting(g);
        }
        if (sealed) collectAfterSeal(g); // none where this retire is a reclaim action's (its level is still open)
    }

    /** Adds to the bag of a participant the caller holds; seals and collects when the bag is full. */
    void retireInto(ThreadGuard g, Participant p, Object object, Consumer<?> action) {
        if (add(g, p, object, action)) collectAfterSeal(g);
    }

    /**
     * The collection that a retire whose add sealed a full bag sets off: none where the calling thread is already
     * running this core's reclaim actions ({@link #collectAt}).
     *
     * @param g the calling thread's guard, or an owned guard
     */
    private void collectAfterSeal(ThreadGuard g) {
        telemetry.sealed(this);
        ThreadGuard t = levels(g);
        if (t.collecting == 0) collectAt(t, amortized()); // else a reclaim action's retire: see collectAt
    }

    /**
     * {@link #retireInto}'s add, and the seal of a bag it fills, without the collection that follows.
     *
     * @return true if the add filled the bag and sealed it
     */
    private boolean add(ThreadGuard g, Participant p, Object object, Consumer<?> action) {
        if (p == null) { // a guard opened by a reclaim action during close()
            closing.retireLate(object, action);
            return false;
        }
        // Checked mode: tracked (or refused, naming the object: its toString() runs) before we hold anything.
        if (check != null) check.retiring(object);
        boolean claimed = p == g.registered && onOpenWord(g);
        long idle = claimed ? policy.idleState(g) : 0;
        boolean light = claimed && bagWord && claimBag(g, p, idle);
        if (light) {
            // The bag is ours until the bag word goes back to 0: the participant stays in its idle state.
        } else if (claimed && sealPerParticipant) {
            int s = tryClaimOwn(g, Participant.BUSY);
            if (s == CLAIM_CLOSED) throw closedWhileRetiring(object);
            if (s == CLAIM_BUSY) { // a flush or close() seals our bag this moment: do not wait for it
                // Outside a guard nothing else keeps close() from draining and returning while this insertion runs
                // (it may run actions): count it as work in flight, or refuse the retire if close() has begun.
                boolean counted = g.depth() == 0;
                if (counted && !tryBeginWork()) throw closedWhileRetiring(object);
                try {
                    p.countRetired(); // the owner is this field's only writer, held or not
                    Batch aside = new Batch(1);
                    aside.add(object, action);
                    VarHandle.fullFence(); // as in seal(): the unlinks before this retire, then what sealing reads
                    policy.sealing(aside);
                    telemetry.sealing(aside);
                    policy.insertAside(aside);
                } finally {
                    if (counted) endWork();
                }
                return false;
            }
        } else if (claimed && !claimOwn(g, Participant.BUSY)) {
            throw closedWhileRetiring(object);
        }
        boolean full;
        try {
            // A seal that failed (an Error: no memory for a batch) left the bag full: seal it before adding to it.
            if (p.bag.isFull()) seal(p);
            p.countRetired();
            full = p.bag.add(object, action);
            if (full) seal(p);
        } finally {
            if (light) g.setBagRelease(0); // release: a taker that reads 0 sees our adds and our seal
            else if (claimed) p.setStateRelease(idle);
        }
        return full;
    }

    /**
     * Takes the bag of the caller's own participant for a retire without taking the participant: under the
     * asymmetric barrier, where a retire would otherwise pay a CAS (a locked instruction) to move the state word to
     * BUSY and back. The owner stores 1 into its bag word (opaque), then reads the state (acquire); a thread that
     * takes the participant from another thread's idle state (a flush sealing idle bags, {@code close()}) CASes the
     * state to BUSY, runs the heavy barrier, and then reads the bag word ({@link #bagInUse}). That is a store-load
     * pair on each side: either the owner reads the taker's BUSY (or what came after it) and gives the word back, or
     * the taker reads the owner's 1 and leaves the bag alone (it puts the state back). The compiled code keeps the
     * owner's store before its load (Barrier, property 1); the heavy barrier removes the CPU's reordering of them.
     * The acquire read pairs with a taker's release of the state: an owner that reads the idle state a taker put
     * back sees the bag that taker left.
     *
     * @param g the calling thread's guard
     * @param p its own participant ({@code g.registered}), on the open word
     * @param idle the state it rests in between guards ({@link Policy#idleState})
     * @return true if the bag is the caller's until it stores 0 into its bag word; false if another thread holds the
     *     participant (or the core closed it), with the word back at 0: the caller claims it by CAS instead
     */
    private static boolean claimBag(ThreadGuard g, Participant p, long idle) {
        g.setBagOpaque(1);
        if (p.stateAcquire() == idle) return true;
        g.setBagRelease(0);
        return false;
    }

    /**
     * Whether the owner of {@code p}, which the caller has just CASed to BUSY from HELD (the idle state of a
     * participant on the open word, the only kind whose owner uses the bag word), is adding to its bag without having
     * taken it ({@link #claimBag}): the taker's side of that store-load pair, the heavy barrier and then the owner's
     * bag word (acquire: a 0 read hands the owner's adds over). If so the caller must not touch the bag; it puts the
     * state back and tries again later, as when it finds the participant BUSY. The owner is read after the barrier
     * too: a thread that has just taken the participant stores its owner reference before its bag word. Not needed
     * for a participant taken from FREE, which no thread holds, nor for one whose holder ended. Always false under the
     * fence strategy, where owners CAS.
     *
     * @param p a participant the caller holds BUSY, taken from HELD
     * @return whether its owner is using the bag right now
     */
    boolean bagInUse(Participant p) {
        if (!bagWord) return false;
        heavy();
        return ownerUsesBag(p);
    }

    /**
     * {@link #bagInUse} after its heavy barrier: the owner (acquire), then its bag word (acquire). For a caller that
     * shares one heavy barrier among many participants it took from HELD (a flush, {@code close()}).
     */
    static boolean ownerUsesBag(Participant p) {
        ThreadGuard o = p.ownerAcquire();
        return o != null && o.bagAcquire() != 0;
    }

    /**
     * Returns the exception for a call this core refuses because it is not open: closed, or closing (a close() began
     * and has not completed).
     *
     * @return the exception, naming which of the two
     */
    public IllegalStateException refused() {
        return stateOpaque() == Lifecycle.CLOSED ? Checks.closed(name) : Checks.closing(name);
    }

    /** The core closed our participant before a retire could take it: the object is not retired after all. */
    private IllegalStateException closedWhileRetiring(Object object) {
        if (check != null) check.untrack(object);
        return refused();
    }

    /**
     * Seals the bag of a participant the caller holds (announced, reserved by itself, or BUSY): a full fence, the
     * policy's {@link Policy#sealing}, and the bag's publication.
     *
     * @param p the participant
     */
    void seal(Participant p) {
        Batch bag = p.bag;
        if (bag.isEmpty()) return;
        Batch fresh = pool.take(); // taken first: an allocation that fails leaves the bag in place, not lost
        // Orders the unlinks that preceded these retires (stores) before the loads that sealing makes (a clock
        // read too early could be too old, and the bag reclaimed too soon) and before a collector's later scan.
        VarHandle.fullFence();
        policy.sealing(bag);
        telemetry.sealing(bag);
        sealed.publish(p, bag);
        p.bag = fresh;
    }

    // =====================================================================================================
    // Collection and flush
    // =====================================================================================================

    /**
     * Runs the policy's collection, counted as work in flight; skipped once the core is closing (close() drains).
     *
     * @param limit bags to take at most
     */
    void collect(int limit) {
        if (!tryBeginWork()) return;
        pacing.collection();
        // A collection from enter or retire under the amortized heavy barrier trickles: it runs a few of the batches
        // it finds reclaimable and leaves the others for later seals (Reclamation); flush runs everything.
        boolean trickles = limit != COLLECT_ALL;
        int saved = reclamation.beginTrickle(trickles);
        // A flush that looks while this collection holds the bags it took finds neither them nor, if this defers them
        // after its drain, the deferred ones: flush() promises that a collection in progress reclaims what it took
        // before it ends. So a trickling collection during which a drain began runs what is deferred itself. The
        // count is read before the bags are taken, and again after the deferrals (both volatile): a drain that began
        // after that second read finds the deferred batches on the stack.
        long drains = trickles ? reclamation.drains() : 0;
        try {
            policy.collect(limit);
        } finally {
            try {
                // also where the collection failed after it deferred some; not counted (see drainDeferred(boolean))
                if (trickles && reclamation.drains() != drains) reclamation.drainDeferred(false);
            } finally {
                reclamation.endTrickle(saved);
                endWork();
            }
        }
    }

    /**
     * A collection that a retire or an enter found due: handed to the action executor where there is one (so that the
     * operation pays neither its heavy barrier nor its scan: {@link HandOff#submitCollect}), else run here, bounded.
     * One that runs here because the executor is behind ({@link HandOff#COLLECT_MISSES} due collections in a row found
     * a task still waiting, and left their bags to it) takes the bags of all of them: at one bounded collection per
     * due one, a stuck executor would let sealed bags pile up at the rate of the skipped ones.
     */
    private void collectDue() {
        HandOff h = handOff;
        if (h == null) collect(collectLimit);
        else if (!h.submitCollect()) collect(collectLimit * HandOff.COLLECT_MISSES); // behind (or closing: no-op)
    }

    /**
     * Runs the collection ({@code due}: {@link #collectDue}) or the seal's share of deferred batches ({@link #trickle})
     * that an operation of the calling thread found due, as a level of {@link ThreadGuard#collecting}. The callers
     * start none where the thread is already running this core's reclaim actions ({@link #levels}): the operation is
     * then an action's (its retire, the enter of its guard), and a collection started there would run more actions
     * inside the first. Actions that free what an object links to by retiring it (a list freed node by node) would
     * recurse through as many collections as the list has bags, until the stack overflowed, and a
     * {@link StackOverflowError} thrown in the core's own bookkeeping can leave a bag half sealed. What such an action
     * retires is sealed as usual, and collected by the thread's next due collection (or by {@code flush()} and
     * {@code close()}). {@link ThreadGuard#collecting} is plain: only the guard's thread uses it.
     *
     * @param g the calling thread's guard ({@link #levels})
     * @param due true for a collection, false for the trickle
     */
    private void collectAt(ThreadGuard g, boolean due) {
        g.collecting++;
        try {
            if (due) collectDue();
            else trickle();
        } finally {
            endCollecting(g);
        }
    }

    /**
     * flush()'s collection of everything, of the deferred batches and of what was handed to the action executor, on
     * {@code g}'s thread, as a level of {@link ThreadGuard#collecting}: what its reclaim actions retire starts no
     * collection inside it, and a flush they call is done after it ({@link #collectAt}, {@link #flush}).
     *
     * @param g the calling thread's guard
     * @param wait whether to wait for the handed-off batches other threads are running (outside a guard)
     */
    private void collectAll(ThreadGuard g, boolean wait) {
        g.collecting++;
        try {
            collect(COLLECT_ALL);
            drainDeferred();
            reclamation.helpHandedOff(g, wait);
        } finally {
            endCollecting(g);
        }
    }

    /** The collection of a task that {@link #collectDue} handed off, on the thread that runs the task. */
    void collectHandedOff() {
        collect(collectLimit);
    }

    /** flush(): runs every batch trickling collections deferred. */
    private void drainDeferred() {
        runTrickled(true);
    }

    /** A seal's share of the batches trickling collections deferred. */
    private void trickle() {
        runTrickled(false);
    }

    /**
     * Runs deferred batches (all, or a seal's share), counted as work in flight, as a collection. A drain runs even when
     * the stack looks empty: a seal's trickle may hold it for a moment, and trickling collections in progress count the
     * drain ({@link Reclamation#drainDeferred}).
     */
    private void runTrickled(boolean all) {
        if (!(all ? reclamation.defers() : reclamation.deferredPending()) || !tryBeginWork()) return;
        try {
            if (all) reclamation.drainDeferred();
            else reclamation.trickle(trickleShare());
        } finally {
            endWork();
        }
    }

    /**
     * A seal's share of the deferred batches: what spreads the deferred objects evenly over the seals left before the
     * next amortized collection (the objects still to seal before it is due, in bags), at least one batch and at most
     * {@link Reclamation#TRICKLE_MOST}. One in a steady stream, where a collection defers about what the seals of one
     * interval then run; more where fewer seals run a share than were sealed (the seals of a reclaim action's retires run
     * none: {@link #collectAt}), or where a collection found a backlog, so that the stack is empty again by the next
     * collection and that collection can defer what it finds instead of running it. Opaque reads: a stale count only
     * runs a batch more or fewer.
     */
    private int trickleShare() {
        long bag = batchSize;
        long sealsLeft = Math.max(1, (pacing.dueOpaque() - sealed.publishedOpaque() + bag - 1) / bag);
        long share = (reclamation.deferredOnStack() + sealsLeft * bag - 1) / (sealsLeft * bag);
        return (int) Math.max(1, Math.min(Reclamation.TRICKLE_MOST, share));
    }

    /** flush() for the calling thread's guard {@code g}. */
    void flush(ThreadGuard g) {
        if (g.collecting != 0 && stateOpaque() == Lifecycle.OPEN) {
            // A reclaim action's flush, on a thread running this core's actions: flushing here would run more actions
            // inside them, one level deeper per action that flushes. The outermost level flushes again before it ends
            // (endCollecting): what was retired before this call is reclaimed by then.
            g.flushAgain = true;
            return;
        }
        flushNow(g);
    }

    /** {@link #flush}, not deferred: from the caller, or from {@link #endCollecting} for an action that asked for it. */
    private void flushNow(ThreadGuard g) {
        if (g.depth() != 0) {
            // A guard opened by a reclaim action during close(), or one still open on a core that is closing (its
            // nested enters and retires are accepted, a flush is not: Reclaimer.flush)
            if (g.record == null || stateOpaque() != Lifecycle.OPEN) throw refused();
            // Inside a guard our own announcement holds reclamation back: seal what we retired, reclaim what is due.
            if (g.record == g.registered && onOpenWord(g)) {
                long idle = policy.idleState(g);
                if (!claimOwn(g, Participant.BUSY)) throw refused();
                try {
                    seal(g.record);
                } finally {
                    g.record.setStateRelease(idle);
                }
            } else {
                seal(g.record);
            }
            sealIdle();
            telemetry.sealed(this);
            collectAll(g, false); // inside a guard: of what was handed off, run what has not started, wait for nobody
            return;
        }
        if (stateOpaque() != Lifecycle.OPEN) throw refused();
        Participant own = g.registered;
        if (own != null) { // seal our own bag, holding our participant only for that (no user code meanwhile)
            long idle = policy.idleState(g);
            if (!claimOwn(g, Participant.BUSY)) throw refused();
            try {
                seal(own);
            } finally {
                own.setStateRelease(idle);
            }
        }
        // The rest runs reclaim actions, which may enter guards, retire or deregister: hold a separate participant
        // (BUSY), so that close() waits for this flush and our reserved participant stays usable meanwhile.
        Participant p;
        try {
            p = participants.lease(g, Participant.BUSY);
        } finally {
            if (g.deferred != null) runDeferred(g);
        }
        try {
            seal(p);
            sealIdle();
            telemetry.sealed(this);
            policy.beforeFlush(g);
            reclamation.settleHandedOffCollections(g); // no collection task holds bags our collection cannot see
            collectAll(g, true); // what was handed to the action executor has run when flush() returns
        } finally {
            Participants.release(p);
        }
    }

    /**
     * Seals the bags of participants nobody is in a guard on: free ones, idle reserved ones (each taken by CAS to
     * BUSY for the moment of the seal), and those of threads that ended (swept). Under the asymmetric barrier an idle
     * reserved one's owner may be adding to its bag without taking it ({@link #claimBag}): those taken from HELD are
     * kept BUSY until one heavy barrier, shared by all of them, then sealed unless their owner's bag word is set.
     * The sweeps come first, in a pass of their own: a sweep may run reclaim actions (what a thread that ended inside
     * a guard held), which may retire or flush, so no participant is held BUSY meanwhile (an action's retire would
     * wait for the one it needs, on this thread or on another that the action waits for).
     */
    private void sealIdle() {
        Participant[] all = participants.all();
        for (Participant p : all) {
            long s = p.stateVolatile();
            if (s != Participant.FREE && s != Participant.CLOSED && s != Participant.BUSY) participants.sweepAndWalk(p);
        }
        Participant[] held = bagWord ? new Participant[all.length] : null; // taken from HELD, before the barrier
        int n = 0;
        try {
            for (Participant p : all) {
                long s = p.stateVolatile();
                if ((s == Participant.FREE || s == Participant.HELD) && p.casState(s, Participant.BUSY)) {
                    if (s == Participant.HELD && held != null && !heldByCaller(p)) held[n++] = p;
                    else sealAndRelease(p, s);
                }
            }
            if (n == 0) return;
            heavy(); // bagInUse's barrier, once for every participant in held
            for (int i = 0; i < n; i++) {
                Participant p = held[i];
                try {
                    if (!ownerUsesBag(p)) seal(p); // else its owner is retiring: leave the bag
                } finally {
                    p.setStateRelease(Participant.HELD);
                    held[i] = null;
                }
            }
        } finally {
            for (int i = 0; i < n; i++) if (held[i] != null) held[i].setStateRelease(Participant.HELD); // a seal threw
        }
    }

    /** Whether {@code p} is the calling thread's own participant (whose bag word it does not set while it flushes). */
    private static boolean heldByCaller(Participant p) {
        ThreadRef h = p.holderOpaque();
        return h != null && h.isCurrent();
    }

    /** Seals the bag of {@code p}, held BUSY by the caller, and puts its state back to {@code s}. */
    private void sealAndRelease(Participant p, long s) {
        try {
            seal(p);
        } finally {
            p.setStateRelease(s);
        }
    }

    // =====================================================================================================
    // Refresh and grace periods
    // =====================================================================================================

    /**
     * {@code Guard.refresh()} on {@code g}, the calling thread's guard or an owned guard's (no thread, inside a call on
     * it): the outermost guard leaves and enters again on the same guard object (what it held is detached and walked
     * as a close would, then it announces anew; an owned guard leases a participant anew). A nested guard, a guard
     * opened by a reclaim action during close(), or a core that is not open: nothing.
     *
     * @param g the guard, open
     * @return whether it refreshed
     */
    boolean refresh(ThreadGuard g) {
        if (g.depth() != 1 || g.record == null || stateOpaque() != Lifecycle.OPEN) return false;
        g.depth(0);
        unpin(g); // may run reclaim actions, with the guard closed as for a close()
        // Throws if the core started closing meanwhile: the guard stays closed.
        if (g.threadRef == null) pinOwned(g);
        else pin(g);
        return true;
    }

    /**
     * {@code Reclaimer.synchronize()} for the calling thread's guard {@code g} (see {@link GracePeriods}).
     *
     * @param g the calling thread's guard
     * @param timeoutNanos how long to wait at most; {@code Long.MAX_VALUE} for no limit
     * @return whether every guard open at the call has closed
     */
    boolean synchronize(ThreadGuard g, long timeoutNanos) {
        if (g.depth() != 0) {
            throw new IllegalStateException("synchronize() inside a guard of this " + name + " reclaimer would wait"
                    + " for that guard itself: close it first");
        }
        if (isClosed()) return true; // close() completed with no guard open, and none opens since
        return grace.await(g, timeoutNanos);
    }

    /**
     * Returns the bound on pending objects: the policy's, plus the asymmetric barrier's amortization slack
     * ({@link #amortizationSlack()}), plus what waits for the action executor and what trickling collections deferred
     * ({@link Reclamation#deferredWaiting()}, at most about {@link #collectEvery} objects).
     *
     * @return the bound, or {@code Long.MAX_VALUE}
     */
    long pendingBound() {
        long b = policy.pendingBound();
        if (b == Long.MAX_VALUE) return b;
        b += amortizationSlack();
        // Plus what waits in sealed bags for a collection, counted where it is: reclaim actions that retire (an object
        // whose action frees what it links to by retiring it) seal bags that no collection inside them takes, so the
        // store may hold any number of them until the next operation that collects (the slack above covers only what
        // the amortization leaves between two collections). And what collections, trickles and drains took and hold:
        // still pending, in their hands (SealedBags.takeAllHeld).
        long w = reclamation.handedOffWaiting() + reclamation.deferredWaiting() + sealed.objectsAndHeld();
        return b > Long.MAX_VALUE - w ? Long.MAX_VALUE : b + w;
    }

    /** @return close() and what it needs (the action executor's tasks finish an abandoned core through it) */
    Closing closing() {
        return closing;
    }

    // =====================================================================================================
    // Registration
    // =====================================================================================================

    /** register() for the calling thread's guard. */
    Registration register(ThreadGuard g, Reclaimer handle) {
        if (stateOpaque() != Lifecycle.OPEN) throw refused();
        if (g.depth() != 0) throw new IllegalStateException("register() inside a guard: register before entering");
        if (g.registered != null && g.sticky) { // the thread's sticky participant becomes its registration
            g.sticky = false;
            policy.registered(g); // QSBR: online from now on, in the state word
            g.fast(ThreadGuard.UNDECIDED); // its participant's kind changed: decided again at the next enter
            return new CoreRegistration(g, g.registered, handle);
        }
        if (g.registered != null) throw new IllegalStateException("this thread is already registered with this reclaimer");
        Participant p;
        try {
            p = participants.lease(g, Participant.HELD);
            g.own(p);
            g.record = p;
            policy.registered(g);
        } finally {
            if (g.deferred != null) runDeferred(g);
        }
        return new CoreRegistration(g, p, handle);
    }

    /** Ends a registration (on the registering thread, outside a guard). */
    void deregister(ThreadGuard g, Participant p) {
        if (g.registered != p) return; // already closed
        if (g.depth() != 0) throw new IllegalStateException("cannot deregister inside a guard: close the guard first");
        boolean mine = claimOwn(g, Participant.BUSY);
        g.own(null);
        g.record = null;
        g.sticky = false;
        g.announced = 0; // scheme scratch belongs to this registration only
        g.lastPass = 0;
        if (!mine) return; // the core closed it
        try {
            seal(p); // hand what we retired to the others
        } finally {
            Participants.release(p);
        }
    }

    // =====================================================================================================
    // Stats
    // =====================================================================================================

    Stats stats() {
        long now = System.nanoTime();
        int stalled = 0;
        Participant[] ps = participants.all();
        long retired = closing.retiredAtClose() >= 0 ? closing.retiredAtClose() : retiredSoFar(ps);
        for (Participant p : ps) {
            long s = p.announcementVolatile();
            if (s > 0 && policy.holdsBack(s) && telemetry.holdingBack(this, p, s, now)) stalled++;
        }
        long reclaimed = reclamation.reclaimed();
        // Read reclaimed after retired: an object counted reclaimed was counted retired before, so a snapshot
        // never shows more reclaimed than retired.
        return new Stats(name, Math.max(retired, reclaimed), reclaimed, reclamation.failed(), stalled, ps.length, barrier.kind());
    }

    /** Objects retired so far: every participant's count and the retires of actions run by close(). */
    long retiredSoFar(Participant[] ps) {
        long retired = closing.lateRetired();
        for (Participant p : ps) retired += p.retiredOpaque();
        return retired;
    }

    /** @return heavy barriers run so far (approximate while threads run; see {@link #heavy()}) */
    long heavyBarriers() {
        return pacing.heavies();
    }

    /** @return collections run so far, on any thread (approximate while threads run) */
    long collections() {
        return pacing.collections();
    }

    boolean isClosed() {
        return stateVolatile() == Lifecycle.CLOSED;
    }

    // =====================================================================================================
    // Close
    // =====================================================================================================

    /** close(): see {@link Closing}. */
    void close() {
        closing.close(false);
    }

    /**
     * Closes a core whose reclaimer became unreachable without close() (see {@link Closing#abandon()}).
     */
    void abandon() {
        closing.abandon();
    }

    @Override
    public String toString() {
        return "Core[" + scheme + ", " + policy.describe() + ", " + participants.all().length + " participants, "
                + barrier + " barrier, " + pacing.collections() + " collections, " + pacing.heavies() + " heavy barriers]";
    }

    /**
     * When the next amortized collection is due, and how many collections and heavy barriers ran. The due point is
     * opaque: racing collectors may both collect, or one may move it back a little, which only moves a collection by
     * a bag or two. The counters are opaque increments by the thread that collects: approximate under races, for
     * {@link #toString()} and tests.
     */
    static final class Pacing {
        /** {@link SealedBags#publishedOpaque()} at or after which the next amortized collection is due; through {@code DUE}. */
        private long due;
        /** Through {@code HEAVIES}. */
        private long heavies;
        /** Through {@code COLLECTIONS}. */
        private long collections;

        /** The published count at which the next amortized collection is due (opaque). */
        long dueOpaque() {
            return (long) DUE.getOpaque(this);
        }

        boolean due(long published, long every) {
            if (published < (long) DUE.getOpaque(this)) return false;
            DUE.setOpaque(this, published + every);
            return true;
        }

        void heavy() {
            HEAVIES.setOpaque(this, (long) HEAVIES.getOpaque(this) + 1);
        }

        void collection() {
            COLLECTIONS.setOpaque(this, (long) COLLECTIONS.getOpaque(this) + 1);
        }

        long heavies() {
            return (long) HEAVIES.getOpaque(this);
        }

        long collections() {
            return (long) COLLECTIONS.getOpaque(this);
        }

        private static final VarHandle DUE;
        private static final VarHandle HEAVIES;
        private static final VarHandle COLLECTIONS;

        static {
            try {
                java.lang.invoke.MethodHandles.Lookup l = java.lang.invoke.MethodHandles.lookup();
                DUE = l.findVarHandle(Pacing.class, "due", long.class);
                HEAVIES = l.findVarHandle(Pacing.class, "heavies", long.class);
                COLLECTIONS = l.findVarHandle(Pacing.class, "collections", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }
}
