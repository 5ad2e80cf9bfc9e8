package reclaim.impl.crystalline;

import java.lang.invoke.MethodHandles;
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
import reclaim.impl.core.Reclamation;
import reclaim.impl.core.ThreadGuard;
import reclaim.impl.core.ThreadRef;
import reclaim.impl.crystalline.WaitFreeReservations.Request;
import reclaim.impl.crystalline.WaitFreeReservations.Result;

/**
 * Crystalline-W (Ruslan Nikolaev and Binoy Ravindran, "Crystalline: Fast and Memory Efficient Wait-Free
 * Reclamation", DISC 2021; the reference benchmark's {@code WFRTracker}), adapted to the JVM: Crystalline-L
 * ({@link CrystallinePolicy}) with a bounded {@code protect} whose slow path the era's advancers help,
 * and insertion of retired batches by swap. Select it with {@code Scheme.named("crystalline-w")} or
 * {@code new Scheme.Crystalline(batchSize, slots, true)}.
 *
 * <p>As every scheme here, it is for objects whose reclamation is an explicit action (a pooled node returned
 * to its pool, an off-heap block freed, a native resource closed): plain heap objects need no scheme.
 *
 * <h2>Progress and steps bound of each operation</h2>
 * N is the number of threads that seal batches at once (at most the live threads), R the records (at most
 * the threads that hold guards at once, see below), I = 3k + 1 the indices per record.
 * <ul>
 *   <li>{@code enter()} on a platform thread: a guard-cache lookup, a depth count and one opaque load of the
 *       count of sealed bags waiting, no shared store (the thread keeps a sticky record from its first guard
 *       until it ends): O(1), wait-free. When sealed bags wait, the guard first collects as a retirer's
 *       collection does (every record's stack: one read and at most one swap per record, then each bag taken
 *       inserted, O(R·I) per bag; at most R·B bags for B bags per record): wait-free, and the bags it takes
 *       are ones some retirer or flush sealed, so the extra work is bounded by the retires before it. The first
 *       guard of a thread, and every outermost guard of a virtual thread, lease a record: one CAS on the last
 *       record the thread held, then at most one CAS per record of the registry (a bounded scan); only if every
 *       record was seen taken is a record appended: one fetch-and-add, at most one CAS installing a chunk, one
 *       volatile store ({@code common.Registry}). <b>Wait-free</b>, O(R), however threads come, end and are
 *       recycled (the RFC's requirement); a record is released by one release store.</li>
 *   <li>{@code protect(ref, slot)}, {@code protect(ref)} and the VarHandle forms: at most
 *       {@code fastAttempts} (16) tries of Crystalline-L's loop (two volatile loads when the era has not moved;
 *       otherwise a swap, an era store and a walk of the slot's old list), then the slow path: one request
 *       published, then at most N + 1 tries, each a bounded CAS loop raising the index's era, a read of the
 *       source and a CAS of the result. <b>Wait-free</b>: O(16 + N) steps plus the walks of lists detached
 *       (each link visited once, by one thread).</li>
 *   <li>{@code reserve(key, slot)}: O(1) per call (plus the walk of the list detached), wait-free per call;
 *       the caller's re-read loop that the API prescribes ends when the era holds still between two calls:
 *       <b>lock-free</b> (no helper can read the caller's key source for it).</li>
 *   <li>{@code retire}: O(1) into the thread's bag; every {@code batchSize} retires the bag is sealed (the
 *       sealer first helps every pending slow path: at most R·I requests, N + 1 tries each) and inserted: one
 *       pass over R·I indices with, per active index, one swap, at most one CAS linking the link, and a rescue
 *       (one CAS) if the index was deactivated meanwhile: the insertion is <b>wait-free</b>, O(R·I). Sealed
 *       bags stay on their record (pushed by its holder: at most two CAS attempts) and the retirer's
 *       collection takes every record's stack (one read, at most one swap per record) and inserts what it
 *       took: no shared queue. A retire on a sticky record takes the record by one CAS (two at most); if a
 *       concurrent {@code flush()} holds it for the moment of a seal, the retirer does not wait: it seals its
 *       object alone and inserts it. <b>Wait-free</b>: O(R·I) per batch, amortised O(R·I / batchSize).</li>
 *   <li>{@code close()} of a guard: per index used, one volatile store, one swap, and a walk of the list
 *       detached: <b>wait-free</b>, O(I + links walked).</li>
 * </ul>
 *
 * <h2>Not wait-free here (stated, not hidden)</h2>
 * The caller's loop around {@code reserve} (above); {@code flush()}, which takes records (its own by a CAS
 * that waits while another flush seals it for a moment) and may take the skeleton's shared stack; and
 * {@code Reclaimer.close()} (which waits, bounded by about a second, for guards still finishing). None of
 * them is on the path of {@code enter}, {@code protect}, {@code retire} or a guard's {@code close}.
 * Allocation (a batch's links at their first use, a slow path's request and result; a TLAB refill, a GC) and
 * safepoints are outside the model, and so is the hardware: {@code getAndSet} and {@code getAndAdd} are single
 * instructions on x86-64 ({@code xchg}, {@code lock xadd}) and with LSE on AArch64, LL/SC loops without it.
 *
 * <h2>Bound on unreclaimed objects (robust, for {@link reclaim.api.Born} objects)</h2>
 * As Crystalline-L: a reservation holds only batches with an object born at or before its era, and the era
 * advances at every sealed batch. {@link #pendingBound()} states {@code 2 × (R × I + 2) × batchSize} plus
 * the pending objects in batches that held an object born at or before the oldest active reservation when
 * inserted, to which {@code Reclaimer.pendingBound()} adds the core's amortization slack under the asymmetric
 * barrier ({@code Core.amortizationSlack()}). A reader stalled in the slow path holds one index at one era (helpers only raise it to eras
 * read before the request completed), so the same bound applies; a reader stalled anywhere else holds what a
 * Crystalline-L reader holds. Objects that are not {@code Born} have birth era 0 and join every active
 * reservation: safe, without the bound.
 *
 * <h2>Memory ordering of every shared access</h2>
 * <ul>
 *   <li>The reader's era store ({@code doUpdate}, {@code grow}: volatile; a helper's raise: CAS) precedes its
 *       (or the helper's) volatile read of the source and of the global era; the retirer's unlink (the data
 *       structure's CAS or volatile store) precedes its full fence and its volatile reads of era words. The
 *       store&ndash;load pair: a reader that read an object before its unlink published a reservation the
 *       retirer reads (the hazard-eras argument of Ramalhete and Correia, SPAA 2017).</li>
 *   <li>The owner's fast path reads its own era word volatile (not opaque, unlike Crystalline-L): a
 *       helper's raise that it reads must be ordered before its read of the source.</li>
 *   <li>List heads change only by volatile read-modify-writes (swap in by retirers, swap out by owners,
 *       CAS out by rescuers: R3); a link's {@code next} is written by its retirer's CAS and read by walkers'
 *       swap (R3 on that word), so each link is walked once.</li>
 *   <li>Deactivation stores the era word INACTIVE (volatile) and then swaps the list out; a retirer swaps
 *       its link in and then reads the era word (volatile): a retirer whose swap came after the owner's sees
 *       INACTIVE (or a later activation, after which the link is in an active index's list, walked at its next
 *       detach) and takes its link back with a CAS of the head from its own link to empty, which fails only if
 *       a newer link went in front (its retirer makes the same test) or the list was detached (its detacher
 *       walks it). Links are reused with their batch, and this CAS cannot meet a reused link: see
 *       {@link #insertLink}.</li>
 *   <li>A request is published (volatile store) before the slow counter is incremented (volatile RMW); an
 *       advancer reads the counter (volatile) before its era {@code getAndAdd}, and the requests (volatile)
 *       if it is not zero. The result is CASed once from PENDING and read volatile by the owner.</li>
 *   <li>Batch counts change only by {@code getAndAdd}: the thread that brings one to zero happens-after every
 *       walker's release and the retirer's add (R2), so the reclaim action happens-after every guard that
 *       could hold the batch.</li>
 * </ul>
 */
