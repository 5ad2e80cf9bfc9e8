package reclaim.impl.ebr;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import reclaim.impl.common.Batch;

/**
 * Padding before the hot words (HotSpot lays superclass fields first). {@code p16} fills the 4-byte gap
 * after a compressed header: HotSpot places a subclass's narrow fields into a superclass's holes, and
 * without it the compressed {@code holder} reference lands at offset 12, outside the padding
 * (EbrRecordLayoutTest checks the actual layout).
 */
abstract class EbrRecordPadBefore {
    int p16;
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The words that other threads read on every advance: the announcement and the holder. */
abstract class EbrRecordHot extends EbrRecordPadBefore {
    /** See {@link EbrRecord#localAcquire()}; accessed only through {@code LOCAL}. */
    long local;
    /** The thread holding this record; accessed only through {@code HOLDER} (opaque). */
    Thread holder;
}

/** Padding after the hot words, so the owner's plain fields and the next object sit on other lines. */
abstract class EbrRecordPadAfter extends EbrRecordHot {
    int q16; // fills the 4-byte hole after the compressed holder reference
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}

/**
 * A participant record: an announcement word and a private bag of retired objects, leased by one thread at a
 * time. Records live in the reclaimer's append-only registry and are never freed, only reused.
 *
 * <h2>The state word {@code local}</h2>
 * <ul>
 *   <li>{@link #FREE} (0): nobody holds the record; its bag may hold objects that anyone may seal.</li>
 *   <li>{@link #HELD} (-1): reserved by an explicitly registered thread, not in a guard.</li>
 *   <li>{@link #BUSY} (-2): held for bookkeeping (flush, sweep, close), not in a guard.</li>
 *   <li>{@link #CLOSED} (-3): the reclaimer closed it; never leased again.</li>
 *   <li>{@code epoch | 1} (odd, positive): the holder is in a guard that announced {@code epoch}.</li>
 * </ul>
 * Whoever moves the word from FREE (or HELD) by CAS owns the plain fields until it stores FREE (or HELD)
 * back with release semantics; the next owner's CAS reads that store, so ownership of the bag passes with a
 * happens-before edge.
 */
final class EbrRecord extends EbrRecordPadAfter {
    static final long FREE = 0;
    static final long HELD = -1;
    static final long BUSY = -2;
    static final long CLOSED = -3;

    // ---- owned by the holder (plain; handed over through the state word) ----
    /** Retired objects not yet sealed. */
    Batch bag;
    /** Guards opened on this record since its last collection. */
    int pins;

    // ---- written by the holder, read by stats() (opaque) ----
    /** Objects retired into this record, ever; accessed only through {@code RETIRED}. */
    long retired;

    // ---- stall diagnostics, written by advancers (opaque; racy by design, diagnostics only) ----
    /** The pinned value last seen holding the epoch back; accessed only through {@code LAG_VALUE}. */
    long lagValue;
    /** When {@link #lagValue} was first seen; accessed only through {@code LAG_SINCE}. */
    long lagSince;

    EbrRecord(long initialState, Thread holder, int batchSize) {
        this.bag = new Batch(batchSize);
        this.local = initialState; // plain: published by the registry CAS
        this.holder = holder;
    }

    static boolean pinned(long state) {
        return state > 0;
    }

    // ---- state word ----
    long localAcquire() {
        return (long) LOCAL.getAcquire(this);
    }

    long localOpaque() {
        return (long) LOCAL.getOpaque(this);
    }

    void setLocalRelease(long value) {
        LOCAL.setRelease(this, value);
    }

    boolean casLocal(long expected, long update) {
        return LOCAL.compareAndSet(this, expected, update);
    }

    // ---- holder ----
    Thread holderOpaque() {
        return (Thread) HOLDER.getOpaque(this);
    }

    void setHolderOpaque(Thread thread) {
        HOLDER.setOpaque(this, thread);
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
    private static final VarHandle LOCAL;
    private static final VarHandle HOLDER;
    private static final VarHandle RETIRED;
    private static final VarHandle LAG_VALUE;
    private static final VarHandle LAG_SINCE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            LOCAL = l.findVarHandle(EbrRecordHot.class, "local", long.class);
            HOLDER = l.findVarHandle(EbrRecordHot.class, "holder", Thread.class);
            RETIRED = l.findVarHandle(EbrRecord.class, "retired", long.class);
            LAG_VALUE = l.findVarHandle(EbrRecord.class, "lagValue", long.class);
            LAG_SINCE = l.findVarHandle(EbrRecord.class, "lagSince", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
