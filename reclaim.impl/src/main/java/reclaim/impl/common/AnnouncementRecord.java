package reclaim.impl.common;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;


/**
 * Padding before the hot words (HotSpot lays superclass fields first). {@code p16} fills the 4-byte gap
 * after a compressed header: HotSpot places a subclass's narrow fields into a superclass's holes, and
 * without it the compressed {@code holder} reference lands at offset 12, outside the padding
 * (AnnouncementRecordLayoutTest checks the actual layout).
 */
abstract class RecordPadBefore {
    int p16;
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The words that other threads read on every advance: the announcement and the holder. */
abstract class RecordHot extends RecordPadBefore {
    /** The state word (see {@link AnnouncementRecord}); accessed only through {@code STATE}. */
    long state;
    /** The thread holding this record; accessed only through {@code HOLDER} (opaque). */
    Thread holder;
    /** Hyaline only: the slot's list head (inactive, active and empty, or the newest link); through {@code LINK}. */
    Object link;
    /** Hyaline only: the era the slot's holder reserved (its access era); through {@code ACCESS}. */
    long access;
}

/** Padding after the hot words, so the owner's plain fields and the next object sit on other lines. */
abstract class RecordPadAfter extends RecordHot {
    int q16; // fills the 4-byte hole after the compressed holder reference
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}

/**
 * A participant record of an {@link AnnouncingReclaimer}: a state word and a private bag of retired objects,
 * leased by one thread at a time. Records live in the reclaimer's append-only registry and are never freed,
 * only reused.
 *
 * <h2>The state word</h2>
 * <ul>
 *   <li>{@link #FREE} (0): nobody holds the record; its bag may hold objects that anyone may seal.</li>
 *   <li>{@link #HELD} (-1): reserved by an explicitly registered thread, not in a guard.</li>
 *   <li>{@link #BUSY} (-2): held for bookkeeping (flush, sweep, close), not in a guard.</li>
 *   <li>{@link #CLOSED} (-3): the reclaimer closed it; never leased again.</li>
 *   <li>positive: the holder announces this clock value (EBR: {@code epoch | 1} while in a guard; QSBR: the
 *       grace period of its last quiescent state while online).</li>
 * </ul>
 * Whoever moves the word by CAS from FREE, or from HELD or its own announcement (the registered owner), or
 * from the state of a dead holder (a sweeper that first claimed the holder word), owns the plain fields until
 * it stores a state back with release semantics; the next owner's CAS reads that store, so ownership of the
 * bag passes with a happens-before edge. Nobody CASes from BUSY, FREE-read-long-ago or CLOSED values it
 * merely observed: that is what keeps two parties from owning a record at once.
 */
public final class AnnouncementRecord extends RecordPadAfter {
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
    /** Guards opened on this record since its last collection. */
    int pins;

    // ---- hazard pointers only: the slots, written by the holder, read by scanners ----
    /** Fixed hazard slots (per nesting level); accessed only through {@code HAZARDS}. Null for other schemes. */
    Object[] hazards;
    /** Hazards of {@code protect(ref)} without a slot; accessed only through {@code DYNAMIC}. */
    Object[] dynamic;

    // ---- the guard of the thread that owns this record (registered or sticky), or null ----
    /**
     * Written by the owning thread when it takes or gives the record up, cleared by the sweeper of a record
     * whose owner ended; plain: the only reader that acts on it is the owning thread itself, looking for its
     * own guard after its thread locals were reset (another thread's guard fails the final-field thread check).
     * It keeps the guard reachable while its thread holds the record.
     */
    AnnouncingGuard owner;

    // ---- a scheme's own per-record state (Crystalline's reservations), published once ----
    /** Accessed only through {@code SCHEME_DATA}. */
    Object schemeData;

    // ---- written by the holder, read by stats() (opaque) ----
    /** Objects retired into this record, ever; accessed only through {@code RETIRED}. */
    long retired;

    // ---- stall diagnostics, written by advancers (opaque; racy by design, diagnostics only) ----
    /** The pinned value last seen holding the epoch back; accessed only through {@code LAG_VALUE}. */
    long lagValue;
    /** When {@link #lagValue} was first seen; accessed only through {@code LAG_SINCE}. */
    long lagSince;

