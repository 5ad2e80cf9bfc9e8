package reclaim.impl.crystalline;

import java.lang.invoke.VarHandle;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
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
 * Crystalline (Ruslan Nikolaev and Binoy Ravindran, "Crystalline: Fast and Memory Efficient Wait-Free
 * Reclamation", DISC 2021), in its lock-free form Crystalline-L (the reference benchmark's
 * {@code HRTracker}): Hyaline's reference-counted batches behind a hazard-eras API. Each record has k
 * reservation indices per nesting level (three levels, plus one guard-wide index) holding a session word, a list head
 * and a reserved era; {@code protect}
 * reserves the current era lazily; retiring a batch attaches a link of it to every active reservation whose
 * era is at least the batch's smallest birth era; a reader that detaches a list (on leave, or when a slot's
 * era moves) decrements its batches, and whoever brings a batch to zero reclaims it: any thread reclaims
 * what any other retired, and the work is balanced.
 *
 * <h2>Costs and steps bound of each operation</h2>
 * <ul>
 *   <li>{@code enter()} on a platform thread: a guard-cache lookup, a depth count, opaque loads of the
 *       reclaimer's state and of the count of sealed bags waiting, no shared store (the thread keeps a sticky
 *       record from its first guard until it ends); O(1), wait-free. When sealed bags wait (a flush sealed idle
 *       records' bags, or a sealer is between counting and publishing its bag), the guard, once open, inserts
 *       up to 8 queued bags as a retire does (one pass over R records of I indices with a CAS per active index,
 *       retried on contention: lock-free) and may run reclaim actions of batches whose last reference it drops. On
 *       a virtual thread: a record lease per outermost guard (a CAS, retried only against another thread
 *       taking the same free record: lock-free).</li>
 *   <li>{@code protect}: two volatile loads when the era has not moved since the slot's reservation, after, on
 *       the first use of an index in a guard, a store of its session word (a volatile store under fences, a release
 *       store under the asymmetric barrier); when the era moved, a swap and a walk of the index's list if it holds
 *       one, the era's store (volatile under fences, opaque under the asymmetric barrier), and a retry. Lock-free: it retries
 *       only while the global era moves, which it does once per sealed batch (Crystalline-W's bounded slow
 *       path with helping is {@link CrystallineWPolicy}).</li>
 *   <li>{@code retire}: O(1) into the thread's bag; every {@code batchSize} retires, one pass over the
 *       records' k + 1 indices with a CAS per active one (retried on contention: lock-free).</li>
 *   <li>{@code close()} of the outermost guard: per index used, a release store of its session word and a load
 *       of its list head, plus a swap and a walk of the list where it holds one (O(k + links)),
 *       wait-free.</li>
 *   <li>A collection ends with a tidying pass over every index of every record (a volatile load of each head; for an
 *       index no guard uses whose list is not empty, a scan and a CAS: lock-free): see
 *       {@link reclaim.impl.core.SessionLists}.</li>
 * </ul>
 *
 * <p><b>Bound on unreclaimed objects (robust, for {@link reclaim.api.Born} objects).</b> A reservation holds
 * only batches with an object born at or before its era; the era advances at every sealed batch, so objects
 * born after a reader stalled reach its reservations only in a batch that also holds an older object: at
 * most one batch per index. {@link #pendingBound()} states {@code 2 × (records × (3k + 1) + 2) × batchSize}
 * plus the pending objects in batches that held an object born at or before the oldest active reservation
 * when inserted (at most one batch per object that existed when the stalled reader last protected), to which
 * {@code Reclaimer.pendingBound()} adds the core's amortization slack under the asymmetric barrier (the sealed
 * batches a collection waits for: {@code Core.amortizationSlack()}). Objects that are not {@code Born} have birth
 * era 0 and join every active reservation: safe, without the bound.
 *
 * <p><b>Sessions.</b> In the paper an index's head says both whether a guard uses the index and which batches it
 * holds, so leaving swaps it. Here each index has a session word beside its list ({@link reclaim.impl.core.SessionLists},
 * which states the rule for dropping a link's reference and the tidying pass), so the outermost guard's close is
 * stores and loads unless something was inserted: a guard that protected one slot under a still era pays no
 * read-modify-write at all.
 *
 * <p><b>Happens-before.</b> A reader activates an index with a store of its session word (volatile under fences;
 * under the asymmetric barrier a release store, and the retirer runs {@code membarrier} once per collection), then
 * reads its source and the global era; when that differs from the index's era it publishes it the same way (the
 * index keeps its era across sessions) and reads again. The retirer fences after the unlinks, then reads the index's
 * era and then its session word (the hazard-eras store-load pair): if it missed the reader's activation or the store
 * of the era the reader relies on, the reader's reads after that store follow the retirer's barrier and see the
 * unlinks; otherwise it judges the index by an era no later than the reader's, with the session it read: the reader's,
 * or a later one, which means that the reader's session ended (its end, a release store, follows the reader's
 * reads). A link stamped with a session is dropped by its holder's leave or by whoever
 * reads a later session value. Batch counts change only by volatile read-modify-writes, so the reclaiming thread
 * happens-after every reader's release.
 */
