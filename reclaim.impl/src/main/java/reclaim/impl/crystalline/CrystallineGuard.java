package reclaim.impl.crystalline;

import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

import reclaim.impl.core.Core;
import reclaim.impl.core.Participant;
import reclaim.impl.core.ThreadGuard;
import reclaim.impl.core.Checks;
import reclaim.impl.core.CountedBatches.Link;

/**
 * The per-thread guard of {@link CrystallinePolicy}.
 *
 * <p>{@code protect(ref, slot)} is Crystalline's {@code protect}: read the source, read the global era; if
 * the slot already reserves that era, done: two volatile loads, no store. Otherwise {@code doUpdate}: detach
 * the slot's list and activate the slot in one swap (releasing what it protected, as the API's slot contract
 * says), re-read the era, publish it as the slot's reservation, and read again. Each nesting level has its own
 * {@code k} slots ({@link #LEVELS} levels; deeper guards use the guard-wide index), so an inner guard never
 * releases what an enclosing one protects. An inner guard's close leaves its level's indices active (what they
 * protect stays protected a little longer, until the next guard at that level moves them or the outermost guard
 * leaves): detaching them there cost a swap per index and per inner guard, which a guard nested per operation (a
 * collection's view) would pay on every operation; the next inner guard at that level reuses them at no cost while
 * the era holds still. {@code protect(ref)} uses the guard-wide index, whose era only
 * grows during the outermost guard and whose list is kept until it closes. Leaving detaches the indices used
 * (a swap each) and resets their eras to 0, so that the next guard's first protect re-activates them (the
 * re-activation pitfall of the reference code: an index re-activated between a retirer's two reads must be judged by its new era); the lists detached are walked only after
 * the guard is closed, since walking runs reclaim actions.
 *
 * <p>Fields are plain: only the owning thread touches them (behind an owned guard, the thread in a call on it:
 * see {@link ThreadGuard}).
 */
final class CrystallineGuard extends ThreadGuard {
    /** Nesting levels with their own slots; deeper levels protect through the guard-wide index. */
    static final int LEVELS = 3;

    private final CrystallinePolicy crystalline;
    private final int k;
    /** The guard-wide index (after the levels' slots). */
    private final int wide;
    /** The reservations of the record held for the current outermost guard. */
    private Reservations rs;
    /** Bit i set: index i was activated during this guard. */
    private long used;

    CrystallineGuard(Core core, CrystallinePolicy policy, Thread thread, int k) {
        super(core, thread);
        this.crystalline = policy;
        this.k = k;
        this.wide = LEVELS * k;
    }

    /** Indices a record needs: k per level and the guard-wide one. */
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
    }

    /** Detaches every index this guard used (no user code); returns the lists to walk, or null. */
    Object detachAll() {
        long mask = used;
        // Nothing used: the common empty leave (no store), and a guard of a reclaim action during close() (no record).
        if (mask == 0) return null;
        used = 0;
        return detach(rs, mask);
    }

    /**
     * Swaps the indices of {@code mask} to inactive and resets their eras to 0.
     *
     * <p>The era's reset is a release store after the swap, not a volatile one: it pairs with no load of the leaving
     * thread's (its guard reads nothing more), and a retirer that reads the index after the swap finds it inactive
     * and skips it whatever era it reads (it reads the head first, and its CAS on the head fails once the swap took
     * it); the reset is for the holder's next {@code protect}, which must see 0 (not the era it reserved last) to
     * activate the index again. The swap already orders everything the guard did before it (a full barrier).
     *
     * <p>The non-empty lists detached are spliced into one (the last link of each pointed at the next list): a
     * detached list is its detacher's alone, so nobody else reads the links' {@code next} any more, and no array is
     * allocated per leave.
     *
     * @return the detached links as one list, or null
     */
    static Object detach(Reservations r, long mask) {
        Object head = null;
        Link tail = null;
        while (mask != 0) {
            int j = Long.numberOfTrailingZeros(mask);
            Object old = r.invalidate(j);
            r.setEraRelease(j, 0);
            if (old instanceof Link first) {
                if (tail == null) head = first;
                else tail.splice(first);
                tail = first;
                while (tail.next() instanceof Link l) tail = l;
            }
            mask &= mask - 1;
        }
        return head;
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        Objects.requireNonNull(ref, "ref");
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null) return ref.get(); // a guard of a reclaim action during close()
        int level = depth() - 1;
        if (level >= LEVELS) return protect(ref); // deeper nesting: the guard-wide index
        int idx = level * k + slot;
        long prev = rs.eraOpaque(idx);
        while (true) {
            T p = ref.get();
            long e = crystalline.eraVolatile();
            if (e == prev) return p; // the slot reserves the current era (prev is 0 while inactive)
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
        int idx = level * k + slot;
        long prev = rs.eraOpaque(idx);
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
        long prev = rs.eraOpaque(wide);
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
        long prev = rs.eraOpaque(wide);
        while (true) {
            Object p = field.getVolatile(holder);
            long e = crystalline.eraVolatile();
            if (e == prev) return (T) p;
            prev = grow(e);
        }
    }

    /**
     * Crystalline's {@code protect} step for a key the caller read: the caller's volatile read of the key, then
     * the era: if the slot reserves it, done; otherwise {@code doUpdate} and the caller re-reads.
     */
    @Override
    public boolean reserve(long key, int slot) {
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null || key == 0) return true; // a guard of a reclaim action during close(), or nothing
        int level = depth() - 1;
        long e = crystalline.eraVolatile();
        if (level >= LEVELS) { // deeper nesting: the guard-wide index
            if (rs.eraOpaque(wide) == e) return true;
            grow(e);
            return false;
        }
        int idx = level * k + slot;
        if (rs.eraOpaque(idx) == e) return true;
        doUpdate(idx, e);
        return false;
    }

    /**
     * Crystalline's {@code doUpdate}: detach the slot's list and make the slot active and empty in one swap,
     * re-read the era, publish it as the slot's reservation; only then walk the detached list (it runs
     * reclaim actions, which may open nested guards: the slot is consistent by then).
     */
    private long doUpdate(int idx, long e) {
        Reservations r = rs;
        Object old = null;
        Object f = r.firstVolatile(idx);
        if (asymmetric && r.invalid(f)) {
            // Inactive: no retirer writes an inactive index, so a store activates it (the retirer's membarrier
            // orders it, with the era store below, before the caller's re-read).
            r.setFirstOpaque(idx, null);
            e = crystalline.eraVolatile();
        } else if (f != null) { // a list, or inactive
            old = r.getAndSetFirst(idx, null); // active and empty from here on: retirers may insert
            e = crystalline.eraVolatile();
        }
        // Store-load pair with the retirer (unlink, fence or membarrier, reads of first and era): the reservation
        // is visible before the caller's re-read of the source.
        publishEra(r, idx, e);
        used |= 1L << idx;
        if (old instanceof Link) crystalline.walk(old);
        return e;
    }

    /** The guard-wide index: activate it once, then only raise its era; its list stays until leave. */
    private long grow(long e) {
        if ((used & (1L << wide)) == 0) {
            // active (it was inactive: detached at the last leave, and no retirer writes an inactive index)
            if (asymmetric) rs.setFirstOpaque(wide, null);
            else rs.setFirstVolatile(wide, null);
            e = crystalline.eraVolatile();
            used |= 1L << wide;
        }
        publishEra(rs, wide, e); // store-load pair with the retirer, as in doUpdate
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
