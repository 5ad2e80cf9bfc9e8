package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Padding before the hot words (HotSpot lays superclass fields first). {@code p16} fills the 4-byte gap
 * after a compressed header: HotSpot places a subclass's narrow fields into a superclass's holes, and
 * without it the compressed {@code holder} reference lands at offset 12, outside the padding
 * (ParticipantLayoutTest checks the actual layout).
 */
abstract class ParticipantPadBefore {
    int p16;
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The words that other threads read on every scan: the state, the holder and the owner (for its open word). */
abstract class ParticipantHot extends ParticipantPadBefore {
    /** The state word (see {@link Participant}); accessed only through {@code STATE}. */
    long state;
    /** The thread holding this participant, weakly ({@link ThreadRef}); accessed only through {@code HOLDER}. */
    ThreadRef holder;
    /**
     * The guard of the thread that reserved this participant (registered or sticky), or null; accessed through
     * {@code OWNER}. Written by the owning thread when it takes or gives the participant up (release: the guard's
     * fields are published with it), cleared by the sweeper of a participant whose thread ended. Read by scanners
     * and {@code close()} for the owner's open word, and by that thread when its thread locals were reset (see
     * {@code GuardLookup}). Here rather than among the owner's plain fields: scanners read it on every scan.
     */
    ThreadGuard owner;
}

/** Padding after the hot words, so the owner's plain fields and the next object sit on other lines. */
abstract class ParticipantPadAfter extends ParticipantHot {
    int q16; // fills the 4-byte hole after the compressed holder reference
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}

/**
 * A participant of a {@link Core}: a state word, a private bag of retired objects and whatever per-participant
 * state its scheme keeps (a subclass in the scheme's package: hazard slots, Hyaline's list head, Crystalline's
 * reservations), leased by one thread at a time. Participants live in the core's append-only {@link Registry}
 * and are never freed, only reused.
 *
 * <h2>The state word</h2>
 * <ul>
 *   <li>{@link #FREE} (0): nobody holds it; its bag may hold objects that anyone may seal.</li>
 *   <li>{@link #HELD} (-1): reserved by a thread (an explicit registration, or a sticky participant that a
 *       platform thread keeps between its guards), not held for bookkeeping.</li>
 *   <li>{@link #BUSY} (-2): held for bookkeeping (a seal by a flush, a sweep, close), not in a guard.</li>
 *   <li>{@link #CLOSED} (-3): the core closed it; never leased again.</li>
 *   <li>positive: the holder announces this value while it may hold references (EBR: {@code epoch | 1} in a
 *       guard; QSBR: the grace period of its last quiescent state while online; Hyaline: the era at enter; the
 *       other schemes: the core's grace clock at enter, "in a guard", for leases of virtual threads).</li>
 * </ul>
 *
 * <h2>Ownership</h2>
 * Whoever moves the word by CAS from FREE, or from HELD or its own announcement (the owner of a reserved
 * participant), or from the state of a dead holder (a sweeper that first claimed the holder word by CAS), owns
 * the plain fields until it stores a state back with release semantics; the next owner's CAS reads that store,
 * so ownership of the bag passes with a happens-before edge. Nobody CASes from BUSY, or from a FREE or CLOSED
 * value it merely observed earlier: that is what keeps two parties from owning a participant at once.
 *
 * <p>One exception, under the asymmetric barrier: the owner of a reserved participant retires into its bag without
 * moving the state word. It sets the bag word of its {@link ThreadGuard} and then reads the state (acquire); a thread
 * that CASes the state from the owner's idle value runs the heavy barrier and then reads that word, and leaves the
 * bag alone (it stores the idle state back) while the word is set ({@code Core.claimBag}, {@code Core.bagInUse}).
 *
 * <h2>Sticky participants and the open flag</h2>
 * A scheme whose guards publish nothing on enter (hazard pointers, Crystalline: a guard's protects publish
 * what it holds) lets a platform thread keep its participant HELD from its first guard until it ends, so that
 * entering a guard touches no shared word. The state word then cannot tell whether a guard is open, so the owner
 * writes an open flag on its outermost enter and close (release stores: they pair with the acquire reads of
 * {@code close()}, which come after a full fence, and of a grace period). The flag lives in the owner's
 * {@link ThreadGuard}, beside the nesting depth that enter writes anyway, so that entering writes one cache line; {@code close()} finds it through
 * the owner reference on the hot line. An enter stores the flag and then reads the core's state, and close() stores
 * CLOSING and reads the flags after its heavy barrier: either the enter sees CLOSING and takes its store back, or
 * close() sees the guard and refuses ({@code Core.openSticky}).
 */
public class Participant extends ParticipantPadAfter {
    /** See the class documentation. */
    public static final long FREE = 0;
    /** See the class documentation. */
    public static final long HELD = -1;
    /** See the class documentation. */
    public static final long BUSY = -2;
    /** See the class documentation. */
    public static final long CLOSED = -3;