    // ---- sealed bags kept on the record (schemes that seal per record, Crystalline-W) ----
    /** A stack of sealed bags pushed by the record's holder, taken whole by collectors; through SEALED. */
    SealedNode sealedTop;

    /** One sealed bag in a record's stack; immutable, fresh per push (no ABA). */
    record SealedNode(Batch batch, SealedNode next) {}

    AnnouncementRecord(long initialState, Thread holder, int batchSize) {
        this.bag = new Batch(batchSize);
        this.state = initialState; // plain: published by the registry CAS
        this.holder = holder;
    }

    // ---- state word ----
    /**
     * Reads the state with acquire semantics: what the holder did before its release store of it
     * happens-before what the caller does next.
     *
     * @return the state
     */
    public long stateAcquire() {
        return (long) STATE.getAcquire(this);
    }

    /**
     * Reads the state with volatile semantics: collectors read announcements this way, so that the reader's
     * announcing CAS and the collector's read are totally ordered (ALGORITHMS.md R1a), with no appeal to fences.
     *
     * @return the state
     */
    public long stateVolatile() {
        return (long) STATE.getVolatile(this);
    }

    /**
     * Reads the state with opaque semantics (no ordering; for pre-checks and the holder's own reads).
     *
     * @return the state
     */
    public long stateOpaque() {
        return (long) STATE.getOpaque(this);
    }

    /**
     * Stores the state with release semantics.
     *
     * @param value the new state
     */
    public void setStateRelease(long value) {
        STATE.setRelease(this, value);
    }

    /**
     * CASes the state (a volatile read-modify-write: a full fence).
     *
     * @param expected the state expected
     * @param update the new state
     * @return whether it was replaced
     */
    public boolean casStateVolatile(long expected, long update) {
        return STATE.compareAndSet(this, expected, update);
    }

    // ---- holder ----
    Thread holderOpaque() {
        return (Thread) HOLDER.getOpaque(this);
    }

    void setHolderOpaque(Thread thread) {
        HOLDER.setOpaque(this, thread);
    }

    /** CASes the holder: how a sweeper claims the record of a thread that ended (a dead thread never holds again). */
    boolean casHolder(Thread expected, Thread update) {
        return HOLDER.compareAndSet(this, expected, update);
    }

    // ---- hazard arrays ----
    /**
     * Reads the fixed hazard array with acquire semantics.
     *
     * @return the array, or null
     */
    public Object[] hazardsAcquire() {
        return (Object[]) HAZARDS.getAcquire(this);
    }

    /**
     * Publishes a (new or grown) fixed hazard array with volatile semantics: a scanner that reads the old
     * array after this store is impossible; one that read it before sees our later validation fail.
     *
     * @param array the array
     */
    public void setHazardsVolatile(Object[] array) {
        HAZARDS.setVolatile(this, array);
    }

    /**
     * Reads the dynamic hazard array with acquire semantics.
     *
     * @return the array, or null
     */
    public Object[] dynamicAcquire() {
        return (Object[]) DYNAMIC.getAcquire(this);
    }

    /**
     * Publishes a (new or grown) dynamic hazard array with volatile semantics.
     *
     * @param array the array
     */
    public void setDynamicVolatile(Object[] array) {
        DYNAMIC.setVolatile(this, array);
    }

    // ---- sealed bags (per-record sealing) ----
    /**
     * Pushes a sealed bag; the caller holds the record exclusively (it is the only pusher). Wait-free: the CAS
     * fails only if a collector took the stack meanwhile (collectors only ever set it to null), and then the
     * second attempt, from null, cannot fail.
     */
    void pushSealed(Batch b) {
        while (true) {
            SealedNode top = (SealedNode) SEALED.getVolatile(this);
            // Volatile CAS: publishes the bag's contents (and the unlinks before its retires) to the taker.
            if (SEALED.compareAndSet(this, top, new SealedNode(b, top))) return;
        }
    }

