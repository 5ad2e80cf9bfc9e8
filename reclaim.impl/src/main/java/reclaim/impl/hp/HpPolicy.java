package reclaim.impl.hp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import reclaim.api.Keyed;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.Batch;
import reclaim.impl.core.Capabilities;
import reclaim.impl.core.Core;
import reclaim.impl.core.Participant;
import reclaim.impl.core.Policy;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.core.Reclamation;
import reclaim.impl.core.SealedBags;
import reclaim.impl.core.ThreadGuard;
import reclaim.impl.core.ThreadRef;

/**
 * Hazard pointers (Maged M. Michael, "Hazard Pointers: Safe Memory Reclamation for Lock-Free Objects",
 * IEEE TPDS 15(6), 2004; folly's {@code hazptr} domain; haphazard). A reader publishes each pointer it
 * will dereference in a hazard slot and re-reads the source to validate it; a retired object is reclaimed
 * once a scan of every slot finds it in none.
 *
 * <p><b>Progress.</b> {@code protect} is lock-free (it retries only when the source changed between the
 * read and the validation); {@code retire} is wait-free apart from the scan it may trigger, which is
 * O(R + H) and runs every R retires, so reclamation is O(1) amortised per retire. A platform thread keeps its
 * participant from its first guard until it ends, so {@code enter} acquires nothing (a lookup in the reclaimer's
 * guard cache, or none through {@code Registration.enter()}, and a depth count) and {@code close} clears the slots used (a release store each); a virtual thread leases a participant
 * per outermost guard (a CAS, a release store) so that records follow the guards open at once.
 *
 * <p><b>Bound on unreclaimed objects (robust).</b> With H the hazard slots of all records (k per record and
 * nesting level, plus dynamic slots) and R = max({@code scanFactor} × H, {@code batchSize}), and under the
 * asymmetric barrier at least {@code Core.HEAVY_AMORTIZED} (1,024: the scan's membarrier is paid once per that
 * many retires), a scan leaves at most H objects (those hazarded) and runs once R objects wait in sealed bags and,
 * under the asymmetric barrier, {@code HEAVY_AMORTIZED} objects were sealed since the last attempt; bags are sealed
 * every {@code batchSize} retires per record. So pending ≤ R + H + (records + 1) × batchSize, plus under the
 * asymmetric barrier the core's amortization slack ({@code HEAVY_AMORTIZED} + records × batchSize), at all times,
 * however long a reader stays inside a guard: a stalled reader holds back at most the objects its own slots
 * point to. {@code Reclaimer.pendingBound()} reports that figure for the current registry.
 *
 * <p><b>Happens-before.</b> Retire: the unlink happens before the retire, which is sealed and queued
 * (publication); the scanner fences after taking the bag and before reading the slots. Protect: the hazard
 * store is volatile and the validation re-read is volatile, so either the scanner sees the hazard or the
 * reader sees the unlink and retries. Under the asymmetric barrier ({@code Barrier}) the hazard store is
 * opaque and the scanner runs {@code membarrier} instead of its fence: the same either-or holds. A cleared slot is a release store and the scanner
 * reads slots with acquire, so a reader's accesses to an object happen-before its reclaim action.
 */
public final class HpPolicy extends Policy {
    /*
     * Overview.
     *
     * Participants, leases, bags and close are the core's: a platform thread keeps a sticky participant, a virtual
     * thread leases one per outermost guard (state = the core's grace clock, which only means "in a guard":
     * hazard pointers keep no clock), retires go into the participant's bag, and full bags are sealed into the
     * shared stack (folly's domain-wide retired list rather than Michael's per-thread list: any thread's scan
     * reclaims any thread's objects). Bags carry no stamp: collect() scans. When at least R objects wait in sealed bags, it
     * takes those bags, fences, snapshots every non-null slot of every participant into an identity set
     * (identity, never equals; a linear array while the hazards are few, so that no retired object gets an identity
     * hash code), and judges only the bags it took before the snapshot (a bag queued later may hold an object
     * protected after the snapshot): a bag none of whose objects is in the set runs whole, as the bag its sealer
     * sealed; in a bag that holds one, an object in the set is kept (requeued in a fresh bag) and every other goes into
     * batches of the scan's own that Reclamation runs. A participant whose thread ended is swept and its slots
     * cleared.
     */

