package reclaim.impl.hyaline;

import java.lang.invoke.VarHandle;

import reclaim.api.Scheme;
import reclaim.api.Stats;
import reclaim.impl.common.AnnouncementRecord;
import reclaim.impl.common.AnnouncingGuard;
import reclaim.impl.common.Batch;
import reclaim.impl.common.CountedBatches;
import reclaim.impl.common.CountedBatches.Counted;
import reclaim.impl.common.CountedBatches.Link;
import reclaim.impl.common.CountingReclaimer;

/**
 * Hyaline (Ruslan Nikolaev and Binoy Ravindran, "Snapshot-Free, Transparent, and Robust Memory Reclamation
 * for Lock-Free Data Structures", PLDI 2021), in its single-thread-per-slot form Hyaline-1 and, with birth
 * eras, the robust Hyaline-1S: reference counts on retired batches, never on reads. seize (Rust) is the
 * production reference of the same structure.
 *
 * <p>A guard activates its slot (the record it leased) on enter and deactivates it on leave. Retiring a
 * batch attaches one link of it to the list of every active slot and counts the links; each thread that
 * leaves its slot walks its list and decrements every batch on it; whoever brings a batch's count to zero
 * reclaims the whole batch. So no thread reclaims only its own garbage: reclamation is balanced across the
 * threads that leave. With birth eras (robust variant, the default), a reader reserves the current era in its
 * slot when {@code protect} sees it move, and a batch whose objects were all born after a slot's reserved era
 * skips that slot: a stalled reader holds back only what was born before it last read.
 *
 * <p><b>Progress.</b> enter and leave are wait-free apart from the record lease shared with the other schemes
 * (a CAS retried only against another thread taking the same free record), plus one swap of the slot head;
 * leave's walk is bounded by the batches inserted while the guard was open; {@code protect} is lock-free (it
 * retries only while the era moves); retire is lock-free (a CAS per active slot, retried on contention).
 *
 * <p><b>Bound on unreclaimed objects (robust variant, {@link reclaim.api.Born} objects).</b> A slot that stays active
 * holds only batches with an object born at or before its reserved era. With the era advancing at every
 * sealed batch, objects born after a stall reach the stalled slot only in a batch that also holds an object
 * born before it: at most one batch per record. {@link #pendingBound()} states
 * {@code 2 × (records + 2) × batchSize} plus the pending objects in batches that held an object born at or
 * before the oldest active reservation when inserted (at most one batch per object that existed when the
 * stalled reader last read: that term does not grow with later retires). Objects that
 * are not {@code Born} have birth era 0 and join every active slot: safe, but unbounded with a stalled
 * reader. The non-robust variant ({@code Scheme.Hyaline(batch, false)}) holds everything retired while a slot
 * stays active, and reports stalled slots in {@link Stats#stalled()}.
 *
 * <p><b>Happens-before.</b> Insertion into a slot is a CAS on the slot head and leave is a swap of it: a
 * reader that entered before the insertion decrements the batch, one that entered after it cannot reach the
 * unlinked objects. The count is changed only by volatile read-modify-writes, so the thread that brings it to
 * zero happens-after every decrementer's reads and the retirer's insertion.
 */
public final class HyalineReclaimer extends CountingReclaimer {
    /*
     * Overview (ALGORITHMS.md §6, variant H1: one thread per slot, slots leased per guard).
     *
     * Slot head (AnnouncementRecord.link): INACTIVE (no guard), ACTIVE_EMPTY (a guard, empty list) or the
     * newest Link. enter (entered hook) swaps it to ACTIVE_EMPTY; leave (leaving hook) swaps it to INACTIVE and
     * walks the list it took, decrementing each link's batch. retire: the base seals bags; collect() takes each
     * sealed bag and inserts it: fullFence (retirer side of the Dekker pair: the unlinks before the reads of
     * slot heads and access eras), then for every record, if its head is not INACTIVE (and, robust, its access
     * era >= the batch's minimum birth era), CAS a new Link(batch, head) over the head; finally add the number
     * of links to the batch's count. Leavers may decrement first (the count goes negative); the thread whose
     * getAndAdd leaves exactly 0 reclaims. Links are fresh objects, never reused (M1); the ACTIVE_EMPTY
     * sentinel may be seen again by a CAS after its slot was left and re-entered, which only inserts a batch
     * into a guard that cannot need it: conservative.
     *
     * Eras: the global era advances by one at every seal (ALGORITHMS.md §2.5: "every F×N allocations"; we
     * have no allocation hook, retires stand in for it). era() is what users stamp as birth eras.
     */

