package reclaim.impl.hyaline;

import java.lang.invoke.VarHandle;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;
import reclaim.impl.core.Batch;
import reclaim.impl.core.Capabilities;
import reclaim.impl.core.CountedBatches;
import reclaim.impl.core.CountedBatches.Counted;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.core.CountingPolicy;
import reclaim.impl.core.Participant;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.core.ThreadGuard;

/**
 * Hyaline (Ruslan Nikolaev and Binoy Ravindran, "Snapshot-Free, Transparent, and Robust Memory Reclamation
 * for Lock-Free Data Structures", PLDI 2021), in its single-thread-per-slot form Hyaline-1 and, with birth
 * eras, the robust Hyaline-1S: reference counts on retired batches, never on reads. seize (Rust) is the
 * production reference of the same structure.
 *
 * <p>A guard activates its slot (the participant it leased) on enter and deactivates it on leave. Retiring a
 * batch attaches one link of it to the list of every active slot and counts the links; each thread that
 * leaves its slot walks its list and decrements every batch on it; whoever brings a batch's count to zero
 * reclaims the whole batch. So no thread reclaims only its own garbage: reclamation is balanced across the
 * threads that leave. With birth eras (robust variant, the default), a reader reserves the current era in its
 * slot when {@code protect} sees it move, and a batch whose objects were all born after a slot's reserved era
 * skips that slot: a stalled reader holds back only what was born before it last read.
 *
 * <p><b>Progress.</b> enter and leave are wait-free apart from the record lease shared with the other schemes
 * (a CAS retried only against another thread taking the same free participant), plus one swap of the slot head;
 * leave's walk is bounded by the batches inserted while the guard was open; {@code protect} is lock-free (it
 * retries only while the era moves); retire is lock-free (a CAS per active slot, retried on contention).
 *
 * <p><b>Bound on unreclaimed objects (robust variant, {@link reclaim.api.Born} objects).</b> A slot that stays active
 * holds only batches with an object born at or before its reserved era. With the era advancing at every
 * sealed batch, objects born after a stall reach the stalled slot only in a batch that also holds an object
 * born before it: at most one batch per participant. {@link #pendingBound()} states
 * {@code 2 × (participants + 2) × batchSize} plus the pending objects in batches that held an object born at or
 * before the oldest active reservation when inserted (at most one batch per object that existed when the
 * stalled reader last read: that term does not grow with later retires); {@code Reclaimer.pendingBound()} adds
 * the core's amortization slack under the asymmetric barrier ({@code Core.amortizationSlack()}). Objects that
 * are not {@code Born} have birth era 0 and join every active slot: safe, but unbounded with a stalled
 * reader. The non-robust variant ({@code Scheme.Hyaline(batch, false)}) holds everything retired while a slot
 * stays active, and reports stalled slots in {@link Stats#stalled()}.
 *
 * <p><b>Happens-before.</b> Insertion into a slot is a CAS on the slot head and leave is a swap of it: a
 * reader that entered before the insertion decrements the batch, one that entered after it cannot reach the
 * unlinked objects. Under the asymmetric barrier ({@code Barrier}) a platform thread keeps its slot and
 * activates it with an opaque store (nobody else writes an inactive head), its era reservations are opaque
 * stores, and the retirer runs {@code membarrier} once per batch where it fenced. The count is changed only by volatile read-modify-writes, so the thread that brings it to
 * zero happens-after every decrementer's reads and the retirer's insertion.
 */