    private final int k;
    private final int scanFactor;
    /** Completed scans; era() is derived from it. */
    private final AtomicLong scans = new AtomicLong();
    /**
     * The tables of the last scan, reused by the next so that a scan in steady state allocates nothing; null while a
     * scan holds them (a concurrent scan makes its own). Taken with a volatile swap, given back with a release store
     * after they were cleared: the next taker sees them cleared.
     */
    @SuppressWarnings("unused") // through SCRATCH
    private Scratch scratch = new Scratch();

    private HpPolicy(Scheme.HazardPointers scheme) {
        this.k = scheme.slots();
        this.scanFactor = scheme.scanFactor();
    }

    /**
     * Creates a hazard-pointer reclaimer.
     *
     * @param scheme the tuning
     * @return a new reclaimer
     */
    public static Reclaimer create(Scheme.HazardPointers scheme) {
        return create(scheme, Options.fromSystemProperties());
    }

    /**
     * Creates a reclaimer of this scheme with {@code options}.
     *
     * @param scheme the scheme's tuning
     * @param options the settings for any scheme
     * @return the reclaimer
     */
    public static Reclaimer create(Scheme.HazardPointers scheme, Options options) {
        return ReclaimerHandle.create(scheme, new HpPolicy(scheme), options);
    }

    @Override
    protected Capabilities capabilities() {
        // Guards publish nothing on enter (their protects do): sticky participants; scans run on a count of
        // waiting objects, not on a guard count.
        return new Capabilities(true, false, Integer.MAX_VALUE, new Scheme.Ebr().batchSize(), Long.MAX_VALUE);
    }

    @Override
    protected Participant newParticipant(long state, ThreadRef holder, int batchSize) {
        return new HpParticipant(state, holder, batchSize);
    }

    @Override
    protected ThreadGuard newGuard(Thread thread) {
        return new HpGuard(core, thread, k);
    }

    @Override
    protected boolean inUse(Participant p) {
        return ((HpParticipant) p).anyHazard();
    }

    @Override
    protected void entered(ThreadGuard g) {
        HpGuard hg = (HpGuard) g;
        if (!hg.boundToOwn(g.record())) hg.bind((HpParticipant) g.record()); // dynamicCount is 0 since the last close
    }

    /** Still bound to the thread's own participant, which it held without a break since {@link #entered}. */
    @Override
    protected void enteredAgain(ThreadGuard g) {}

    @Override
    protected Object leaving(ThreadGuard g) {
        ((HpGuard) g).releaseAll(); // release stores only: no user code
        return null;
    }

    @Override
    protected Object swept(Participant p) {
        ((HpParticipant) p).clearAll();
        return null;
    }

    @Override
    protected long era() {
        return scans.get() + 1;
    }

    @Override
    protected String describe() {
        return scans.get() + " scans";
    }

    @Override
    protected long pendingBound() {
        Participant[] ps = core.participants();
        long h = hazardSlots(ps);
        return scanThreshold(h) + h + (ps.length + 1L) * core.batchSize();
    }

    /**
     * R: the objects that must wait in sealed bags before a scan; under the asymmetric barrier at least
     * {@link Core#HEAVY_AMORTIZED}, so that the scan's membarrier is paid once per that many retires.
     */
    private long scanThreshold(long hazardSlots) {
        long r = Math.max((long) scanFactor * hazardSlots, core.batchSize());
        return core.barrier.asymmetric() ? Math.max(r, Core.HEAVY_AMORTIZED) : r;
    }

    /** H: every slot of every participant. */
    private static long hazardSlots(Participant[] ps) {
        long h = 0;
        for (Participant p : ps) h += ((HpParticipant) p).slotCount();
        return h;
    }

    @Override
    protected void collect(int limit) {
        Participant[] recs = core.participants();
        SealedBags store = core.sealed;
        long waiting = store.objects();
        if (waiting == 0 || (limit != Core.COLLECT_ALL && waiting < scanThreshold(hazardSlots(recs)))) return;
        // Take the bags first: only objects retired (so unlinked) before the hazard snapshot may be judged by
        // it. A bag queued after the snapshot may hold an object that a reader protected after it. They come chained
        // through Batch.next (each is ours alone): no list is allocated.
        Batch taken = store.takeAllHeld(); // counted for pendingBound() until the scan ends: see SealedBags
        if (taken == null) return;
        long held = Batch.objectsIn(taken);
        try {
            scanTaken(recs, store, taken);
        } finally {
            store.release(held);
        }
    }

