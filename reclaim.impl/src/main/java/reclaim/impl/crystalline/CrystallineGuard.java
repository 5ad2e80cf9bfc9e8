package reclaim.impl.crystalline;

import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

import reclaim.impl.core.Core;
import reclaim.impl.core.Participant;
import reclaim.impl.core.ThreadGuard;
import reclaim.impl.core.Checks;
import reclaim.impl.core.SessionLists;
import reclaim.impl.core.CountedBatches.Link;

/**
 * The per-thread guard of {@link CrystallinePolicy}.
 *
 * <p>{@code protect(ref, slot)} is Crystalline's {@code protect}: read the source, read the global era; if
 * the slot already reserves that era, done: two volatile loads, no store. The first {@code protect} of a guard on an
 * index starts a session on it (one store of its session word, see {@link reclaim.impl.core.SessionLists}); the index
 * keeps the era of its last session, so when the global era has not moved since, that store is all (see
 * {@link #reserved}). Otherwise {@code doUpdate}: the index gives up what it protected (as the API's slot contract
 * says) by taking its list, if it has one; then the era is re-read, published as the slot's reservation, and the
 * source read again. Each nesting level has its own {@code k} slots ({@link #LEVELS} levels; deeper guards use the
 * guard-wide index), so an inner guard never releases what an enclosing one protects. An inner guard's close leaves
 * its level's indices active (what they protect stays protected a little longer, until the next guard at that level
 * moves them or the outermost guard leaves): ending their sessions there would cost the next inner guard at that
 * level an activation per index, which a guard nested per operation (a collection's view) would pay on every
 * operation. {@code protect(ref)} uses the guard-wide index, whose era only grows during the outermost guard and whose
 * list is kept until it closes. Leaving ends the session of each index used (a store) and takes its list only if its
 * head is not null (a swap); the lists taken are walked only after the guard is closed, since walking runs reclaim
 * actions.
 *
 * <p>Fields are plain: only the owning thread touches them (behind an owned guard, the thread in a call on it:
 * see {@link ThreadGuard}).
 */
final class CrystallineGuard extends ThreadGuard {
    /** Nesting levels with their own slots; deeper levels protect through the guard-wide index. */
    static final int LEVELS = 3;

    private final CrystallinePolicy crystalline;
    private final int k;
    /**
     * The guard-wide index: index 0, before the levels' slots, so that {@code protect(ref)}'s path computes no index
     * and its bit and array offsets are constants.
     */
    static final int WIDE = 0;
    /** {@link #used}'s bit for {@link #WIDE}. */
    private static final long WIDE_BIT = 1L << WIDE;
    /** The reservations of the record held for the current outermost guard. */
    private Reservations rs;
    /** Bit i set: index i was activated during this guard. */
    private long used;
    /**
     * Bit s set: slot s was reserved at a depth past {@link #LEVELS} during this outermost guard, at the era
     * {@code deepEras[s]} of the guard-wide index ({@link #reserveDeep}); cleared when the outermost guard leaves.
     */
    private long deepReserved;
    private final long[] deepEras;
    /**
     * Bit i set: index i was activated at this outermost guard's enter ({@link #activateLastUsed}) and no {@code protect}
     * or {@code reserve} went through it since ({@link #reserved} clears the bit). Always 0 under the asymmetric barrier.
     */
    private long fresh;
    /**
     * The indices the last outermost guard that used any protected through ({@link #used} less {@link #fresh} at its
     * leave): under fences the next outermost guard activates them at its enter, before the core's fence
     * ({@link #activateLastUsed}). An index activated there but not protected through is not passed on.
     */
    private long lastUsed;

    CrystallineGuard(Core core, CrystallinePolicy policy, Thread thread, int k) {
        super(core, thread);
        this.crystalline = policy;
        this.k = k;
        this.deepEras = new long[k];
    }

    /** Indices a record needs: the guard-wide one and k per level. */
    static int indices(int k) {
        return LEVELS * k + 1;
    }

    /** The record whose reservations {@link #rs} are (a held record keeps them: no rebinding per guard). */
    private Participant bound;

    /** Returns whether {@link #rs} already belongs to {@code record}. */
    boolean boundTo(Participant record) {
        return bound == record;
    }

    void bind(Participant record, Reservations reservations) {
        bound = record;
        rs = reservations;
        used = 0;
        fresh = 0;
        deepReserved = 0;
    }

    /** Detaches every index this guard used (no user code); returns the lists to walk, or null. */
    Object detachAll() {
        long mask = used;
        // Nothing used: the common empty leave (no store), and a guard of a reclaim action during close() (no record).
        // The indices to activate at the next enter stay those of the last guard that used some.
        if (mask == 0) return null;
        used = 0;
        long f = fresh;
        if (f != 0) fresh = 0;
        long passed = mask & ~f; // not those activated at enter and left unused
        // Stores only where the value changes: a guard like the last one (the common case) stores nothing here.
        if (lastUsed != passed) lastUsed = passed;
        if (deepReserved != 0) deepReserved = 0; // set only with the guard-wide index's bit
        if (mask == WIDE_BIT) return detachOne(rs, WIDE); // protect(ref) alone: no loop
        return detach(rs, mask);
    }