public final class CrystallineWPolicy extends CountingPolicy {
    /*
     * Overview (what differs from Crystalline-L; the rest is CrystallinePolicy's and the core's).
     *
     * Activity is the era word: INACTIVE (Long.MIN_VALUE, below every birth era) or the reserved era. The
     * list head is null or a Link; links get their next after the retirer's swap, so a walker that finds a
     * next still null stops, marking it TRAVERSED, and the retirer's CAS of next fails and it walks the part
     * it displaced itself.
     *
     * protect: Crystalline-L's loop for at most fastAttempts tries; then a Request (the source, a result
     * PENDING) is published in the index, and the slow counter incremented. A try (attempt()) by the owner or
     * a helper: read the global era e, raise the index's era to e (CAS, only upwards, never on INACTIVE), read
     * the source, re-read the global era, and if still e CAS the result from PENDING to (value, e). The
     * index's era is at least e, published before the source read, and the index stays active with its list
     * intact until the owner takes the result: the value is protected whoever read it. The JVM simplifies the
     * paper here: the source's holder is a heap object the request holds, and it stays unrecycled while the
     * request is pending because the owner sits in protect with its other reservations unchanged; a helper's
     * late read is memory-safe and discarded by the failed CAS. So helpers need no reservation of their own,
     * no parent era and no (pointer, era) pairs; and since helpers only raise an era (never on an inactive
     * index), the era word needs no tag: a stale raise lands only on an active index, where it is conservative
     * for protect (which reads its era word before the source). It is not for reserve, which checks after the
     * caller's read of the key: a late raise may come after that read, so reserve compares the era the owner
     * itself stored (WaitFreeReservations.ownEra), never the era word.
     *
     * Helping: tagNow() (every seal) calls beforeAdvance() before its getAndAdd of the era; if the slow counter
     * is not zero, the advancer completes every pending request it finds (helpAll). The era therefore never
     * moves past a request the advancer saw; only advancers that read the counter before the request's
     * increment can move it unhelped, at most one each: the owner's loop ends within N + 1 tries.
     *
     * retire (insert): fullFence, then for each active index with era >= minBirth: swap the batch's link in
     * (its own, reused at each insertion), link the displaced list (or walk it if a walker passed us), then read
     * the era word; if the index is INACTIVE, the owner deactivated it after our era read, so nobody may walk
     * our link: CAS the head from our link to null and walk it (insertLink). Each link is counted; the count
     * is added after the pass.
     */