    /**
     * The scan of {@link #collect}, over the bags it took: the heavy barrier, the hazards' snapshot, then each bag run
     * whole, split or requeued.
     *
     * @param recs the participants
     * @param store the core's sealed bags
     * @param taken the bags taken, chained
     */
    private void scanTaken(Participant[] recs, SealedBags store, Batch taken) {
        try {
            // Scanner side of protect's store-load pair: orders the unlinks before the retires (and our taking
            // of their bags) before the loads of the hazard slots below. A full fence, or membarrier (Barrier).
            core.heavy();
        } catch (RuntimeException | Error e) {
            store.addChain(taken); // nothing judged yet: back in the store, not lost
            throw e;
        }
        Scratch scratch = (Scratch) SCRATCH.getAndSet(this, null);
        HazardSet set;
        KeySet keySet;
        try {
            if (scratch == null) scratch = new Scratch(); // another scan holds the shared one
            set = snapshot(recs, scratch);
            keySet = scratch.keys.of(scratch.keyArrays, recs.length) ? scratch.keys : null;
        } catch (RuntimeException | Error e) {
            store.addChain(taken); // an allocation failed before anything was judged: back in the store
            if (scratch != null) giveBack(scratch);
            throw e;
        }
        scans.incrementAndGet();
        // A bag that no hazard holds any object of runs whole (Reclamation.run: counted in its finally, handed to the
        // action executor if there is one, and given back to the pool). In a bag that holds one, what no hazard holds
        // goes into batches of the core's bag size (from its pool), each run once full and the last at the end; what
        // a hazard holds is requeued; the bag, whose objects were all moved, is given back to the pool (cleared) at
        // once.
        Reclamation reclamation = core.reclamation();
        Batch free = null;
        long ofOthers = 0;
        Batch kept = null;
        Batch cur = taken;
        int from = 0; // the first object of the bag being judged that is not in kept or free yet
        try {
            while (cur != null) {
                Batch b = cur;
                int n = b.size();
                int firstHeld = firstHeld(b, set, keySet);
                if (firstHeld < 0) {
                    // The common case: no hazard holds any of the bag's objects, and the bag runs whole, as EBR's
                    // do, instead of being copied object by object into a free batch (a reference store each, into
                    // a pooled batch that is soon old: G1's post-write barrier). Unlinked from the chain before it
                    // runs, so that whatever happens in run() the finally below does not requeue it. run() counts a
                    // bag another thread sealed as work done for others itself (Batch.sealer), so ofOthers does not.
                    cur = b.next();
                    b.link(null);
                    reclamation.run(b);
                    continue;
                }
                boolean others = Reclamation.sealedByAnother(b);
                for (int at = 0; at < n; at++) {
                    Object o = b.object(at);
                    // Judged once: those before firstHeld were found free by firstHeld, that one held.
                    if (at == firstHeld || (at > firstHeld && held(o, set, keySet))) {
                        if (kept == null) kept = core.takeBatch();
                        boolean full = kept.add(o, b.action(at));
                        from = at + 1; // o is in kept now: the finally must not requeue it from b as well
                        if (full) {
                            store.add(kept); // allocates nothing, cannot fail: kept is the store's now
                            kept = null;
                        }
                    } else {
                        // Taken before the add: a take that fails leaves this object unjudged, requeued below.
                        if (free == null) free = core.takeBatch();
                        boolean full = free.add(o, b.action(at));
                        from = at + 1;
                        if (others) ofOthers++;
                        if (full) {
                            Batch ready = free;
                            free = null; // not run again by the finally
                            reclamation.run(ready);
                        }
                    }
                }
                cur = b.next();
                from = 0; // the next bag is wholly unjudged
                b.link(null);
                core.recycle(b); // every object went to free or kept: its slots are cleared, nothing is pinned
            }
        } finally {
            // Whatever happens above (a key() that throws, an allocation that fails), nothing is lost and nothing
            // runs twice: the objects not judged yet go back to the store, a partial kept bag too, and what was
            // judged free runs (and is counted, in Reclamation's finally) below.
            // The whole bags first (no allocation), then what needs one; and what was judged free runs even if a
            // requeue fails.
            try {
                if (cur != null) {
                    Batch b = cur;
                    Batch after = b.next();
                    b.link(null);
                    store.addChain(after);
                    if (kept != null) store.add(kept);
                    kept = null;
                    Batch rest = new Batch(Math.max(1, b.size() - from));
                    for (int i = from; i < b.size(); i++) rest.add(b.object(i), b.action(i));
                    store.add(rest);
                }
                if (kept != null) store.add(kept);
            } finally {
                try {
                    if (free != null) reclamation.run(free);
                } finally {
                    giveBack(scratch); // judging is over: the tables are not read any more
                    reclamation.endPass(null, 0, 0, ofOthers); // the share done for other threads, counted in any case
                }
            }
        }
    }


