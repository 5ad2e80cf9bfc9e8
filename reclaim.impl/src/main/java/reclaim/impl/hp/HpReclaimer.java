package reclaim.impl.hp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import reclaim.api.Keyed;
import reclaim.api.Scheme;
import reclaim.impl.common.AnnouncementRecord;
import reclaim.impl.common.AnnouncingGuard;
import reclaim.impl.common.AnnouncingReclaimer;
import reclaim.impl.common.Batch;
import reclaim.impl.common.Reclamation;

/**
 * Hazard pointers (Maged M. Michael, "Hazard Pointers: Safe Memory Reclamation for Lock-Free Objects",
 * IEEE TPDS 15(6), 2004; folly's {@code hazptr} domain; haphazard). A reader publishes each pointer it
 * will dereference in a hazard slot and re-reads the source to validate it; a retired object is reclaimed
 * once a scan of every slot finds it in none.
 *
 * <p><b>Progress.</b> {@code protect} is lock-free (it retries only when the source changed between the
 * read and the validation); {@code retire} is wait-free apart from the scan it may trigger, which is
 * O(R + H) and runs every R retires, so reclamation is O(1) amortised per retire. A platform thread keeps its
 * record from its first guard until it ends, so {@code enter} acquires nothing (a lookup in the reclaimer's
 * guard cache, or none through {@code Registration.enter()}, and a depth count) and {@code close} clears the slots used (a release store each); a virtual thread leases a record
 * per outermost guard (a CAS, a release store) so that records follow the guards open at once.
 *
 * <p><b>Bound on unreclaimed objects (robust).</b> With H the hazard slots of all records (k per record and
 * nesting level, plus dynamic slots) and R = {@code scanFactor} × H, a scan leaves at most H objects
 * (those hazarded) and runs as soon as R objects wait in sealed bags; bags are sealed every
 * {@code batchSize} retires per record. So pending ≤ R + H + (records + 1) × batchSize at all times,
 * however long a reader stays inside a guard: a stalled reader holds back at most the objects its own slots
 * point to. {@link #pendingBound()} reports that figure for the current registry.
 *
 * <p><b>Happens-before.</b> Retire: the unlink happens before the retire, which is sealed and queued
 * (publication); the scanner fences after taking the bag and before reading the slots. Protect: the hazard
 * store is volatile and the validation re-read is volatile, so either the scanner sees the hazard or the
 * reader sees the unlink and retries (ALGORITHMS.md §5.3). A cleared slot is a release store and the scanner
 * reads slots with acquire, so a reader's accesses to an object happen-before its reclaim action.
 */
public final class HpReclaimer extends AnnouncingReclaimer {
    /*
     * Overview.
     *
     * Records, leases, bags and close are AnnouncingReclaimer's: a guard leases a record (state = IN_GUARD,
     * a positive "announcement" that only means "in a guard"), retires go into the record's bag, full bags
     * are sealed into the shared queue (folly's domain-wide retired list rather than Michael's per-thread
     * list: any thread's scan reclaims any thread's objects). What differs is the decision: collect() does not
     * compare tags with a clock, it scans. When at least R objects wait in sealed bags, it takes those bags,
     * fences, snapshots every non-null slot of every record into an identity set (M2: identity, never
     * equals), and judges only the bags it took before the snapshot (a bag queued later may hold an object
     * protected after the snapshot): an object in the set is kept (requeued in a fresh bag), any other is
     * reclaimed. A record whose thread ended is swept and its slots cleared.
     */

    /** The announcement of a record in a guard: HP has no clock, positive only means "in a guard". */
    private static final long IN_GUARD = 1;

    private final int k;
    private final int scanFactor;
    /** Completed scans; era() is derived from it. */
    private final AtomicLong scans = new AtomicLong();

    private HpReclaimer(Scheme.HazardPointers scheme) {
        super(scheme, new Scheme.Ebr().batchSize(), Integer.MAX_VALUE, Long.MAX_VALUE, true);
        this.k = scheme.slots();
        this.scanFactor = scheme.scanFactor();
    }

    /**
     * Creates a hazard-pointer reclaimer.
     *
     * @param scheme the tuning
     * @return a new reclaimer
     */
    public static HpReclaimer create(Scheme.HazardPointers scheme) {
        return new HpReclaimer(scheme);
    }

    @Override
    protected AnnouncingGuard newGuard(Thread thread) {
        return new HpGuard(this, thread, k);
    }