    /** Fast-path tries of {@code protect} before its slow path (the reference code's 16). */
    static final int FAST_ATTEMPTS = 16;

    private final Scheme.Crystalline scheme;
    private final int k;
    private final int fastAttempts;
    /** Slow paths in progress (the advancers' cheap test); accessed only through {@code SLOW}. */
    @SuppressWarnings("unused")
    private long slow;
    /** Requests completed by a helper (diagnostics and tests); accessed only through {@code HELPED}. */
    @SuppressWarnings("unused")
    private long helped;

    private CrystallineWPolicy(Scheme.Crystalline scheme, int fastAttempts) {
        this.scheme = scheme;
        if (fastAttempts < 0) throw new IllegalArgumentException("fastAttempts must be >= 0, was " + fastAttempts);
        this.k = scheme.slots();
        this.fastAttempts = fastAttempts;
    }

    /**
     * Creates a Crystalline-W reclaimer.
     *
     * @param scheme the tuning ({@code waitFree} is implied)
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
        return ReclaimerHandle.create(scheme, new CrystallineWPolicy(scheme, FAST_ATTEMPTS), options);
    }

    /** Tests: a reclaimer whose protect gives up its fast path after {@code fastAttempts} tries (0: at once). */
    static Reclaimer create(Scheme.Crystalline scheme, int fastAttempts) {
        return ReclaimerHandle.create(scheme, new CrystallineWPolicy(scheme, fastAttempts), Options.fromSystemProperties());
    }

    /** Tests: the policy behind a Crystalline-W reclaimer. */
    static CrystallineWPolicy of(Reclaimer r) {
        return (CrystallineWPolicy) ReclaimerHandle.coreOf(r).policy();
    }