    /** The index of the first object of {@code b} a hazard (or a key hazard) holds, or -1 if none is held. */
    private static int firstHeld(Batch b, HazardSet set, KeySet keySet) {
        for (int at = 0, n = b.size(); at < n; at++) {
            if (held(b.object(at), set, keySet)) return at;
        }
        return -1;
    }

    /** Whether a hazard holds {@code o}, or a key hazard its key. */
    private static boolean held(Object o, HazardSet set, KeySet keySet) {
        return set.contains(o) || (keySet != null && o instanceof Keyed kd && keySet.contains(kd.key()));
    }

    /** Clears the scan's tables (they pin no hazard and no slot array) and offers them to the next scan. */
    private void giveBack(Scratch s) {
        s.clear();
        SCRATCH.setRelease(this, s); // after the clearing: the next taker's swap sees cleared tables
    }

    /**
     * Reads every non-null slot (acquire) into the scratch's identity set, and each record's key-slot array into
     * its {@code keyArrays}; sweeps records whose thread ended.
     */
    private HazardSet snapshot(Participant[] recs, Scratch scratch) {
        // Read each record's arrays once, and size the set from exactly those: an array that grows meanwhile
        // is published before any hazard goes into it, so the one read here holds everything it must.
        scratch.size(recs.length);
        Object[][] arrays = scratch.arrays;
        long[][] keyArrays = scratch.keyArrays;
        long slots = 0;
        for (int i = 0; i < recs.length; i++) {
            HpParticipant r = (HpParticipant) recs[i];
            long st = r.stateVolatile();
            if (st != Participant.FREE && st != Participant.CLOSED && st != Participant.BUSY
                    && core.sweepIfDead(r)) {
                continue; // its thread ended: its slots were cleared
            }
            Object[] a = r.hazardsAcquire();
            Object[] d = r.dynamicAcquire();
            keyArrays[i] = r.keysAcquire();
            arrays[2 * i] = a;
            arrays[2 * i + 1] = d;
            if (a != null) slots += a.length - 2L * HpParticipant.PAD;
            if (d != null) slots += d.length - 2L * HpParticipant.PAD;
        }
        HazardSet set = scratch.set;
        set.reset((int) Math.min(slots, 1 << 24));
        for (int i = 0, n = 2 * recs.length; i < n; i++) add(set, arrays[i]);
        return set;
    }

    private static void add(HazardSet set, Object[] slots) {
        if (slots == null) return;
        for (int i = HpParticipant.PAD, end = slots.length - HpParticipant.PAD; i < end; i++) {
            Object h = HpParticipant.slotAcquire(slots, i);
            if (h != null) set.add(h);
        }
    }

    /**
     * What one scan reads and builds, kept for the next scan: the slot arrays read from the records, the identity set
     * of hazards and the set of keys. Owned by one scan at a time ({@link #scratch}).
     */
    private static final class Scratch {
        Object[][] arrays = new Object[0][];
        long[][] keyArrays = new long[0][];
        final HazardSet set = new HazardSet();
        final KeySet keys = new KeySet();

        /** Makes room for {@code records} records' arrays. */
        void size(int records) {
            if (keyArrays.length < records) {
                keyArrays = new long[records][];
                arrays = new Object[2 * records][];
            }
        }

        /** Drops every reference the scan took (the arrays are left to any length; their cells are null). */
        void clear() {
            Arrays.fill(arrays, null);
            Arrays.fill(keyArrays, null);
            set.clear();
        }
    }

