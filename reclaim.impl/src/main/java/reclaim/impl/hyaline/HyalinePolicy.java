package reclaim.impl.hyaline;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;
import reclaim.impl.core.Batch;
import reclaim.impl.core.Capabilities;
import reclaim.impl.core.CountedBatches.Counted;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.core.CountedBatches;
import reclaim.impl.core.CountingPolicy;
import reclaim.impl.core.Participant;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.core.SessionLists;
import reclaim.impl.core.ThreadGuard;
import reclaim.impl.core.ThreadRef;

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
 * (a CAS retried only against another thread taking the same free participant): enter is one store, leave one store
 * and one load, plus one swap of the list head when something was inserted; leave's walk is bounded by the batches
 * inserted since the slot's last leave; {@code protect} is lock-free (it retries only while the era moves); retire is
 * lock-free (a CAS per active slot, retried on contention), and so is the tidying pass of a collection (a CAS per
 * link it puts back).
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
 * <p><b>Sessions: a leave without a read-modify-write.</b> In the paper a slot's head is one word that says both
 * whether the slot is active and which batches it holds, so leaving must swap it: an insertion CASes the same word.
 * That swap (a locked instruction, some 5 ns here) was the larger half of a Hyaline guard. Here the two are separate
 * words: a session word, odd while a guard holds the slot, which only the holder writes (one store at enter, one at
 * leave), and the list head, which retirers CAS links onto. A retirer stamps each link with the session value it
 * read; a link's reference may be dropped only by a thread that knows that session ended: the holder, when it
 * leaves, for every link it takes (no link can carry a later session than the one it ends); anyone else after reading
 * a later session value. Leave stores the next (even) value, then takes the list only if its head is not null; an
 * insertion racing that load lands in the list after the leave looked, and waits there for the holder's next leave or
 * for the tidying pass at the end of every collection ({@link #tidy}), which takes the list of an inactive slot when
 * every link in it is of a session older than the word it read (a CAS from the head it read, so that it never holds a
 * link a later guard may need where that guard's leave or a flush cannot find it) and drops their references.
 * {@code close()} runs the same pass, so nothing is lost; with no guard open, {@code flush()} (a collection) leaves
 * nothing held.
 *
 * <p><b>Happens-before.</b> A retirer reads a slot's session word after its fence (or membarrier) that follows the
 * unlinks: a reader whose enter it did not see entered after the unlinks and cannot reach the objects; a reader whose
 * session it saw gets a link stamped with that session, whose reference is dropped only after that session's end is
 * known: by program order (the holder), or by an acquire read of a later session value, whose release store follows
 * every read of the session in the holder's program order. A platform thread keeps its slot under either barrier,
 * and its enter stores the session word (a release store) between the core's store of the open word and, under
 * fences, the core's full fence, which orders both before the guard's loads; under the asymmetric barrier
 * ({@code Barrier}) there is no fence, the era stores are opaque, and the retirer runs {@code membarrier} once per
 * collection where it fenced. A leased slot (a virtual thread's) is activated with a volatile store under fences.
 * The count is changed
 * only by volatile read-modify-writes, so the thread that brings it to zero happens-after every decrementer's reads
 * and the retirer's insertion.
 */
public final class HyalinePolicy extends CountingPolicy {
    /*
     * Overview (Hyaline-1: one thread per slot; slots kept per platform thread, leased per guard for virtual
     * threads and owned guards).
     *
     * Slot (HyalineParticipant): the session word (odd: a guard holds it), the list head (null or the newest Link)
     * and the access era. enter (opening on the thread's own slot, entered on a leased one) adds one to the session
     * word; leave (leaving) adds one again and, if the head is not null, swaps it to null and hands the list to left(),
     * which walks it once the participant is released, decrementing each link's batch. retire: the core seals bags;
     * collect() takes each sealed bag and inserts it: fullFence or membarrier (the retirer side of the store-load
     * pair: the unlinks before the reads of session words and access eras), then for every participant, if its session is odd (and, robust, its access era
     * >= the batch's minimum birth era), CAS a link of the batch, stamped with that session, over the head; finally
     * add the number of links to the batch's count. Leavers may decrement first (the count goes negative); the thread
     * whose getAndAdd leaves exactly 0 reclaims. Then tidy() takes the lists left in inactive slots (see "Sessions" in
     * the class documentation). Links belong to their batch and are reused with it once its count came back to zero
     * (CountedBatches): a CAS that expects a head from an earlier life succeeds only on the current head, and pushes
     * in front of it correctly.
     *
     * Head values and G1. The head is a reference, and under G1 a reference store runs the post-write barrier,
     * whose slow half begins with a store-load fence (lock addl on x86) when the value lies in another region than
     * the object stored into and that object is not young: a participant in a service is old. The reader's own
     * stores are longs (the session word: no barrier at all) and, when it takes its list, the swap to null (C2 emits
     * no post-write barrier for a null constant), so neither enter nor leave reaches the fence that the asymmetric
     * barrier removed from them.
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
    protected Participant newParticipant(long state, ThreadRef holder, int batchSize) {
        return new HyalineParticipant(state, holder, batchSize);
    }

    // ---- guards ----

    @Override
    protected ThreadGuard newGuard(Thread thread) {
        return robust ? new HyalineGuard(core, thread, this) : super.newGuard(thread);
    }

    /**
     * A platform thread keeps its slot under either barrier, and its enter activates it with a release store of the
     * session word ({@link #opening}), made between the core's store of the open word and the core's fence under
     * fences: that one fence orders both stores before the guard's loads.
     */
    @Override
    protected boolean announcesInOpenWord(boolean asymmetric) {
        return true;
    }

    /**
     * Activates the thread's own slot: the reader's store of the store-load pair with the retirer (unlink, fence or
     * membarrier, read of the session word). A release store (a plain mov on x86): a tidying pass that reads this value
     * trusts that the sessions before it ended. What orders it before the guard's loads is the core's full fence right
     * after this call under fences, and the retirer's membarrier before it reads the word under the asymmetric barrier.
     */
    @Override
    protected void opening(ThreadGuard g, boolean fenced) {
        ((HyalineParticipant) g.registered()).start(false);
    }

    /**
     * Ends the session {@link #opening} began on a core that is closing: links a retirer stamped with it stay in the
     * list, which {@code close()}'s tidying pass takes (it reads this value, or a later one, once the open word that the
     * core clears after this store reads 0).
     */
    @Override
    protected void openingRefused(ThreadGuard g) {
        ((HyalineParticipant) g.registered()).end();
    }

    /**
     * Activates a leased slot (a virtual thread's, an owned guard's): the thread's own slot was activated by
     * {@link #opening}. Under fences a volatile store (the store, then a full fence), paired with the retirer's fence
     * before its read of the word: the lease's CAS came before it and orders nothing after it. Under the asymmetric
     * barrier a release store, as in {@code opening}.
     */
    @Override
    protected void entered(ThreadGuard g) {
        HyalineParticipant slot = slot(g);
        if (slot == g.registered()) return; // the thread's own slot, on the open word: opening() activated it
        slot.start(!g.asymmetric()); // our word while we hold the lease
    }

    /** The thread's own slot, held since its last {@link #entered}: {@link #opening} activated it. */
    @Override
    protected void enteredAgain(ThreadGuard g) {}

    @Override
    protected Object leaving(ThreadGuard g) {
        HyalineParticipant slot = slot(g);
        // End the session, then take what was inserted meanwhile. The load of the head may miss an insertion that races
        // the store: that link stays in the list for this slot's next leave or the next tidying pass (see "Sessions" in
        // the overview), never lost.
        if (!slot.end()) return null; // nothing inserted: no read-modify-write on the way out
        Object list = slot.takeList(); // walked by left() once the participant is released
        return list instanceof Link ? list : null;
    }

    @Override
    protected Object swept(Participant p) {
        HyalineParticipant slot = (HyalineParticipant) p;
        // A thread that ended, perhaps inside its guard: end its session (we hold the participant BUSY, its thread
        // will never write again), then take the list. Every link in it is of an ended session.
        long s = slot.sessionVolatile();
        if (HyalineParticipant.active(s)) slot.setSessionRelease(s + 1);
        Object list = slot.takeList();
        return list instanceof Link ? list : null;
    }

    @Override
    protected void left(Object detached) {
        CountedBatches.traverse(detached, core.reclamation());
    }

    /**
     * Takes the lists that inactive slots still hold (links inserted as their guard left, which that leave did not
     * see) and drops their references. Run at the end of every collection and by {@code close()}: what no leave took
     * is reclaimed by the next collection on any thread, and {@code flush()} with no guard open leaves nothing held.
     */
    @Override
    protected void tidy() {
        for (Participant p : core.participants()) SessionLists.tidy((HyalineParticipant) p, 0, core.reclamation());
    }

    /**
     * {@code close()}'s pass: takes every slot's list, active session or not ({@link SessionLists#takeAtClose}). A slot
     * whose session is odd here belongs to an enter that the core is refusing ({@link #opening} ran before it read the
     * state); that enter never leaves, so {@link #tidy}, which leaves an active slot's list to its holder's leave, would
     * leave such a list behind for good.
     */
    @Override
    protected void tidyClosed() {
        for (Participant p : core.participants()) SessionLists.takeAtClose((HyalineParticipant) p, 0, core.reclamation());
    }

    /**
     * One attempt of the tidying pass on slot {@code r} ({@link SessionLists#tidy(SessionLists.Slots, int, Object, long,
     * reclaim.impl.core.Reclamation)}), whose head it read as {@code h} and then its session word as {@code q}.
     *
     * @return false if the caller must look again
     */
    boolean tidy(HyalineParticipant r, Object h, long q) {
        return SessionLists.tidy(r, 0, h, q, core.reclamation());
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
        try { // the links' array (an OutOfMemoryError) and the sweeps, before any link is published (CountingPolicy)
            minBirth = robust ? CountedBatches.minBirth(b) : 0;
            // The objects born at or before the oldest active reservation are what a stalled reader may hold
            // beyond the stated slack: count them while the batch is pending (pendingBound() adds them).
            Counted fresh = robust ? counted(b, oldestAccess()) : counted(b);
            fresh.reserve(ps.length); // at most a link per participant
            sweepEnded(ps); // before any link is published: a sweep that fails sends the batch back
            c = fresh;
        } catch (RuntimeException | Error e) {
            notInserted(b);
            throw e;
        }
        long links = 0;
        for (Participant p : ps) {
            HyalineParticipant r = (HyalineParticipant) p;
            long session = r.sessionVolatile();
            if (!HyalineParticipant.active(session)) continue; // no guard in this slot: none entered before our barrier
            if (robust && r.accessVolatile() < minBirth) continue; // its reader read nothing born this late
            Link link = c.spare(null); // the batch's own link, reused (CountedBatches)
            link.stamp(session); // the session it holds the batch for; published by the CAS
            SessionLists.push(r, 0, link);
            c.linked();
            links++;
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
            if (HyalineParticipant.active(r.sessionVolatile())) min = Math.min(min, r.accessVolatile());
        }
        return min == Long.MAX_VALUE ? Long.MIN_VALUE : min;
    }
}