public final class CrystallinePolicy extends CountingPolicy {
    /*
     * Overview. Participants, leases (virtual threads), sticky participants (platform threads), bags,
     * sealing, flush and close are the core's. A participant's Reservations are created with it
     * (CrystallineParticipant). Sealing a bag advances the era (CountingPolicy); collect() inserts each sealed
     * bag: minBirth, a full fence (or membarrier), then for every participant and index, read the era, then the
     * session word; if the session is active and the era >= minBirth, push a link of the batch stamped with that
     * session onto the head (SessionLists.push), and finally add the number of links to the batch's count
     * (CountedBatches; the links are the batch's own, reused with it, as its counted wrapper is). Then tidy() takes
     * the lists left in indices no guard uses. A sticky participant's state word stays HELD in a guard: close() reads
     * its open flag, and asks inUse(), which looks for active sessions.
     */

    private final Scheme.Crystalline scheme;
    private final int k;

    private CrystallinePolicy(Scheme.Crystalline scheme) {
        this.scheme = scheme;
        this.k = scheme.slots();
    }

    /**
     * Creates a Crystalline reclaimer.
     *
     * @param scheme the tuning
     * @return a new reclaimer
     */
    public static Reclaimer create(Scheme.Crystalline scheme) {
        return create(scheme, Options.fromSystemProperties());
    }

    /**
     * Creates a reclaimer of this scheme with {@code options}.
     *
     * @param scheme the scheme's tuning
     * @param options the settings for any scheme
     * @return the reclaimer
     */
    public static Reclaimer create(Scheme.Crystalline scheme, Options options) {
        return ReclaimerHandle.create(scheme, new CrystallinePolicy(scheme), options);
    }

    @Override
    protected Capabilities capabilities() {
        // Guards publish nothing on enter (their reservations do): sticky participants.
        return new Capabilities(true, false, Integer.MAX_VALUE, scheme.batchSize(), Long.MAX_VALUE);
    }

    @Override
    protected Participant newParticipant(long state, ThreadRef holder, int batchSize) {
        return new CrystallineParticipant(state, holder, batchSize, CrystallineGuard.indices(k));
    }

    // ---- guards ----

    @Override
    protected ThreadGuard newGuard(Thread thread) {
        return new CrystallineGuard(core, this, thread, k);
    }

    @Override
    protected void entered(ThreadGuard g) {
        CrystallineGuard cg = (CrystallineGuard) g;
        Participant rec = g.record();
        if (!cg.boundTo(rec)) cg.bind(rec, reservations(rec)); // a participant's reservations never change
    }

    /** Still bound to the thread's own participant, which it held without a break since {@link #entered}. */
    @Override
    protected void enteredAgain(ThreadGuard g) {}

    /**
     * Under fences, activates the indices that the thread's last guard that used any protected through, before the
     * core's fence, which then orders those activations as well ({@link CrystallineGuard#activateLastUsed}). Under the
     * asymmetric barrier activations cost no fence wherever they are made: they stay at each index's first
     * {@code protect}.
     */
    @Override
    protected void opening(ThreadGuard g, boolean fenced) {
        if (!fenced) return;
        CrystallineGuard cg = (CrystallineGuard) g;
        if (cg.boundTo(g.registered())) cg.activateLastUsed(); // else entered() binds it: a first guard activates lazily
    }

    @Override
    protected void openingRefused(ThreadGuard g) {
        ((CrystallineGuard) g).endActivated();
    }

    @Override
    protected Object leaving(ThreadGuard g) {
        return ((CrystallineGuard) g).detachAll(); // swaps only; left() walks once the record is released
    }

    @Override
    protected Object swept(Participant r) {
        Reservations rs = reservations(r);
        return CrystallineGuard.detach(rs, (1L << rs.count) - 1); // a thread that ended inside its guard
    }