    @Override
    protected boolean inUse(AnnouncementRecord r) {
        return hasHazard(r.hazardsAcquire()) || hasHazard(r.dynamicAcquire()) || hasKey(keys(r));
    }

    private static long[] keys(AnnouncementRecord r) {
        return (long[]) r.schemeDataVolatile();
    }

    private static boolean hasKey(long[] keys) {
        if (keys == null) return false;
        for (int i = HpGuard.KPAD, end = keys.length - HpGuard.KPAD; i < end; i++) {
            if ((long) HpGuard.KEY.getVolatile(keys, i) != 0) return true;
        }
        return false;
    }

    private static boolean hasHazard(Object[] slots) {
        if (slots == null) return false;
        for (int i = HpGuard.PAD, end = slots.length - HpGuard.PAD; i < end; i++) {
            if (SLOT.getVolatile(slots, i) != null) return true;
        }
        return false;
    }

    @Override
    protected void entered(AnnouncingGuard g) {
        HpGuard hg = (HpGuard) g;
        if (!hg.boundToOwn(g.record())) hg.bind(g.record()); // dynamicCount is 0 since the last close
    }

    @Override
    protected Object leaving(AnnouncingGuard g) {
        ((HpGuard) g).releaseAll(); // release stores only: no user code
        return null;
    }

    @Override
    protected Object swept(AnnouncementRecord r) {
        clear(r.hazardsAcquire());
        clear(r.dynamicAcquire());
        long[] ks = keys(r);
        if (ks != null) for (int i = 0; i < ks.length; i++) HpGuard.KEY.setRelease(ks, i, 0L);
        return null;
    }

    private static void clear(Object[] slots) {
        if (slots == null) return;
        for (int i = 0; i < slots.length; i++) SLOT.setRelease(slots, i, (Object) null);
    }

    @Override
    protected long announcement() {
        return IN_GUARD;
    }

    @Override
    protected long tagNow() {
        return 0; // no clock: the scan decides per object
    }

    @Override
    protected long reclaimableBelow() {
        return Long.MIN_VALUE; // unused: collect() is overridden
    }

    @Override
    protected void advanceForFlush(AnnouncingGuard g) {}

    @Override
    protected boolean holdsBack(long state, long clock) {
        return false; // robust: a guard holds back only what its slots point to
    }

    @Override
    protected long clock() {
        return scans.get();
    }

    @Override
    public long era() {
        return scans.get() + 1;
    }

    @Override
    public long pendingBound() {
        long h = hazardSlots(records());
        long records = records().length;
        return scanThreshold(h) + h + (records + 1) * batchSize();
    }

    private long scanThreshold(long hazardSlots) {
        return Math.max((long) scanFactor * hazardSlots, batchSize());
    }

    /** Counts the hazard slots of every record (fixed, all levels, and dynamic). */
    private static long hazardSlots(AnnouncementRecord[] recs) {
        long h = 0;
        for (AnnouncementRecord r : recs) {
            Object[] a = r.hazardsAcquire();
            if (a != null) h += a.length - 2L * HpGuard.PAD;
            Object[] d = r.dynamicAcquire();
            if (d != null) h += d.length - 2L * HpGuard.PAD;
            long[] ks = keys(r);
            if (ks != null) h += ks.length - 2L * HpGuard.KPAD;
        }
        return h;
    }

    @Override
    protected void collect(int limit) {
        AnnouncementRecord[] recs = records();
        long waiting = sealedCount();
        if (waiting == 0 || (limit != COLLECT_ALL && waiting < scanThreshold(hazardSlots(recs)))) return;
        // Take the bags first: only objects retired (so unlinked) before the hazard snapshot may be judged by
        // it. A bag queued after the snapshot may hold an object that a reader protected after it.
        List<Batch> taken = new ArrayList<>();
        for (long todo = waiting; todo > 0; ) {
            Batch b = pollSealed();
            if (b == null) break;
            taken.add(b);
            todo -= b.size();
        }
        // Scanner side of protect's store-load pair: orders the unlinks before the retires (and our taking
        // of their bags) before the loads of the hazard slots below.
        VarHandle.fullFence();
        long[][] keyArrays = new long[recs.length][];
        HazardSet set = snapshot(recs, keyArrays);
        KeySet keySet = KeySet.of(keyArrays);
        scans.incrementAndGet();
        Reclamation reclamation = reclamation();
        Batch kept = null;
        for (Batch b : taken) {
            int n = b.size();
            for (int i = 0; i < n; i++) {
                Object o = b.object(i);
                if (set.contains(o) || (keySet != null && o instanceof Keyed kd && keySet.contains(kd.key()))) {
                    if (kept == null) kept = new Batch(batchSize());
                    if (kept.add(o, b.action(i))) {
                        requeue(kept);
                        kept = null;
                    }
                } else {
                    reclamation.runOne(o, b.action(i));
                }
            }
        }
        if (kept != null) requeue(kept);
    }