    @Override
    protected Capabilities capabilities() {
        // Guards publish nothing on enter (their reservations do): sticky participants, sealed bags kept per participant (a wait-free retire).
        return new Capabilities(true, true, Integer.MAX_VALUE, scheme.batchSize(), Long.MAX_VALUE);
    }

    @Override
    protected Participant newParticipant(long state, ThreadRef holder, int batchSize) {
        return new CrystallineWParticipant(state, holder, batchSize, CrystallineGuard.indices(k));
    }

    // ---- guards ----

    @Override
    protected ThreadGuard newGuard(Thread thread) {
        return new CrystallineWGuard(core, this, thread, k, fastAttempts);
    }

    @Override
    protected void entered(ThreadGuard g) {
        CrystallineWGuard cg = (CrystallineWGuard) g;
        Participant rec = g.record();
        if (!cg.boundTo(rec)) cg.bind(rec, reservations(rec)); // a participant's reservations never change
    }

    @Override
    protected Object leaving(ThreadGuard g) {
        return ((CrystallineWGuard) g).detachAll(); // no user code; left() walks once the record is released
    }

    @Override
    protected Object swept(Participant r) {
        WaitFreeReservations rs = reservations(r);
        CrystallineWGuard.Detached d = new CrystallineWGuard.Detached(null, rs.count);
        CrystallineWGuard.detach(rs, (1L << rs.count) - 1, d); // a thread that ended inside its guard
        return d.n == 0 ? null : d;
    }

    @Override
    protected void left(Object detached) {
        walkAll(detached);
    }

    @Override
    protected boolean inUse(Participant r) {
        WaitFreeReservations rs = reservations(r);
        for (int j = 0; j < rs.count; j++) {
            if (rs.eraVolatile(j) != WaitFreeReservations.INACTIVE) return true;
        }
        return false;
    }

    /** A participant's reservations: created with it, never null, never replaced. */
    private static WaitFreeReservations reservations(Participant r) {
        return ((CrystallineWParticipant) r).reservations;
    }

    /** Walks one list detached from an index (runs the actions of batches that reach zero). */
    void walk(Object list) {
        WaitFreeReservations.walk(list, core.reclamation());
    }

    /** Walks the lists {@link CrystallineWGuard#detach} gathered, then gives their holder back to its guard. */
    void walkAll(Object detached) {
        CrystallineWGuard.Detached d = (CrystallineWGuard.Detached) detached;
        Object[] lists = d.lists;
        for (int i = 0, n = d.n; i < n; i++) {
            Object list = lists[i];
            lists[i] = null; // the holder is kept: it must not pin the lists it held
            walk(list);
        }
        d.walked();
    }

    // ---- the slow path and helping ----

    void slowStarted() {
        SLOW.getAndAdd(this, 1L);
    }

    void slowEnded() {
        SLOW.getAndAdd(this, -1L);
    }

    /**
     * One try at a request, by its owner or a helper (see the overview).
     *
     * @param helper whether the caller helps another thread (counted when it completes the request)
     * @return false if the index is inactive: the request is over (a late helper)
     */
    static boolean attempt(CrystallineWPolicy w, WaitFreeReservations rs, int idx, Request q, boolean helper) {
        long e = w.eraVolatile();
        if (!rs.raiseEra(idx, e)) return false; // the index reserves e or later before the source is read
        Object v = q.read();
        if (w.eraVolatile() != e) return true; // the era moved between the reads: try again
        // The linearization point of the protect: the first CAS wins; v is protected by the index's era >= e.
        if (q.complete(new Result(v, e)) && helper) HELPED.getAndAdd(w, 1L);
        return true;
    }

    /** Completes every pending request: called before the era advances (the slow path's bound rests on it). */
    @Override
    protected void beforeAdvance() {
        if ((long) SLOW.getVolatile(this) == 0) return; // nobody is slow: the advance costs one load more
        helpAll();
    }

    private void helpAll() {
        for (Participant r : core.participants()) {
            WaitFreeReservations rs = reservations(r);
            for (int j = 0; j < rs.count; j++) {
                Request q = rs.requestVolatile(j);
                if (q == null) continue;
                while (q.pending() && attempt(this, rs, j, q, true)) {
                    // at most N + 1 tries: each failure is an advance by a thread that read the counter early
                }
            }
        }
    }