    @Override
    protected void left(Object detached) {
        walk(detached); // CrystallineGuard.detach: one list
    }

    @Override
    protected boolean inUse(Participant r) {
        Reservations rs = reservations(r);
        for (int j = 0; j < rs.count; j++) {
            if (SessionLists.active(rs.sessionVolatile(j))) return true;
        }
        return false;
    }

    /**
     * Takes the lists that indices no guard uses still hold (links inserted as their guard left, which that leave did
     * not see) and drops their references ({@link SessionLists#tidy(SessionLists.Slots, int,
     * reclaim.impl.core.Reclamation)}). Run at the end of every collection and by {@code close()}.
     */
    @Override
    protected void tidy() {
        for (Participant r : core.participants()) {
            Reservations rs = reservations(r);
            for (int j = 0; j < rs.count; j++) SessionLists.tidy(rs, j, core.reclamation());
        }
    }

    /**
     * {@code close()}'s pass: takes every index's list, active session or not ({@link SessionLists#takeAtClose}). An
     * index whose session is odd here was activated by an enter that the core is refusing ({@link #opening}, under
     * fences); that enter never leaves, so {@link #tidy} would leave its list behind for good.
     */
    @Override
    protected void tidyClosed() {
        for (Participant r : core.participants()) {
            Reservations rs = reservations(r);
            for (int j = 0; j < rs.count; j++) SessionLists.takeAtClose(rs, j, core.reclamation());
        }
    }

    /** A participant's reservations: created with it, never null, never replaced. */
    private static Reservations reservations(Participant r) {
        return ((CrystallineParticipant) r).reservations;
    }

    /** Walks one list detached from a reservation (runs the actions of batches that reach zero). */
    void walk(Object list) {
        CountedBatches.traverse(list, core.reclamation());
    }


    // ---- retire ----

    /** Crystalline's try_retire for one sealed batch (always inserts: links are separate objects). */
    @Override
    protected void insert(Batch b) {
        // The retirer's heavy barrier ran before this call (CountingPolicy.collect: once for the batches it took):
        // the unlinks before these retires happen before the reads of reservations below.
        Participant[] ps = core.participants();
        long minBirth;
        Counted c;
        try { // the links' array (an OutOfMemoryError) and the sweeps, before any link is published (CountingPolicy)
            minBirth = CountedBatches.minBirth(b);
            // Count the objects born at or before the oldest active reservation: what a stalled reader may hold
            // beyond the stated slack (pendingBound() adds them while they are pending).
            Counted fresh = counted(b, oldestReservation());
            fresh.reserve(ps.length * CrystallineGuard.indices(k)); // at most a link per index
            sweepEnded(ps); // before any link is published: a sweep that fails sends the batch back
            c = fresh;
        } catch (RuntimeException | Error e) {
            notInserted(b);
            throw e;
        }
        long links = 0;
        for (Participant r : ps) {
            Reservations rs = reservations(r);
            for (int j = 0; j < rs.count; j++) {
                // The era, then the session word: a reader publishes its era after it activates the index, so an era
                // read here that is the reader's comes with its session (or a later one); one that is not the reader's
                // means that the reader's re-read of its source follows our barrier (see "Happens-before").
                long era = rs.eraVolatile(j);
                long session = rs.sessionVolatile(j);
                if (!SessionLists.active(session)) continue; // no guard uses it
                if (era < minBirth) continue; // it reserved an era before all of the batch
                Link link = c.spare(null); // the batch's own link, reused (CountedBatches)
                link.stamp(session); // the session it holds the batch for; published by the CAS
                SessionLists.push(rs, j, link);
                c.linked();
                links++;
            }
        }
        CountedBatches.inserted(c, links, core.reclamation());
    }

    // ---- what the reclaimer reports ----


    @Override
    protected long pendingBound() {
        return 2L * ((long) core.participants().length * CrystallineGuard.indices(k) + 2) * core.batchSize() + oldPending();
    }

    /** The smallest era reserved by an active index (Long.MIN_VALUE if none is active). */
    private long oldestReservation() {
        long min = Long.MAX_VALUE;
        for (Participant r : core.participants()) {
            Reservations rs = reservations(r);
            for (int j = 0; j < rs.count; j++) {
                if (SessionLists.active(rs.sessionVolatile(j))) min = Math.min(min, rs.eraVolatile(j));
            }
        }
        return min == Long.MAX_VALUE ? Long.MIN_VALUE : min;
    }
}