    /**
     * Under fences, at the outermost enter on the thread's own record (which this guard is bound to), between the core's
     * store of the open word and its full fence: starts the sessions of the indices that the last outermost guard that
     * used any protected through, with release stores, which that one fence orders before the guard's loads. A guard
     * that protects through the same indices as the previous one (a lookup per guard) then pays the enter's fence only,
     * instead of a volatile store per index at its first {@code protect} there. An index activated here serves as one activated by that first
     * {@code protect} ({@link #reserved}): its session began before any read of the guard, so a read that finds the
     * global era equal to the index's era is covered, as on an index already used. Each index is moved to the era read
     * here (an opaque store, also before the fence) where it kept an older one: an index the guard then does not use
     * reserves no more than a guard that protected once at its enter would, which is what the stall bound counts
     * ({@code CrystallinePolicy.pendingBound}: it counts the batches holding objects born at or before the oldest active
     * reservation), and a first {@code protect} finds the current era more often. Such an index costs a store or two at
     * enter and one at leave, and it is not passed on to the next guard ({@link #fresh}).
     */
    void activateLastUsed() {
        long mask = lastUsed;
        if (mask == 0) return;
        Reservations r = rs;
        used = mask;
        fresh = mask;
        long now = crystalline.eraVolatile();
        if (mask == WIDE_BIT) activate(r, WIDE, now); // protect(ref) alone: no loop
        else for (long m = mask; m != 0; m &= m - 1) activate(r, Long.numberOfTrailingZeros(m), now);
    }

    /** {@link #activateLastUsed}'s step for index {@code j}: its session starts, at era {@code now}. */
    private static void activate(Reservations r, int j, long now) {
        if (r.start(j, false) != now) r.setEraOpaque(j, now); // eras only grow: now is at least the kept one
    }

    /**
     * Ends the sessions {@link #activateLastUsed} began, for an enter that the core refused (it is closing): their lists
     * stay for the tidying pass that {@code close()} runs.
     */
    void endActivated() {
        long mask = used;
        used = 0;
        fresh = 0;
        for (long m = mask; m != 0; m &= m - 1) rs.end(Long.numberOfTrailingZeros(m));
    }

    /**
     * Ends the sessions of the indices of {@code mask} and takes the lists of those whose head is not null. Their eras
     * stay: an index is judged by its era only while its session is active, and its next session starts from that era
     * ({@link #reserved}).
     *
     * <p>The session's end is a release store: every read of the guard happens-before it, so a retirer or a tidying
     * pass that reads it (or a later value) may drop the references of this session's links ({@code SessionLists}).
     * The load of the head may miss an insertion racing the session's end: that link stays in the list for the next
     * leave of this index or the tidying pass at the end of the next collection, never lost.
     *
     * <p>A sweeper uses it too, for a record whose thread ended inside its guard (it holds the record BUSY: its
     * holder never writes again); it ends only the sessions that are active.
     *
     * <p>The non-empty lists taken are spliced into one (the last link of each pointed at the next list): a taken list
     * is its taker's alone, so nobody else reads the links' {@code next} any more, and no array is allocated per
     * leave.
     *
     * @return the detached links as one list, or null
     */
    static Object detach(Reservations r, long mask) {
        Object head = null;
        Link tail = null;
        while (mask != 0) {
            if (detachOne(r, Long.numberOfTrailingZeros(mask)) instanceof Link first) {
                if (tail == null) head = first;
                else tail.splice(first);
                tail = first;
                while (tail.next() instanceof Link l) tail = l;
            }
            mask &= mask - 1;
        }
        return head;
    }