    /** Requests completed by a helper (diagnostics and tests). */
    long helpedCount() {
        return (long) HELPED.getVolatile(this);
    }

    /** Slow paths in progress. */
    long slowCount() {
        return (long) SLOW.getVolatile(this);
    }

    // ---- retire ----

    /** Crystalline-W's try_retire for one sealed batch: a swap per matching index (see the overview). */
    @Override
    protected void insert(Batch b) {
        // The retirer's heavy barrier ran before this call (CountingPolicy.collect: once for the batches it took):
        // the unlinks before these retires happen before the reads of reservations below.
        Participant[] ps = core.participants();
        long minBirth;
        Counted c;
        try { // the links' array (an OutOfMemoryError) and the sweeps, before any link is published (CountingPolicy)
            minBirth = CountedBatches.minBirth(b);
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
            WaitFreeReservations rs = reservations(r);
            for (int j = 0; j < rs.count; j++) {
                long era = rs.eraVolatile(j);
                if (era == WaitFreeReservations.INACTIVE || era < minBirth) continue; // inactive or too old
                insertLink(rs, j, c, core.reclamation());
                links++;
            }
        }
        CountedBatches.inserted(c, links, core.reclamation());
    }

    /**
     * Inserts one link of {@code c} into index {@code j}'s list: a swap (wait-free), the displaced list linked
     * behind the link (or walked, if a walker passed the link first and so could not reach it), then the rescue:
     * if the index is inactive after the swap, its owner deactivated it after our era read and may have swapped
     * its list out before our swap, so nobody would walk our link; we take it back with a CAS of the head from our
     * link to empty and walk it. Only our own link is expected: a link newer than ours in front of it was swapped
     * in by a retirer that makes the same test after its swap (the newest one takes the whole list back), and any
     * other change of the head is a detach by the owner, who walks the list. Expecting our own link also keeps the
     * CAS clear of reuse: links are reused with their batch, but ours cannot be before this insertion's count is
     * added (see {@link CountedBatches}), whereas a head read here might be another batch's link walked, recycled
     * and inserted again meanwhile, in an index active again, whose list the CAS would then steal from its reader.
     */
    static void insertLink(WaitFreeReservations rs, int j, Counted c, Reclamation reclamation) {
        takeBackIfInactive(rs, j, swapIn(rs, j, c, reclamation), reclamation);
    }

    /** The first half of {@link #insertLink}: the swap, and the displaced list linked (or walked). */
    static Link swapIn(WaitFreeReservations rs, int j, Counted c, Reclamation reclamation) {
        Link node = c.spare(null); // the batch's own link, reused (CountedBatches): next null until linked
        Object prev = rs.getAndSetFirst(j, node); // publishes the link (and its cleared next)
        c.linked();
        if (prev != null && !node.linkNext(prev)) WaitFreeReservations.walk(prev, reclamation); // a walker passed us
        return node;
    }

    /** The second half of {@link #insertLink}: the rescue of our link if the index was deactivated under us. */
    static void takeBackIfInactive(WaitFreeReservations rs, int j, Link node, Reclamation reclamation) {
        // The swap before orders this era read after it (both volatile); see the ordering in the class documentation.
        if (rs.eraVolatile(j) == WaitFreeReservations.INACTIVE && rs.casFirst(j, node, null)) {
            WaitFreeReservations.walk(node, reclamation);
        }
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
            WaitFreeReservations rs = reservations(r);
            for (int j = 0; j < rs.count; j++) {
                long e = rs.eraVolatile(j);
                if (e != WaitFreeReservations.INACTIVE) min = Math.min(min, e);
            }
        }
        return min == Long.MAX_VALUE ? Long.MIN_VALUE : min;
    }

    private static final VarHandle SLOW;
    private static final VarHandle HELPED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            SLOW = l.findVarHandle(CrystallineWPolicy.class, "slow", long.class);
            HELPED = l.findVarHandle(CrystallineWPolicy.class, "helped", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