    // ---- owned by the holder (plain; handed over through the state word) ----
    /** Retired objects not yet sealed. */
    Batch bag;


    // ---- written by the holder, read by stats() (opaque) ----
    /** Objects retired through this participant; accessed through {@code RETIRED}. */
    long retired;

    // ---- stall diagnostics, written by scanners (racy by design, diagnostics only). lagValue is stored with release
    // after lagSince and read with acquire before it, so a reader that sees a value sees the time stored with it (or
    // a later one, if two scanners race): a stall is never judged by the time of an earlier announcement. ----
    /** The announcement a scanner last saw holding reclamation back; through {@code LAG_VALUE}. */
    long lagValue;
    /** When a scanner first saw {@link #lagValue}; through {@code LAG_SINCE}. */
    long lagSince;
    /** The announcement whose stall was last reported (once per stall: {@code Telemetry}); through {@code STALL_REPORTED}. */
    long stallReported;

    // ---- sealed bags kept on the participant (schemes that seal per participant) ----
    /**
     * The newest sealed bag kept here, the older ones chained through {@link Batch#next} (an intrusive stack: no node
     * per bag); accessed through {@code SEALED}. Only pushed and taken whole, never popped one by one, so a batch
     * recycled and pushed again cannot confuse a CAS (no ABA).
     */
    Batch sealedTop;

    /**
     * Creates a participant in {@code initialState}, held by {@code holder}.
     *
     * @param initialState the state it is appended in
     * @param holder the thread that holds it, or null
     * @param batchSize objects per bag
     */
    protected Participant(long initialState, ThreadRef holder, int batchSize) {
        this.bag = new Batch(batchSize);
        this.state = initialState; // plain: published by the registry's volatile store
        this.holder = holder;
    }

    // ---- state word ----

    /** @return the state, with acquire semantics */
    public final long stateAcquire() {
        return (long) STATE.getAcquire(this);
    }

    /** @return the state, with volatile semantics */
    public final long stateVolatile() {
        return (long) STATE.getVolatile(this);
    }

    /** @return the state, opaque */
    public final long stateOpaque() {
        return (long) STATE.getOpaque(this);
    }

    /** @param value the state to store with release semantics (hands the plain fields on) */
    public final void setStateRelease(long value) {
        STATE.setRelease(this, value);
    }

    /**
     * @param expected the state expected
     * @param update the new state
     * @return whether the volatile CAS succeeded
     */
    public final boolean casState(long expected, long update) {
        return STATE.compareAndSet(this, expected, update);
    }

    // ---- holder ----

    final ThreadRef holderOpaque() {
        return (ThreadRef) HOLDER.getOpaque(this);
    }

    final void setHolderOpaque(ThreadRef thread) {
        HOLDER.setOpaque(this, thread);
    }

    final boolean casHolder(ThreadRef expected, ThreadRef update) {
        return HOLDER.compareAndSet(this, expected, update);
    }

    // ---- the owner, and its open flag (sticky participants) ----

    final ThreadGuard ownerAcquire() {
        return (ThreadGuard) OWNER.getAcquire(this);
    }

    final void setOwnerRelease(ThreadGuard g) {
        OWNER.setRelease(this, g);
    }