    /** {@link #detach} of index {@code j}: ends its session, takes its list if the head is not null; the list or null. */
    private static Object detachOne(Reservations r, int j) {
        // A dead holder's word: its end happens-before the sweep.
        return r.end(j) && r.takeList(j) instanceof Link first ? first : null;
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        Objects.requireNonNull(ref, "ref");
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null) return ref.get(); // a guard of a reclaim action during close()
        int level = depth() - 1;
        if (level >= LEVELS) return protect(ref); // deeper nesting: the guard-wide index
        int idx = 1 + level * k + slot; // after the guard-wide index
        long prev = reserved(idx);
        while (true) {
            T p = ref.get();
            long e = crystalline.eraVolatile();
            if (e == prev) return p; // the slot reserves the current era
            prev = doUpdate(idx, e);
        }
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
        if (level >= LEVELS) return protect(field, holder);
        int idx = 1 + level * k + slot; // after the guard-wide index
        long prev = reserved(idx);
        while (true) {
            Object p = field.getVolatile(holder);
            long e = crystalline.eraVolatile();
            if (e == prev) return (T) p;
            prev = doUpdate(idx, e);
        }
    }

    @Override
    public <T> T protect(AtomicReference<T> ref) {
        Objects.requireNonNull(ref, "ref");
        checkInGuard();
        if (record() == null) return ref.get();
        long prev = reserved(WIDE);
        while (true) {
            T p = ref.get();
            long e = crystalline.eraVolatile();
            if (e == prev) return p;
            prev = grow(e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T protect(VarHandle field, Object holder) {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(holder, "holder");
        checkInGuard();
        if (record() == null) return (T) field.getVolatile(holder);
        long prev = reserved(WIDE);
        while (true) {
            Object p = field.getVolatile(holder);
            long e = crystalline.eraVolatile();
            if (e == prev) return (T) p;
            prev = grow(e);
        }
    }

    /**
     * Crystalline's {@code protect} step for a key the caller read: the caller's volatile read of the key, then
     * the era: if the slot reserves it, done; otherwise the index is activated or its era moved ({@code doUpdate})
     * and the caller re-reads.
     */
    @Override
    public boolean reserve(long key, int slot) {
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null || key == 0) return true; // a guard of a reclaim action during close(), or nothing
        int level = depth() - 1;
        long e = crystalline.eraVolatile();
        if (level >= LEVELS) return reserveDeep(slot, e);
        int idx = 1 + level * k + slot; // after the guard-wide index
        boolean held = (used & (1L << idx)) != 0; // else activated below, after the key was read: the caller reads again
        long prev = reserved(idx);
        if (held && prev == e) return true;
        if (prev != e) doUpdate(idx, e);
        return false;
    }

    /**
     * {@link #reserve} nested deeper than {@link #LEVELS}, where every slot is the guard-wide index. That index reserving
     * the current era does not cover a key read before the call if another slot's call activated it or raised its era
     * after the read: the key is covered only if this slot's own last call (which preceded the read) left the index at
     * the era it still reserves (its era only grows while the outermost guard is open, so it held that era since).
     */
    private boolean reserveDeep(int slot, long e) {
        long bit = 1L << slot;
        if ((deepReserved & bit) != 0 && deepEras[slot] == e && rs.eraOpaque(WIDE) == e) return true;
        long prev = reserved(WIDE);
        if (prev != e) grow(e);
        deepReserved |= bit;
        deepEras[slot] = e;
        return false;
    }

    /**
     * The era index {@code idx} reserves, after activating it if this guard has not used it yet.
     *
     * <p>An index keeps its era when its session ends, so a guard that finds the global era where the index's last
     * session left it protects with no store beyond the activation: the stale era is a reservation all the same. A
     * retirer reads the era before the session word: if it read a value older than this era, the store of this era
     * (and so the activation and every read after it) follows the retirer's barrier, and those reads see its unlinks; if
     * it read this era, it judges the index by it, as it would an era stored in this session.
     */
    private long reserved(int idx) {
        long bit = 1L << idx;
        if ((used & bit) != 0) {
            if ((fresh & bit) != 0) fresh &= ~bit; // activated at enter, protected through now: passed on at leave
            return rs.eraOpaque(idx);
        }
        // A session starts (its word is even: this guard has not used the index). The store-load pair with the retirer
        // (unlink, fence or membarrier, reads of era then session word) is this store and the caller's read of the
        // source: a volatile store under fences; under the asymmetric barrier a release store (a tidying pass that reads
        // it trusts that the sessions before it ended), which the retirer's membarrier orders. Links of ended sessions
        // still in the list (insertions that raced a leave) stay there: this index's next leave or doUpdate takes them,
        // or a tidying pass (which skips an active index) once it has left.
        used |= bit;
        return rs.start(idx, !asymmetric);
    }

    /**
     * Crystalline's {@code doUpdate} for an active index whose era moved: take its list if it holds one (what it
     * protected at its previous era: released, as the slot contract says), re-read the era, publish it as the slot's
     * reservation; only then walk the list taken (it runs reclaim actions, which may open nested guards: the slot is
     * consistent by then).
     */
    private long doUpdate(int idx, long e) {
        Reservations r = rs;
        Object old = null;
        if (r.headOpaque(idx) != null) {
            old = r.takeList(idx);
            e = crystalline.eraVolatile();
        }
        // Store-load pair with the retirer (unlink, fence or membarrier, reads of era then session word): the
        // reservation is visible before the caller's re-read of the source.
        publishEra(r, idx, e);
        if (old instanceof Link) crystalline.walk(old);
        return e;
    }

    /** The guard-wide index, active, whose era moved: only raise its era; its list stays until leave. */
    private long grow(long e) {
        publishEra(rs, WIDE, e); // store-load pair with the retirer, as in doUpdate
        return e;
    }

    /**
     * Publishes era {@code e} as index {@code idx}'s reservation: a volatile store under the fence strategy, an
     * opaque one under the asymmetric strategy (the retirer's membarrier does the CPU's part; see {@code Barrier}).
     */
    private void publishEra(Reservations r, int idx, long e) {
        if (asymmetric) r.setEraOpaque(idx, e);
        else r.setEraVolatile(idx, e);
    }

    @Override
    public int slots() {
        return k;
    }
}
