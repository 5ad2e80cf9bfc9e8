package reclaim.impl.crystalline;

import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

import reclaim.impl.core.Core;
import reclaim.impl.core.Participant;
import reclaim.impl.core.ThreadGuard;
import reclaim.impl.core.Checks;
import reclaim.impl.crystalline.WaitFreeReservations.Request;

/**
 * The per-thread guard of {@link CrystallineWPolicy}.
 *
 * <p>{@code protect} is Crystalline-L's loop cut to {@code fastAttempts} tries (read the source, read the
 * global era; done if the index reserves that era; otherwise {@code doUpdate} and again), then the slow path:
 * publish a {@link Request} and try until the request has a result, which the threads that advance the era
 * produce if we do not ({@link CrystallineWPolicy#helpAll()}). Slots per nesting level and the guard-wide
 * index are as in {@link CrystallineGuard}; leaving deactivates the indices used (era word first, then a swap
 * of the list) and walks their lists once the guard is closed.
 *
 * <p>Fields are plain: only the owning thread touches them (behind an owned guard, the thread in a call on it:
 * see {@link ThreadGuard}).
 */
final class CrystallineWGuard extends ThreadGuard {
    private final CrystallineWPolicy crystalline;
    private final int k;
    /** The guard-wide index (after the levels' slots). */
    private final int wide;
    /** Fast-path tries before the slow path. */
    private final int fastAttempts;
    /** The reservations of the record held for the current outermost guard. */
    private WaitFreeReservations rs;
    /** Bit i set: index i was activated during this guard. */
    private long used;

    CrystallineWGuard(Core core, CrystallineWPolicy policy, Thread thread, int k, int fastAttempts) {
        super(core, thread);
        this.crystalline = policy;
        this.k = k;
        this.wide = CrystallineGuard.LEVELS * k;
        this.fastAttempts = fastAttempts;
    }

    /** The record whose reservations {@link #rs} are (a held record keeps them: no rebinding per guard). */
    private Participant bound;

    /** Returns whether {@link #rs} already belongs to {@code record}. */
    boolean boundTo(Participant record) {
        return bound == record;
    }

    void bind(Participant record, WaitFreeReservations reservations) {
        bound = record;
        rs = reservations;
        used = 0;
    }

    /**
     * The lists of the last leave, walked and given back (null while a walk holds them): kept so that a leave that
     * detaches lists allocates nothing.
     */
    private Detached spare;

    /** Deactivates every index this guard used (no user code); returns the lists to walk, or null. */
    Object detachAll() {
        long mask = used;
        // Nothing used: the common empty leave (no store), and a guard of a reclaim action during close() (no record).
        if (mask == 0) return null;
        used = 0;
        Detached d = spare;
        spare = null; // a reclaim action run by the walk that opens and leaves a guard here makes its own
        if (d == null) d = new Detached(this, rs.count);
        detach(rs, mask, d);
        if (d.n == 0) {
            spare = d;
            return null;
        }
        return d;
    }

    /**
     * The non-empty lists one leave (or a sweep) detached, for {@link CrystallineWPolicy#walkAll} once the guard is
     * closed. Plain fields: filled, walked and given back by the thread that leaves (or sweeps), in one call.
     */
    static final class Detached {
        /** The guard that takes it back after the walk, or null (a sweep's, used once). */
        final CrystallineWGuard owner;
        final Object[] lists;
        int n;

        Detached(CrystallineWGuard owner, int indices) {
            this.owner = owner;
            this.lists = new Object[indices];
        }

        /** Called once the lists are walked (every element cleared): the owner's next leave reuses this. */
        void walked() {
            n = 0;
            if (owner != null) owner.spare = this;
        }
    }