public final class HyalinePolicy extends CountingPolicy {
    /*
     * Overview (Hyaline-1: one thread per slot, slots leased per guard).
     *
     * Slot head (HyalineParticipant): inactive (no guard: the participant itself), active and empty (a guard, empty
     * list: null) or the newest Link. enter (entered) stores or swaps it to null; leave (leaving) swaps it to the
     * participant and hands the list it
     * took to left(), which walks it once the participant is released, decrementing each link's batch. retire:
     * the core seals bags; collect() takes each sealed bag and inserts it: fullFence (the retirer side of the
     * store-load pair: the unlinks before the reads of slot heads and access eras), then for every participant,
     * if its head is not inactive (and, robust, its access era >= the batch's minimum birth era), CAS a link of
     * the batch (pointing at the head) over the head; finally add the number of links to the batch's count. Leavers
     * may decrement first (the count goes negative); the thread whose getAndAdd leaves exactly 0 reclaims. Links
     * belong to their batch and are reused with it once its count came back to zero (CountedBatches): a CAS that
     * expects a head from an earlier life, like one that sees an empty active head (null) again after its slot was
     * left and re-entered, succeeds only on the current head and at worst inserts a batch into a guard that cannot
     * need it: conservative.
     *
     * Why these two values. The head is a reference, and under G1 a reference store runs the post-write barrier,
     * whose slow half begins with a store-load fence (lock addl on x86) when the value lies in another region than
     * the object stored into and that object is not young: a participant in a service is old, and a shared sentinel
     * object lies in another region. A store of null skips the barrier (C2 leaves it out for a null constant), and
     * a store of the participant into its own field leaves at the barrier's first test (same region): so enter and
     * leave, the reader's two stores, never reach the fence that the asymmetric barrier removed from them.
     *
     * Eras: the global era advances by one at every seal (CountingPolicy). era() is what users stamp as birth
     * eras.
     */

    private final Scheme.Hyaline scheme;
    private final boolean robust;

    private HyalinePolicy(Scheme.Hyaline scheme) {
        this.scheme = scheme;
        this.robust = scheme.robust();
    }

    /**
     * Creates a Hyaline reclaimer.
     *
     * @param scheme the tuning
     * @return a new reclaimer
     */
    public static Reclaimer create(Scheme.Hyaline scheme) {
        return create(scheme, Options.fromSystemProperties());
    }

    /**
     * Creates a reclaimer of this scheme with {@code options}.
     *
     * @param scheme the scheme's tuning
     * @param options the settings for any scheme
     * @return the reclaimer
     */
    public static Reclaimer create(Scheme.Hyaline scheme, Options options) {
        return ReclaimerHandle.create(scheme, new HyalinePolicy(scheme), options);
    }

    @Override
    protected Capabilities capabilities() {
        return new Capabilities(false, false, Integer.MAX_VALUE, scheme.batchSize(), new Scheme.Ebr().stallThresholdNanos());
    }

    @Override
    protected Participant newParticipant(long state, Thread holder, int batchSize) {
        return new HyalineParticipant(state, holder, batchSize);
    }

    // ---- guards ----

    @Override
    protected ThreadGuard newGuard(Thread thread) {
        return robust ? new HyalineGuard(core, thread, this) : super.newGuard(thread);
    }

    /**
     * Under the asymmetric barrier a platform thread keeps its slot, and its enter activates it with a store. Under
     * fences the enter leases a slot and activates it with a swap: the store-load pair is the activation's, which
     * {@link #entered} makes after the open word is written, so a fence after the open word would not order it.
     */
    @Override
    protected boolean announcesInOpenWord(boolean asymmetric) {
        return asymmetric;
    }

    @Override
    protected void entered(ThreadGuard g) {
        HyalineParticipant slot = slot(g);
        if (g.asymmetric()) {
            // The slot is ours and inactive (left with a swap, or new): no insertion CASes an inactive head, so an
            // opaque store activates it. The inserter's membarrier, before it reads heads, orders this store before
            // the guard's loads (the store-load pair that the swap below orders by itself).
            if (!slot.inactive(slot.headOpaque())) throw new IllegalStateException("internal error: a slot was entered without being left");
            slot.setHeadOpaque(null); // active and empty; a null store: no G1 post-write barrier (see the overview)
            return;
        }
        // Activate the slot: a volatile read-modify-write on the head, which every insertion CASes (the reader
        // side of the store-load pair with the retirer's fence and read of the head).
        Object old = slot.getAndSetHead(null); // active and empty
        if (old instanceof Link) throw new IllegalStateException("internal error: a slot was entered without being left");
    }