    /** The slot head of a record no guard is in. */
    private static final Object INACTIVE = new Object() {
        @Override
        public String toString() {
            return "INACTIVE";
        }
    };
    /** The slot head of an active slot with an empty list. */
    private static final Object ACTIVE_EMPTY = new Object() {
        @Override
        public String toString() {
            return "ACTIVE_EMPTY";
        }
    };

    private final boolean robust;

    private HyalineReclaimer(Scheme.Hyaline scheme) {
        super(scheme, scheme.batchSize(), new Scheme.Ebr().stallThresholdNanos(), false);
        this.robust = scheme.robust();
    }

    /**
     * Creates a Hyaline reclaimer.
     *
     * @param scheme the tuning
     * @return a new reclaimer
     */
    public static HyalineReclaimer create(Scheme.Hyaline scheme) {
        return new HyalineReclaimer(scheme);
    }

    // ---- guards ----

    @Override
    protected AnnouncingGuard newGuard(Thread thread) {
        return robust ? new HyalineGuard(this, thread) : super.newGuard(thread);
    }

    @Override
    protected void entered(AnnouncingGuard g) {
        // Activate the slot: a volatile RMW on the head, which every insertion CASes (R3).
        Object old = g.record().getAndSetLink(ACTIVE_EMPTY);
        if (old instanceof Link) throw new IllegalStateException("internal error: a slot was entered without being left");
    }

    @Override
    protected Object leaving(AnnouncingGuard g) {
        return g.record().getAndSetLink(INACTIVE); // detach; walked by left() once the record is released
    }

    @Override
    protected Object swept(AnnouncementRecord r) {
        return r.getAndSetLink(INACTIVE); // a thread that ended inside its guard: leave for it
    }

    @Override
    protected void left(Object detached) {
        traverse(detached);
    }

    /** Decrements every batch on a list taken from a slot; reclaims those that reach zero. */
    private void traverse(Object head) {
        CountedBatches.traverse(head, reclamation());
    }

    // ---- retire: insertion of sealed batches ----

    /** Attaches a sealed batch to every active slot that may hold one of its objects. */
    @Override
    protected void insert(Batch b) {
        long minBirth = robust ? CountedBatches.minBirth(b) : 0;
        // The objects born at or before the oldest active reservation are what a stalled reader may hold
        // beyond the stated slack: count them while the batch is pending (pendingBound() adds them).
        Counted c = robust ? counted(b, oldestAccess()) : new Counted(b);
        // Retirer side of the store-load pair with enter's swap and protect's era reservation: the unlinks
        // before these retires happen before the reads of slot heads and access eras below.
        VarHandle.fullFence();
        long links = 0;
        for (AnnouncementRecord r : records()) {
            long st = r.stateVolatile();
            if ((st == AnnouncementRecord.HELD || st > 0) && sweepIfDead(r)) continue; // its thread ended
            while (true) {
                Object prev = r.linkVolatile();
                if (prev == INACTIVE || prev == null) break; // no guard in this slot: it cannot hold the batch
                if (robust && r.accessVolatile() < minBirth) break; // its reader read nothing born this late
                if (r.casLink(prev, new Link(c, prev))) {
                    links++;
                    break;
                }
            }
        }
        // Leavers may already have decremented: the count reaches exactly 0 once every link is walked.
        CountedBatches.inserted(c, links, reclamation());
    }

    // ---- the AnnouncingReclaimer contract ----

    @Override
    protected long announcement() {
        return eraVolatile(); // positive: "in a guard since this era" (stall detection of the non-robust variant)
    }

    @Override
    protected boolean holdsBack(long state, long clock) {
        return !robust && state < clock; // a guard entered eras ago holds every batch inserted since
    }

    @Override
    public long pendingBound() {
        return robust ? 2L * (records().length + 2) * batchSize() + oldPending() : Long.MAX_VALUE;
    }

    /** The smallest access era among active slots (Long.MIN_VALUE if none is active). */
    private long oldestAccess() {
        long min = Long.MAX_VALUE;
        for (AnnouncementRecord r : records()) {
            Object head = r.linkVolatile();
            if (head != INACTIVE && head != null) min = Math.min(min, r.accessVolatile());
        }
        return min == Long.MAX_VALUE ? Long.MIN_VALUE : min;
    }
}
