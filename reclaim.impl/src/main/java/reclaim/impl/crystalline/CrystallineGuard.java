package reclaim.impl.crystalline;

import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

import reclaim.impl.common.AnnouncementRecord;
import reclaim.impl.common.AnnouncingGuard;
import reclaim.impl.common.Checks;

/**
 * The per-thread guard of {@link CrystallineReclaimer}.
 *
 * <p>{@code protect(ref, slot)} is Crystalline's {@code protect}: read the source, read the global era; if
 * the slot already reserves that era (and is active), done: two volatile loads, no store. Otherwise
 * {@code doUpdate}: detach the slot's list (releasing what it protected, as the API's slot contract says),
 * re-activate it, publish the new era, and read again. {@code protect(ref)} uses the guard-wide index, whose
 * era only grows during the guard and whose list is kept until the guard closes, so everything protected
 * through it stays protected. Leaving clears the indices used (a swap each, then a walk of the list detached)
 * and resets their eras to 0, so that the next guard's first protect re-activates them (the re-activation
 * pitfall of the reference code).
 *
 * <p>Fields are plain: only the owning thread touches them.
 */
final class CrystallineGuard extends AnnouncingGuard {
    private final CrystallineReclaimer crystalline;
    private final int k;
    /** The reservations of the record held for the current outermost guard. */
    private Reservations rs;
    /** Bit j set: index j was activated during this guard (the guard-wide index is bit k). */
    private long used;

    CrystallineGuard(CrystallineReclaimer reclaimer, Thread thread, int k) {
        super(reclaimer, thread);
        this.crystalline = reclaimer;
        this.k = k;
    }

    void bind(Reservations reservations) {
        rs = reservations;
        used = 0;
    }

    /** Clears every index this guard used: swap to INVALID, walk the detached list, era back to 0. */
    void clearAll() {
        if (record() == null) return; // a guard of a reclaim action during close()
        long mask = used;
        while (mask != 0) {
            int j = Long.numberOfTrailingZeros(mask);
            crystalline.detach(rs.getAndSetFirst(j, Reservations.INVALID));
            rs.setEraVolatile(j, 0);
            mask &= mask - 1;
        }
        used = 0;
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        Objects.requireNonNull(ref, "ref");
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null) return ref.get(); // a guard of a reclaim action during close()
        long prev = rs.eraOpaque(slot);
        while (true) {
            T p = ref.get();
            long e = crystalline.eraVolatile();
            if (e == prev) return p; // the slot reserves the current era (prev is 0 while inactive)
            prev = doUpdate(slot, e);
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
        long prev = rs.eraOpaque(slot);
        while (true) {
            Object p = field.getVolatile(holder);
            long e = crystalline.eraVolatile();
            if (e == prev) return (T) p;
            prev = doUpdate(slot, e);
        }
    }

    @Override
    public <T> T protect(AtomicReference<T> ref) {
        Objects.requireNonNull(ref, "ref");
        checkInGuard();
        if (record() == null) return ref.get();
        long prev = rs.eraOpaque(k);
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
        long prev = rs.eraOpaque(k);
        while (true) {
            Object p = field.getVolatile(holder);
            long e = crystalline.eraVolatile();
            if (e == prev) return (T) p;
            prev = grow(e);
        }
    }

    /**
     * Crystalline's {@code doUpdate}: detach and walk the slot's list (what it protected is released), make
     * the slot active and empty, re-read the era, publish it as the slot's reservation.
     */
    private long doUpdate(int slot, long e) {
        if (rs.firstVolatile(slot) != null) { // a list, or INVALID (inactive)
            crystalline.detach(rs.getAndSetFirst(slot, Reservations.INVALID));
            rs.setFirstVolatile(slot, null); // active: retirers may insert from now on
            e = crystalline.eraVolatile();
        }
        // Store-load pair with the retirer (unlink, fence, reads of first and era): the reservation is
        // visible before the caller's re-read of the source.
        rs.setEraVolatile(slot, e);
        used |= 1L << slot;
        return e;
    }

    /** The guard-wide index: activate it once, then only raise its era; its list stays until leave. */
    private long grow(long e) {
        if ((used & (1L << k)) == 0) {
            rs.setFirstVolatile(k, null); // active (it was INVALID: cleared at the last leave)
            e = crystalline.eraVolatile();
            used |= 1L << k;
        }
        rs.setEraVolatile(k, e); // store-load pair with the retirer, as in doUpdate
        return e;
    }

    @Override
    public int slots() {
        return k;
    }
}