    @Override
    protected Object leaving(ThreadGuard g) {
        HyalineParticipant slot = slot(g);
        Object list = slot.getAndSetHead(slot); // inactive; detach: walked by left() once the participant is released
        return list instanceof Link ? list : null;
    }

    @Override
    protected Object swept(Participant p) {
        HyalineParticipant slot = (HyalineParticipant) p;
        Object list = slot.getAndSetHead(slot); // inactive: a thread that ended inside its guard
        return list instanceof Link ? list : null;
    }

    @Override
    protected void left(Object detached) {
        CountedBatches.traverse(detached, core.reclamation());
    }

    private static HyalineParticipant slot(ThreadGuard g) {
        return (HyalineParticipant) g.record();
    }

    // ---- retire: insertion of sealed batches ----

    @Override
    protected void insert(Batch b) {
        // The retirer's heavy barrier ran before this call (CountingPolicy.collect: once for the batches it took):
        // the unlinks before these retires happen before the reads of reservations below.
        Participant[] ps = core.participants();
        long minBirth;
        Counted c;
        try { // the links' array (an OutOfMemoryError), before any link is published (CountingPolicy.insert)
            minBirth = robust ? CountedBatches.minBirth(b) : 0;
            // The objects born at or before the oldest active reservation are what a stalled reader may hold
            // beyond the stated slack: count them while the batch is pending (pendingBound() adds them).
            Counted fresh = robust ? counted(b, oldestAccess()) : counted(b);
            fresh.reserve(ps.length); // at most a link per participant
            c = fresh;
        } catch (RuntimeException | Error e) {
            notInserted(b);
            throw e;
        }
        long links = 0;
        for (Participant p : ps) {
            HyalineParticipant r = (HyalineParticipant) p;
            long st = r.stateVolatile();
            if ((st == Participant.HELD || st > 0) && core.sweepIfDead(r)) continue; // its thread ended
            while (true) {
                Object prev = r.headVolatile();
                if (r.inactive(prev)) break; // no guard in this slot: it cannot hold the batch
                if (robust && r.accessVolatile() < minBirth) break; // its reader read nothing born this late
                if (r.casHead(prev, c.spare(prev))) { // the batch's own link, reused (CountedBatches)
                    c.linked();
                    links++;
                    break;
                }
            }
        }
        // Leavers may already have decremented: the count reaches exactly 0 once every link is walked.
        CountedBatches.inserted(c, links, core.reclamation());
    }

    // ---- what the reclaimer reports ----

    @Override
    protected long announcement() {
        return eraVolatile(); // positive: "in a guard since this era" (stall detection of the non-robust variant)
    }

    /**
     * A grace period's bound: guards announce the era they read at enter, so the era is moved on; a guard opened
     * before the call announced at most the era before. An extra advance only makes {@code protect} renew its
     * reservation once more.
     */
    @Override
    protected long beginGracePeriod(ThreadGuard caller) {
        return getAndAddEra(1L);
    }

    @Override
    protected boolean holdsBack(long state) {
        return !robust && state < eraVolatile(); // a guard entered eras ago holds every batch inserted since
    }

    @Override
    protected long pendingBound() {
        return robust ? 2L * (core.participants().length + 2) * core.batchSize() + oldPending() : Long.MAX_VALUE;
    }

    /** The oldest era reserved by an active slot, or {@code Long.MIN_VALUE}. */
    private long oldestAccess() {
        long min = Long.MAX_VALUE;
        for (Participant p : core.participants()) {
            HyalineParticipant r = (HyalineParticipant) p;
            Object head = r.headVolatile();
            if (!r.inactive(head)) min = Math.min(min, r.accessVolatile());
        }
        return min == Long.MAX_VALUE ? Long.MIN_VALUE : min;
    }
}