    /**
     * Returns what this participant announces to a scanner: a positive state word (a lease's announcement, an
     * online registered thread), else the owner's open word when it is non-zero (a guard open on a sticky
     * participant: the scheme's announcement, or the core's grace clock), else the state word. The state is read volatile and the open
     * word with acquire semantics; under the asymmetric barrier the scanner runs the heavy barrier first.
     *
     * @return the announcement
     */
    public final long announcementVolatile() {
        long s = stateVolatile();
        if (s > 0) return s;
        ThreadGuard o = ownerAcquire();
        long open = o == null ? 0 : o.openAcquire();
        return open != 0 ? open : s;
    }

    /**
     * @return whether the owner of this sticky participant has a guard open: its open flag, read with acquire
     *     semantics (the load side of the pairs described in the class documentation)
     */
    final boolean guardOpen() {
        ThreadGuard o = ownerAcquire();
        return o != null && o.openAcquire() != 0;
    }

    // ---- sealed bags (per-participant sealing) ----

    final void pushSealed(Batch b) {
        while (true) {
            Batch top = (Batch) SEALED.getVolatile(this);
            b.next = top; // plain: the bag is still ours until the CAS publishes it
            // Volatile CAS: publishes the bag's contents and link (and the unlinks before its retires) to the taker.
            if (SEALED.compareAndSet(this, top, b)) return;
        }
    }

    /** Takes the whole stack (newest first, chained through {@link Batch#next}); the caller owns it and unlinks it. */
    final Batch takeSealed() {
        if (SEALED.getVolatile(this) == null) return null;
        return (Batch) SEALED.getAndSet(this, (Batch) null);
    }

    // ---- counters ----

    final long retiredOpaque() {
        return (long) RETIRED.getOpaque(this);
    }

    final void countRetired() {
        RETIRED.setOpaque(this, retired + 1); // the holder is the only writer
    }

    // ---- stall diagnostics ----

    final void noteLag(long state, long now) {
        if ((long) LAG_VALUE.getOpaque(this) != state) {
            LAG_SINCE.setOpaque(this, now);
            LAG_VALUE.setRelease(this, state); // release: publishes the time above with the value
        }
    }

    final boolean laggingSince(long state, long before) {
        // acquire: pairs with noteLag's release, so the time read next is the one stored with this value (or later)
        return (long) LAG_VALUE.getAcquire(this) == state && (long) LAG_SINCE.getOpaque(this) <= before;
    }

    /** @return when a scanner first saw the current lag ({@code System.nanoTime()}), opaque */
    final long lagSinceOpaque() {
        return (long) LAG_SINCE.getOpaque(this);
    }

    /**
     * Claims the report of the stall of announcement {@code state}: true for one caller per announcement (a CAS, so
     * that racing scanners report a stall once).
     *
     * @param state the announcement that stalled (positive)
     * @return whether the caller reports it
     */
    final boolean claimStallReport(long state) {
        long reported = (long) STALL_REPORTED.getOpaque(this);
        return reported != state && STALL_REPORTED.compareAndSet(this, reported, state);
    }

    // VarHandles
    private static final VarHandle STATE;
    private static final VarHandle HOLDER;
    private static final VarHandle OWNER;
    private static final VarHandle RETIRED;
    private static final VarHandle LAG_VALUE;
    private static final VarHandle LAG_SINCE;
    private static final VarHandle STALL_REPORTED;
    private static final VarHandle SEALED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(ParticipantHot.class, "state", long.class);
            HOLDER = l.findVarHandle(ParticipantHot.class, "holder", ThreadRef.class);
            OWNER = l.findVarHandle(ParticipantHot.class, "owner", ThreadGuard.class);
            RETIRED = l.findVarHandle(Participant.class, "retired", long.class);
            LAG_VALUE = l.findVarHandle(Participant.class, "lagValue", long.class);
            LAG_SINCE = l.findVarHandle(Participant.class, "lagSince", long.class);
            STALL_REPORTED = l.findVarHandle(Participant.class, "stallReported", long.class);
            SEALED = l.findVarHandle(Participant.class, "sealedTop", Batch.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