    /** An open-addressing set of the non-zero keys seen by one scan (0 marks an empty cell); reused by later scans. */
    private static final class KeySet {
        private long[] table = new long[0];
        private int mask;

        /**
         * Reads every key slot (acquire) of the first {@code n} arrays into the set, emptied first; false when no slot
         * holds a key. The table is sized from the arrays read, as the identity set is, so it never fills.
         */
        boolean of(long[][] arrays, int n) {
            long slots = 0;
            for (int a = 0; a < n; a++) if (arrays[a] != null) slots += arrays[a].length - 2L * HpParticipant.KPAD;
            if (slots == 0) return false;
            int capacity = (int) Math.min(slots, 1 << 24);
            int size = Integer.highestOneBit(Math.max(4, capacity * 2 - 1)) << 1;
            if (table.length < size) table = new long[size];
            else Arrays.fill(table, 0L);
            mask = table.length - 1;
            boolean any = false;
            for (int a = 0; a < n; a++) {
                long[] ks = arrays[a];
                if (ks == null) continue;
                for (int i = HpParticipant.KPAD, end = ks.length - HpParticipant.KPAD; i < end; i++) {
                    long key = HpParticipant.keyAcquire(ks, i);
                    if (key != 0) {
                        add(key);
                        any = true;
                    }
                }
            }
            return any;
        }

        void add(long key) {
            int i = mix(key) & mask;
            while (table[i] != 0) {
                if (table[i] == key) return;
                i = (i + 1) & mask;
            }
            table[i] = key;
        }

        boolean contains(long key) {
            int i = mix(key) & mask;
            long t;
            while ((t = table[i]) != 0) {
                if (t == key) return true;
                i = (i + 1) & mask;
            }
            return false;
        }

        private static int mix(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32));
        }
    }

    /**
     * The hazards seen by one scan, compared by identity (rule M2). Up to {@link #LINEAR} of them sit in a plain
     * array searched linearly: no {@code System.identityHashCode}, which would install a hash in the header of every
     * retired object the scan judges (a runtime call per object). Past that, an open-addressing identity table.
     * Reused by later scans ({@link #reset}, {@link #clear}).
     */
    private static final class HazardSet {
        /** Hazards kept in the array before the set moves them to the table. */
        static final int LINEAR = 32;
        private final Object[] few = new Object[LINEAR];
        private int capacity;
        private int size;
        /** The table, kept between scans; in use only while {@link #hashed}. */
        private Object[] table;
        private boolean hashed;
        private int mask;

        /** Empties the set for a scan that will add at most {@code capacity} hazards. */
        void reset(int capacity) {
            this.capacity = capacity;
        }

        /** Drops every hazard: the set pins nothing between scans. */
        void clear() {
            Arrays.fill(few, 0, size, null);
            size = 0;
            if (hashed) Arrays.fill(table, null);
            hashed = false;
        }

        void add(Object o) {
            if (!hashed) {
                for (int i = 0; i < size; i++) if (few[i] == o) return;
                if (size < LINEAR) {
                    few[size++] = o;
                    return;
                }
                int n = Integer.highestOneBit(Math.max(4, Math.max(capacity, LINEAR + 1) * 2 - 1)) << 1;
                if (table == null || table.length < n) table = new Object[n];
                mask = table.length - 1;
                hashed = true;
                for (int i = 0; i < size; i++) put(few[i]);
            }
            put(o);
        }

        private void put(Object o) {
            int i = mix(System.identityHashCode(o)) & mask;
            while (table[i] != null) {
                if (table[i] == o) return;
                i = (i + 1) & mask;
            }
            table[i] = o;
        }

        boolean contains(Object o) {
            if (!hashed) {
                Object[] f = few;
                for (int i = 0, n = size; i < n; i++) if (f[i] == o) return true;
                return false;
            }
            Object[] t = table;
            int i = mix(System.identityHashCode(o)) & mask;
            Object x;
            while ((x = t[i]) != null) {
                if (x == o) return true;
                i = (i + 1) & mask;
            }
            return false;
        }

        private static int mix(int h) {
            return h * 0x9E3779B9;
        }
    }

    private static final VarHandle SCRATCH;

    static {
        try {
            SCRATCH = MethodHandles.lookup().findVarHandle(HpPolicy.class, "scratch", Scratch.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