    /**
     * Deactivates the indices of {@code mask}: the era word to INACTIVE first (retirers stop inserting), then
     * a swap of the list to empty. A retirer that read the old era and swaps after us rescues its own link
     * (see {@link CrystallineWPolicy#insertLink}).
     *
     * @param into receives the non-empty lists detached
     */
    static void detach(WaitFreeReservations r, long mask, Detached into) {
        while (mask != 0) {
            int j = Long.numberOfTrailingZeros(mask);
            r.setEraVolatile(j, WaitFreeReservations.INACTIVE);
            Object old = r.getAndSetFirst(j, null);
            if (old != null) into.lists[into.n++] = old;
            mask &= mask - 1;
        }
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        Objects.requireNonNull(ref, "ref");
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null) return ref.get(); // a guard of a reclaim action during close()
        int level = depth() - 1;
        if (level >= CrystallineGuard.LEVELS) return protect(ref); // deeper nesting: the guard-wide index
        int idx = level * k + slot;
        // Volatile, not opaque: helpers of an earlier slow path may have raised the word (a CAS), and the
        // store-load argument needs this read ordered before the source read below.
        long prev = rs.eraVolatile(idx);
        for (int n = fastAttempts; n > 0; n--) {
            T p = ref.get();
            long e = crystalline.eraVolatile();
            if (e == prev) return p; // the index reserves the current era (INACTIVE equals no era)
            prev = doUpdate(idx, e);
        }
        return slow(idx, ref, null, null, true);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T protect(VarHandle field, Object holder, int slot) {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(holder, "holder");
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null) return (T) field.getVolatile(holder);
        int level = depth() - 1;
        if (level >= CrystallineGuard.LEVELS) return protect(field, holder);
        int idx = level * k + slot;
        long prev = rs.eraVolatile(idx);
        for (int n = fastAttempts; n > 0; n--) {
            Object p = field.getVolatile(holder);
            long e = crystalline.eraVolatile();
            if (e == prev) return (T) p;
            prev = doUpdate(idx, e);
        }
        return slow(idx, null, field, holder, true);
    }

    @Override
    public <T> T protect(AtomicReference<T> ref) {
        Objects.requireNonNull(ref, "ref");
        checkInGuard();
        if (record() == null) return ref.get();
        long prev = rs.eraVolatile(wide);
        for (int n = fastAttempts; n > 0; n--) {
            T p = ref.get();
            long e = crystalline.eraVolatile();
            if (e == prev) return p;
            prev = grow(e);
        }
        return slow(wide, ref, null, null, false);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T protect(VarHandle field, Object holder) {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(holder, "holder");
        checkInGuard();
        if (record() == null) return (T) field.getVolatile(holder);
        long prev = rs.eraVolatile(wide);
        for (int n = fastAttempts; n > 0; n--) {
            Object p = field.getVolatile(holder);
            long e = crystalline.eraVolatile();
            if (e == prev) return (T) p;
            prev = grow(e);
        }
        return slow(wide, null, field, holder, false);
    }

    /**
     * The slow path: make the index active (a slot also drops its old list, as {@code protect(ref, slot)}
     * releases what the slot held), publish a request, and try until it has a result. From here until the
     * result is taken, the index's era only rises (CAS by us and by helpers) and its list is never detached,
     * so whoever produced the result, the index protects it.
     *
     * <p>Steps: each failed try means the era advanced between the try's two reads of it. An advance whose
     * thread read the slow counter after our increment helped this request to completion first; each other
     * thread advances at most once on an earlier reading. So at most N + 1 tries (N threads sealing at once),
     * each O(1) plus a bounded CAS loop in {@link WaitFreeReservations#raiseEra}.
     */
    @SuppressWarnings("unchecked")
    private <T> T slow(int idx, AtomicReference<?> ref, VarHandle field, Object holder, boolean slot) {
        WaitFreeReservations r = rs;
        long e = crystalline.eraVolatile();
        if (slot) doUpdate(idx, e);
        else if (r.eraVolatile(idx) == WaitFreeReservations.INACTIVE) grow(e);
        Request q = new Request(ref, field, holder);
        r.setRequestVolatile(idx, q); // before the counter: a helper that sees the counter finds the request
        crystalline.slowStarted();
        try {
            while (q.pending()) CrystallineWPolicy.attempt(crystalline, r, idx, q, false);
        } finally {
            r.setRequestVolatile(idx, null);
            crystalline.slowEnded();
        }
        return (T) q.result().value();
    }

    /**
     * Tests: the first half of a slow path on slot {@code slot} of the current nesting level, as by a reader
     * that stalls right after publishing its request (nobody but helpers will try it).
     */
    Request stallInSlowPath(AtomicReference<?> ref, int slot) {
        checkInGuard();
        int idx = (depth() - 1) * k + slot;
        doUpdate(idx, crystalline.eraVolatile());
        Request q = new Request(ref, null, null);
        rs.setRequestVolatile(idx, q);
        crystalline.slowStarted();
        return q;
    }

    /** Tests: the second half of the slow path {@link #stallInSlowPath} began; returns the value protected. */
    Object resumeSlowPath(Request q, int slot) {
        int idx = (depth() - 1) * k + slot;
        try {
            while (q.pending()) CrystallineWPolicy.attempt(crystalline, rs, idx, q, false);
        } finally {
            rs.setRequestVolatile(idx, null);
            crystalline.slowEnded();
        }
        return q.result().value();
    }

    /** Tests: the era word of slot {@code slot} of the current nesting level. */
    long reservedEra(int slot) {
        return rs.eraVolatile((depth() - 1) * k + slot);
    }

    /**
     * As Crystalline-L's {@code protect} step for a key the caller read: the caller's volatile read of the
     * key, then the era: if the slot reserves it, done; otherwise publish the era and the caller re-reads.
     * O(1) per call (plus the walk of the list the slot held), but the caller's re-read loop ends only when
     * the era holds still between two calls: lock-free, not wait-free (no helper can read the caller's key).
     */
    @Override
    public boolean reserve(long key, int slot) {
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null || key == 0) return true;
        int level = depth() - 1;
        long e = crystalline.eraVolatile();
        // Compare the era we stored ourselves, not the era word: a late helper (one that read a request of
        // ours while pending, then was preempted) may raise the word to the current era after the caller's
        // read of the key, and that raise covers nothing the caller read before it.
        if (level >= CrystallineGuard.LEVELS) {
            if (rs.ownEra(wide) == e) return true;
            grow(e);
            return false;
        }
        int idx = level * k + slot;
        if (rs.ownEra(idx) == e) return true;
        doUpdate(idx, e);
        return false;
    }

    /**
     * Crystalline's {@code doUpdate} for a slot: detach its list (one swap, skipped when empty), publish the
     * era (which also activates the index), then walk what was detached (it runs reclaim actions: the slot is
     * consistent by then). Links a retirer inserts between the swap and the era store stay in the new list:
     * conservative.
     */
    private long doUpdate(int idx, long e) {
        WaitFreeReservations r = rs;
        Object old = r.firstVolatile(idx) != null ? r.getAndSetFirst(idx, null) : null;
        // Store-load pair with the retirer (unlink, fence or membarrier, reads of the era word): the reservation
        // is visible before the caller's re-read of the source.
        publishEra(r, idx, e);
        used |= 1L << idx;
        if (old != null) crystalline.walk(old);
        return e;
    }

    /** The guard-wide index: its era only grows during the guard and its list stays until leave. */
    private long grow(long e) {
        publishEra(rs, wide, e); // activates it on first use; store-load pair with the retirer as above
        used |= 1L << wide;
        return e;
    }

    /**
     * Publishes era {@code e} in index {@code idx}'s era word: a volatile store under the fence strategy, an
     * opaque one under the asymmetric strategy (the retirer's membarrier does the CPU's part; see {@code Barrier}).
     */
    private void publishEra(WaitFreeReservations r, int idx, long e) {
        if (asymmetric) r.setEraOpaque(idx, e);
        else r.setEraVolatile(idx, e);
    }

    @Override
    public int slots() {
        return k;
    }
}