    /**
     * Reads every non-null slot (acquire) into an identity set, and each record's key-slot array into
     * {@code keyArrays}; sweeps records whose thread ended.
     */
    private HazardSet snapshot(AnnouncementRecord[] recs, long[][] keyArrays) {
        // Read each record's arrays once, and size the set from exactly those: an array that grows meanwhile
        // is published before any hazard goes into it, so the one read here holds everything it must.
        Object[][] arrays = new Object[2 * recs.length][];
        long slots = 0;
        for (int i = 0; i < recs.length; i++) {
            AnnouncementRecord r = recs[i];
            long st = r.stateVolatile();
            if (st != AnnouncementRecord.FREE && st != AnnouncementRecord.CLOSED && st != AnnouncementRecord.BUSY
                    && sweepIfDead(r)) {
                continue; // its thread ended: its slots were cleared
            }
            Object[] a = r.hazardsAcquire();
            Object[] d = r.dynamicAcquire();
            keyArrays[i] = keys(r);
            arrays[2 * i] = a;
            arrays[2 * i + 1] = d;
            if (a != null) slots += a.length - 2L * HpGuard.PAD;
            if (d != null) slots += d.length - 2L * HpGuard.PAD;
        }
        HazardSet set = new HazardSet((int) Math.min(slots, 1 << 24));
        for (Object[] a : arrays) add(set, a);
        return set;
    }

    private static void add(HazardSet set, Object[] slots) {
        if (slots == null) return;
        for (int i = HpGuard.PAD, end = slots.length - HpGuard.PAD; i < end; i++) {
            Object h = SLOT.getAcquire(slots, i);
            if (h != null) set.add(h);
        }
    }

    /** An open-addressing set of the non-zero keys seen by one scan (0 marks an empty cell). */
    private static final class KeySet {
        private final long[] table;
        private final int mask;

        private KeySet(int capacity) {
            int size = Integer.highestOneBit(Math.max(4, capacity * 2 - 1)) << 1;
            table = new long[size];
            mask = size - 1;
        }

        /**
         * Reads every key slot (acquire) of the arrays; null when no slot holds a key. The table is sized from
         * the arrays read, as the identity set is, so it never fills.
         */
        static KeySet of(long[][] arrays) {
            long slots = 0;
            for (long[] ks : arrays) if (ks != null) slots += ks.length - 2L * HpGuard.KPAD;
            if (slots == 0) return null;
            KeySet set = new KeySet((int) Math.min(slots, 1 << 24));
            boolean any = false;
            for (long[] ks : arrays) {
                if (ks == null) continue;
                for (int i = HpGuard.KPAD, end = ks.length - HpGuard.KPAD; i < end; i++) {
                    long key = (long) HpGuard.KEY.getAcquire(ks, i);
                    if (key != 0) {
                        set.add(key);
                        any = true;
                    }
                }
            }
            return any ? set : null;
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

    /** An open-addressing identity set of the hazards seen by one scan (rule M2: identity only). */
    private static final class HazardSet {
        private final Object[] table;
        private final int mask;

        HazardSet(int capacity) {
            int size = Integer.highestOneBit(Math.max(4, capacity * 2 - 1)) << 1;
            table = new Object[size];
            mask = size - 1;
        }

        void add(Object o) {
            int i = mix(System.identityHashCode(o)) & mask;
            while (table[i] != null) {
                if (table[i] == o) return;
                i = (i + 1) & mask;
            }
            table[i] = o;
        }

        boolean contains(Object o) {
            int i = mix(System.identityHashCode(o)) & mask;
            Object t;
            while ((t = table[i]) != null) {
                if (t == o) return true;
                i = (i + 1) & mask;
            }
            return false;
        }

        private static int mix(int h) {
            return h * 0x9E3779B9;
        }
    }

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
}