    /** Takes the whole stack (newest first), or null; any thread. One swap, after a volatile read. */
    SealedNode takeSealed() {
        if (SEALED.getVolatile(this) == null) return null;
        return (SealedNode) SEALED.getAndSet(this, (SealedNode) null);
    }

    // ---- Hyaline's slot ----
    /**
     * Reads the slot's list head (volatile).
     *
     * @return the head
     */
    public Object linkVolatile() {
        return LINK.getVolatile(this);
    }

    /**
     * Swaps the slot's list head (a volatile read-modify-write).
     *
     * @param value the new head
     * @return the previous head
     */
    public Object getAndSetLink(Object value) {
        return LINK.getAndSet(this, value);
    }

    /**
     * CASes the slot's list head.
     *
     * @param expected the head expected
     * @param update the new head
     * @return whether it was replaced
     */
    public boolean casLink(Object expected, Object update) {
        return LINK.compareAndSet(this, expected, update);
    }

    /**
     * Reads the slot's access era (opaque; the holder's own reads).
     *
     * @return the era
     */
    public long accessOpaque() {
        return (long) ACCESS.getOpaque(this);
    }

    /**
     * Reads the slot's access era (volatile; retirers).
     *
     * @return the era
     */
    public long accessVolatile() {
        return (long) ACCESS.getVolatile(this);
    }

    /**
     * Publishes the slot's access era (volatile: a store ordered before the holder's next load).
     *
     * @param era the era
     */
    public void setAccessVolatile(long era) {
        ACCESS.setVolatile(this, era);
    }

    // ---- scheme data ----
    /**
     * Reads the scheme's per-record state (volatile).
     *
     * @return the state, or null before its first publication
     */
    public Object schemeDataVolatile() {
        return SCHEME_DATA.getVolatile(this);
    }

    /**
     * Publishes the scheme's per-record state (volatile).
     *
     * @param data the state
     */
    public void setSchemeDataVolatile(Object data) {
        SCHEME_DATA.setVolatile(this, data);
    }

    // ---- counters ----
    long retiredOpaque() {
        return (long) RETIRED.getOpaque(this);
    }

    /** Holder only: counts one more retired object. */
    void countRetired() {
        RETIRED.setOpaque(this, retired + 1);
    }

    // ---- stall diagnostics ----
    void noteLag(long state, long now) {
        if ((long) LAG_VALUE.getOpaque(this) != state) {
            LAG_SINCE.setOpaque(this, now);
            LAG_VALUE.setOpaque(this, state);
        }
    }

    boolean laggingSince(long state, long before) {
        return (long) LAG_VALUE.getOpaque(this) == state && (long) LAG_SINCE.getOpaque(this) <= before;
    }

    // VarHandles
    private static final VarHandle STATE;
    private static final VarHandle HOLDER;
    private static final VarHandle RETIRED;
    private static final VarHandle HAZARDS;
    private static final VarHandle LINK;
    private static final VarHandle SCHEME_DATA;
    private static final VarHandle ACCESS;
    private static final VarHandle DYNAMIC;
    private static final VarHandle LAG_VALUE;
    private static final VarHandle LAG_SINCE;
    private static final VarHandle SEALED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(RecordHot.class, "state", long.class);
            HOLDER = l.findVarHandle(RecordHot.class, "holder", Thread.class);
            RETIRED = l.findVarHandle(AnnouncementRecord.class, "retired", long.class);
            HAZARDS = l.findVarHandle(AnnouncementRecord.class, "hazards", Object[].class);
            LINK = l.findVarHandle(RecordHot.class, "link", Object.class);
            SCHEME_DATA = l.findVarHandle(AnnouncementRecord.class, "schemeData", Object.class);
            ACCESS = l.findVarHandle(RecordHot.class, "access", long.class);
            DYNAMIC = l.findVarHandle(AnnouncementRecord.class, "dynamic", Object[].class);
            LAG_VALUE = l.findVarHandle(AnnouncementRecord.class, "lagValue", long.class);
            LAG_SINCE = l.findVarHandle(AnnouncementRecord.class, "lagSince", long.class);
            SEALED = l.findVarHandle(AnnouncementRecord.class, "sealedTop", SealedNode.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
