package reclaim.impl.ebr;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;
import reclaim.impl.common.Batch;
import reclaim.impl.common.Checks;
import reclaim.impl.common.Reclamation;

/**
 * Epoch-based reclamation, after Fraser's thesis ("Practical lock-freedom", Cambridge, 2004) in the shape of
 * crossbeam-epoch ({@code crossbeam-epoch/src/internal.rs}): a global epoch, per-thread announcements,
 * per-record bags of retired objects sealed with the epoch and queued, and reclamation of a bag two epochs
 * after it was sealed.
 *
 * <p><b>Progress.</b> {@code enter}, {@code close}, {@code protect} and {@code retire} are lock-free (a lease
 * retries only when another thread took the same free record; with no free record a new one is appended);
 * advancing the epoch is wait-free (one pass over the records). <b>Reclamation is blocking</b>: a thread that
 * stays inside a guard freezes the epoch.
 *
 * <p><b>Bound on unreclaimed objects.</b> None while a guard stays open: EBR cannot bound garbage. It detects
 * the stall instead: a guard that holds the epoch back for longer than
 * {@link Scheme.Ebr#stallThresholdNanos()} is counted in {@link Stats#stalled()}. With no guard stalled,
 * an object is reclaimed at most two epoch advances after its bag is sealed; a bag is sealed when it holds
 * {@link Scheme.Ebr#batchSize()} objects or on {@link #flush()}, so at most
 * {@code records × batchSize} objects wait in unsealed bags.
 *
 * <p><b>Happens-before.</b> Actions of a thread before it retires an object happen-before the object's
 * action: the retire is followed by the seal's fence and the queue's publication, and the collector takes
 * the bag from the queue. Every guard that could have loaded the object released its record (a release
 * store) before the collector's acquire read of that record let the epoch advance past it, so the guard's
 * reads happen-before the action too.
 *
 * <p>With {@code leak} set this class is the {@code none} scheme: the same guards, but nothing is reclaimed
 * before {@link #close()} (the leak baseline of the benchmarks).
 */
public final class EbrReclaimer implements Reclaimer {
    /*
     * Overview.
     *
     * Epochs are even longs starting at 2; a record announces "in a guard since epoch e" by holding e|1 in
     * its state word (EbrRecord documents the other states). Records are leased per outermost guard, not
     * per thread: enter() CASes a FREE record to e|1 (the hint remembers which one worked last time), and
     * close() stores FREE back with release semantics. So the registry grows with the number of guards open
     * at once, not with the number of threads that ever entered: thousands of short-lived virtual threads
     * share a handful of records, and a virtual thread that blocks inside a guard keeps its record (it is
     * still the same Thread when it resumes on another carrier). A thread may reserve a record instead
     * (register()): it then pins by CAS HELD -> e|1 and unpins to HELD.
     *
     * The CAS that pins is both the announcement and the full fence of crossbeam's pin(): a volatile
     * read-modify-write, ordered before the guard's later volatile loads of shared links (ALGORITHMS.md R1a).
     * Its counterpart is tryAdvance(): fullFence, then an acquire read of every record; the epoch moves from
     * g to g+2 only if every pinned record announced g. At most one epoch therefore separates the global
     * epoch from any guard's announcement.
     *
     * Retired objects go into the holder's bag. A full bag is sealed: fullFence (orders the unlinks that
     * preceded the retires before the next load), tag = the global epoch, then it is queued. A bag with tag
     * t is reclaimed once the global epoch is >= t + 4 (two advances): a guard that could have loaded one of
     * its objects announced at most t (ALGORITHMS.md §4.3, "tag = the global epoch read after the unlink and
     * a fence"), and the epoch cannot pass t + 2 while such a guard is open.
     *
     * Threads that end while holding a record (registered, or dead inside a guard) are swept: once
     * holder.isAlive() is false, the sweeper re-reads the state and the holder and CASes the state to BUSY,
     * adopts the bag and frees the record. Checking death first is what makes the re-read sound: a dead
     * thread that had released the record cleared the holder before, so the re-read cannot see it again.
     */

    private static final long STEP = 2;
    /** A bag sealed in epoch t is reclaimed when the global epoch reaches t + SAFE_DISTANCE (two advances). */
    private static final long SAFE_DISTANCE = 2 * STEP;
    /** Bags a collection run from enter() or retire() reclaims at most, to bound the latency it adds. */
    private static final int COLLECT_LIMIT = 8;

    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    private final Scheme scheme;
    private final String name;
    private final int batchSize;
    private final int collectInterval;
    private final long stallThresholdNanos;
    private final boolean leak;

    /** The global epoch: even, starting at 2; accessed only through {@code EPOCH}. */
    private long epoch = STEP;
    /** The registry: append-only, copied on growth; accessed only through {@code RECORDS}. */
    private EbrRecord[] records = new EbrRecord[0];
    /** OPEN, CLOSING or CLOSED; accessed only through {@code STATE}. */
    private int state = OPEN;

    /** Sealed bags, oldest first (roughly: racing sealers may interleave); safe to poll from any thread. */
    private final ConcurrentLinkedQueue<Batch> sealed = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<EbrGuard> guards = ThreadLocal.withInitial(() -> new EbrGuard(this, Thread.currentThread()));
    private final Reclamation reclamation;

    // ---- close() ----
    private final Object closeLock = new Object();
    /** The thread running close(); its reclaim actions may still retire (accepted into {@link #late}). */
    private volatile Thread closer;
    /** Objects retired by reclaim actions while close() drains; touched only by the closer. */
    private final List<Batch> late = new ArrayList<>();
    /** Count of {@link #late} retires; written by the closer, read by stats(). */
    private volatile long lateRetired;
    /** Objects retired in all, fixed when close() completes (the records are dropped then); -1 before. */
    private volatile long retiredAtClose = -1;

    private EbrReclaimer(Scheme scheme, int batchSize, int collectInterval, long stallThresholdNanos, boolean leak) {
        this.scheme = scheme;
        this.name = scheme.name();
        this.batchSize = batchSize;
        this.collectInterval = collectInterval;
        this.stallThresholdNanos = stallThresholdNanos;
        this.leak = leak;
        this.reclamation = new Reclamation(name);
    }

    /**
     * Creates an EBR reclaimer.
     *
     * @param scheme the tuning
     * @return a new reclaimer
     */
    public static EbrReclaimer ebr(Scheme.Ebr scheme) {
        return new EbrReclaimer(scheme, scheme.batchSize(), scheme.collectInterval(), scheme.stallThresholdNanos(), false);
    }

    /**
     * Creates the leak baseline: EBR's guards, nothing reclaimed before {@link #close()}.
     *
     * @param scheme the scheme record
     * @return a new reclaimer
     */
    public static EbrReclaimer leak(Scheme.None scheme) {
        Scheme.Ebr defaults = new Scheme.Ebr();
        return new EbrReclaimer(scheme, defaults.batchSize(), Integer.MAX_VALUE, defaults.stallThresholdNanos(), true);
    }

    @Override
    public Scheme scheme() {
        return scheme;
    }

    // =====================================================================================================
    // Guards
    // =====================================================================================================

    @Override
    public Guard enter() {
        EbrGuard g = guards.get();
        if (g.depth != 0) { // nested: only the outermost guard announces
            g.depth++;
            return g;
        }
        pin(g);
        return g;
    }

    /** Announces the current epoch on a record (leased, or the registered one) and opens depth 1. */
    private void pin(EbrGuard g) {
        if (stateOpaque() != OPEN) throw Checks.closed(name);
        long e = epochAcquire();
        EbrRecord rec = g.registered;
        if (rec != null) {
            // Announcement: the CAS is a volatile RMW, so it is ordered before this guard's later volatile
            // loads of shared links (the store-load pair that tryAdvance's fence + reads pairs with).
            if (!rec.casLocal(EbrRecord.HELD, e | 1)) throw Checks.closed(name);
        } else {
            rec = lease(g, e | 1);
        }
        g.record = rec;
        g.depth = 1;
        if (++rec.pins >= collectInterval) {
            rec.pins = 0;
            collect(COLLECT_LIMIT);
        }
    }

    /** Closes the outermost guard of {@code g}: the release store hands the record (and its bag) on. */
    void unpin(EbrGuard g) {
        EbrRecord rec = g.record;
        if (rec == g.registered) {
            // Release: this guard's reads happen-before an advancer's acquire read of HELD.
            rec.setLocalRelease(EbrRecord.HELD);
        } else {
            g.record = null;
            rec.setHolderOpaque(null); // before the release: a sweeper that sees FREE (or a later lease) cannot see us
            rec.setLocalRelease(EbrRecord.FREE);
        }
    }

    /**
     * Takes a FREE record by CAS to {@code value} (an announcement, or BUSY), starting at the hint; appends a
     * new record if none is free.
     */
    private EbrRecord lease(EbrGuard g, long value) {
        EbrRecord[] recs = recordsAcquire();
        int n = recs.length;
        int idx = Math.floorMod(g.hint, Math.max(n, 1));
        for (int i = 0; i < n; i++) {
            EbrRecord r = recs[idx];
            // The opaque pre-check avoids a failing CAS (a locked instruction) on a record in use.
            if (r.localOpaque() == EbrRecord.FREE && r.casLocal(EbrRecord.FREE, value)) {
                r.setHolderOpaque(g.thread);
                g.hint = idx;
                return r;
            }
            if (++idx == n) idx = 0;
        }
        return append(g, value);
    }

    /** Appends a record already in state {@code value}, held by {@code g}'s thread. */
    private EbrRecord append(EbrGuard g, long value) {
        EbrRecord r = new EbrRecord(value, g.thread, batchSize);
        while (true) {
            EbrRecord[] cur = recordsAcquire();
            EbrRecord[] next = Arrays.copyOf(cur, cur.length + 1);
            next[cur.length] = r;
            // Volatile RMW: publishes the record with its state, and is the announcement's store for the
            // Dekker pair with tryAdvance (which reads the registry after its fence).
            if (casRecords(cur, next)) {
                g.hint = cur.length;
                break;
            }
        }
        // Store-load pair with close(): we published the record (volatile) and now read the state (volatile);
        // close() writes the state and then reads the registry. One of us sees the other.
        if (stateVolatile() != OPEN) {
            r.setHolderOpaque(null);
            r.setLocalRelease(EbrRecord.FREE); // a later close() takes it
            throw Checks.closed(name);
        }
        return r;
    }

    // =====================================================================================================
    // Retire
    // =====================================================================================================

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        Objects.requireNonNull(object, "object");
        Objects.requireNonNull(action, "action");
        if (stateOpaque() != OPEN && closer == Thread.currentThread()) { // a reclaim action run by close()
            retireLate(object, action);
            return;
        }
        EbrGuard g = guards.get();
        if (g.depth != 0) {
            retireInto(g.record, object, action);
            return;
        }
        pin(g);
        try {
            retireInto(g.record, object, action);
        } finally {
            g.depth = 0;
            unpin(g);
        }
    }

    /** Adds to the bag of a record the caller holds; seals and collects when the bag is full. */
    void retireInto(EbrRecord rec, Object object, Consumer<?> action) {
        rec.countRetired();
        if (rec.bag.add(object, action)) {
            seal(rec);
            collect(COLLECT_LIMIT);
        }
    }

    /**
     * Seals the bag of a record the caller holds: tags it with the epoch read after a full fence and queues
     * it. The caller owns the record (holds it pinned, HELD by itself, or BUSY).
     */
    private void seal(EbrRecord rec) {
        Batch bag = rec.bag;
        if (bag.isEmpty()) return;
        rec.bag = new Batch(batchSize);
        // Orders the unlinks that preceded these retires (stores) before the epoch load below: a tag read too
        // early could be too old, and the bag reclaimed one epoch too soon (crossbeam pushBag's fence).
        VarHandle.fullFence();
        bag.tag(epochVolatile());
        sealed.add(bag); // publication to the collector (a volatile write inside the queue)
    }

    private void retireLate(Object object, Consumer<?> action) {
        Batch b = late.isEmpty() ? null : late.get(late.size() - 1);
        if (b == null || b.size() == batchSize) late.add(b = new Batch(batchSize));
        b.add(object, action);
        lateRetired = lateRetired + 1; // closer only
    }

    // =====================================================================================================
    // Epoch advance and collection
    // =====================================================================================================

    /**
     * Tries to advance the epoch by one step.
     *
     * @return a value the global epoch has reached (the new one if this call or a racing one advanced)
     */
    private long tryAdvance() {
        long g = epochVolatile();
        // Reclaimer side of the Dekker pair with pin: orders this thread's earlier stores (unlinks, seals)
        // before the loads of the announcements below.
        VarHandle.fullFence();
        long now = 0;
        for (EbrRecord r : recordsAcquire()) {
            // Acquire: a guard's reads, before its release of the record, happen-before our reclamation.
            long l = r.localAcquire();
            if (EbrRecord.pinned(l) && (l & ~1L) != g) {
                if (sweepIfDead(r)) continue;
                if (now == 0) now = System.nanoTime();
                r.noteLag(l, now);
                return g;
            }
        }
        if (casEpoch(g, g + STEP)) return g + STEP;
        return epochAcquire(); // a racing advancer moved it
    }

    /** Advances if it can, then reclaims at most {@code limit} bags that are two epochs old. */
    private void collect(int limit) {
        if (leak) return;
        long g = tryAdvance();
        for (int n = 0; n < limit; n++) {
            Batch b = sealed.peek();
            if (b == null || g - b.tag() < SAFE_DISTANCE) return;
            b = sealed.poll();
            if (b == null) return;
            if (g - b.tag() < SAFE_DISTANCE) { // a racing collector took the old one; this one is too young
                sealed.add(b);
                return;
            }
            reclamation.run(b);
        }
    }

    @Override
    public void flush() {
        EbrGuard g = guards.get();
        if (g.depth != 0) {
            // Inside a guard our own announcement holds the epoch: seal what we retired, reclaim what is due.
            seal(g.record);
            sealIdle(g.thread);
            if (!leak) collect(Integer.MAX_VALUE);
            return;
        }
        if (stateOpaque() != OPEN) throw Checks.closed(name);
        EbrRecord own = g.registered;
        EbrRecord rec;
        if (own != null) {
            if (!own.casLocal(EbrRecord.HELD, EbrRecord.BUSY)) throw Checks.closed(name);
            rec = own;
        } else {
            rec = lease(g, EbrRecord.BUSY);
        }
        try {
            seal(rec);
            sealIdle(g.thread);
            if (!leak) {
                tryAdvance();
                tryAdvance();
                collect(Integer.MAX_VALUE);
            }
        } finally {
            if (rec == own) {
                rec.setLocalRelease(EbrRecord.HELD);
            } else {
                rec.setHolderOpaque(null);
                rec.setLocalRelease(EbrRecord.FREE);
            }
        }
    }

    /** Seals the bags of free records (taking each by CAS to BUSY) and of records whose thread has ended. */
    private void sealIdle(Thread self) {
        for (EbrRecord r : recordsAcquire()) {
            long l = r.localAcquire();
            if (l == EbrRecord.FREE) {
                if (r.casLocal(EbrRecord.FREE, EbrRecord.BUSY)) {
                    r.setHolderOpaque(self);
                    seal(r);
                    r.setHolderOpaque(null);
                    r.setLocalRelease(EbrRecord.FREE);
                }
            } else if (l != EbrRecord.CLOSED) {
                sweepIfDead(r);
            }
        }
    }

    /**
     * If the record's holder has ended, takes the record (CAS to BUSY), adopts its bag and frees it.
     *
     * @return whether the record was swept (and is no longer pinned)
     */
    private boolean sweepIfDead(EbrRecord r) {
        Thread h = r.holderOpaque();
        if (h == null || h.isAlive()) return false;
        // h has ended, and its end happens-before this point (JLS 17.4.4). If it released the record, it
        // cleared the holder first, so the re-read below sees null or a later holder, never h again.
        long l = r.localAcquire();
        if (l == EbrRecord.FREE || l == EbrRecord.CLOSED || r.holderOpaque() != h) return false;
        if (!r.casLocal(l, EbrRecord.BUSY)) return false;
        seal(r);
        r.setHolderOpaque(null);
        r.setLocalRelease(EbrRecord.FREE);
        return true;
    }

    // =====================================================================================================
    // Registration, stats, era
    // =====================================================================================================

    @Override
    public Registration register() {
        EbrGuard g = guards.get();
        if (g.registered != null) throw new IllegalStateException("this thread is already registered with this reclaimer");
        if (g.depth != 0) throw new IllegalStateException("register() inside a guard: register before entering");
        if (stateOpaque() != OPEN) throw Checks.closed(name);
        EbrRecord rec = lease(g, EbrRecord.HELD);
        g.registered = rec;
        return new EbrRegistration(g, rec);
    }

    /** Ends a registration (called on the registering thread, outside a guard). */
    void deregister(EbrGuard g, EbrRecord rec) {
        if (g.registered != rec) return; // already closed
        if (g.depth != 0) throw new IllegalStateException("cannot deregister inside a guard: close the guard first");
        g.registered = null;
        if (!rec.casLocal(EbrRecord.HELD, EbrRecord.BUSY)) return; // the reclaimer closed it
        seal(rec); // hand what we retired to the others
        rec.setHolderOpaque(null);
        rec.setLocalRelease(EbrRecord.FREE);
    }

    @Override
    public Stats stats() {
        long g = epochVolatile();
        long now = System.nanoTime();
        int stalled = 0;
        EbrRecord[] recs = recordsAcquire();
        long retired = retiredAtClose >= 0 ? retiredAtClose : retiredSoFar(recs);
        for (EbrRecord r : recs) {
            long l = r.localAcquire();
            if (EbrRecord.pinned(l) && (l & ~1L) != g) {
                r.noteLag(l, now); // starts the clock if no advancer saw this lag yet
                if (r.laggingSince(l, now - stallThresholdNanos)) stalled++;
            }
        }
        long reclaimed = reclamation.reclaimed();
        // Read reclaimed after retired: an object counted reclaimed was counted retired before, so a
        // snapshot never shows more reclaimed than retired.
        return new Stats(name, Math.max(retired, reclaimed), reclaimed, reclamation.failed(), stalled, recs.length);
    }

    private long retiredSoFar(EbrRecord[] recs) {
        long retired = lateRetired;
        for (EbrRecord r : recs) retired += r.retiredOpaque();
        return retired;
    }

    @Override
    public long era() {
        return epochAcquire() >>> 1;
    }

    @Override
    public boolean isClosed() {
        return stateVolatile() == CLOSED;
    }

    // =====================================================================================================
    // Close
    // =====================================================================================================

    @Override
    public void close() {
        synchronized (closeLock) {
            if (stateVolatile() == CLOSED) return;
            Thread self = Thread.currentThread();
            // Store-load pair with append(): state (volatile) then the registry (volatile) below.
            setStateVolatile(CLOSING);
            closer = self;
            try {
                int open = 0;
                for (EbrRecord r : recordsVolatile()) {
                    if (!closeRecord(r, self)) open++;
                }
                if (open > 0) {
                    throw new IllegalStateException(open + " guard(s) of this " + name + " reclaimer are still open: "
                            + "it accepts no new guards; close them, then call close() again to reclaim everything");
                }
                // Every record is CLOSED: no guard is open and none can open. Reclaim everything.
                Batch b;
                while ((b = sealed.poll()) != null) reclamation.run(b);
                while (!late.isEmpty()) { // actions may retire more while they run: detach, then run
                    List<Batch> batches = new ArrayList<>(late);
                    late.clear();
                    for (Batch lb : batches) reclamation.run(lb);
                }
                retiredAtClose = retiredSoFar(recordsVolatile());
                setStateVolatile(CLOSED);
                // The thread-local guards of other threads keep this object reachable until those threads
                // end (a ThreadLocal value refers to its own key); drop what is large.
                setRecordsVolatile(new EbrRecord[0]);
                guards.remove();
            } finally {
                closer = null;
            }
        }
    }

    /**
     * Takes a record for good: seals its bag and marks it CLOSED.
     *
     * @return false if a guard still holds it
     */
    private boolean closeRecord(EbrRecord r, Thread self) {
        sweepIfDead(r);
        while (true) {
            long l = r.localAcquire();
            if (l == EbrRecord.CLOSED) return true;
            if (l == EbrRecord.FREE || l == EbrRecord.HELD) {
                if (r.casLocal(l, EbrRecord.BUSY)) {
                    seal(r);
                    r.setHolderOpaque(null);
                    r.setLocalRelease(EbrRecord.CLOSED);
                    return true;
                }
            } else if (l == EbrRecord.BUSY) {
                if (r.holderOpaque() == self) return false; // close() from a reclaim action run by our own flush()
                Thread.onSpinWait(); // a flush in progress on another thread: it releases when done
            } else {
                return false; // pinned
            }
        }
    }

    @Override
    public String toString() {
        return "EbrReclaimer[" + scheme + ", epoch " + epochAcquire() + ", " + recordsAcquire().length + " records]";
    }

    // =====================================================================================================
    // VarHandles
    // =====================================================================================================

    private long epochAcquire() {
        return (long) EPOCH.getAcquire(this);
    }

    private long epochVolatile() {
        return (long) EPOCH.getVolatile(this);
    }

    private boolean casEpoch(long expected, long update) {
        return EPOCH.compareAndSet(this, expected, update);
    }

    private EbrRecord[] recordsAcquire() {
        return (EbrRecord[]) RECORDS.getAcquire(this);
    }

    private EbrRecord[] recordsVolatile() {
        return (EbrRecord[]) RECORDS.getVolatile(this);
    }

    private void setRecordsVolatile(EbrRecord[] value) {
        RECORDS.setVolatile(this, value);
    }

    private boolean casRecords(EbrRecord[] expected, EbrRecord[] update) {
        return RECORDS.compareAndSet(this, expected, update);
    }

    private int stateOpaque() {
        return (int) STATE.getOpaque(this);
    }

    private int stateVolatile() {
        return (int) STATE.getVolatile(this);
    }

    private void setStateVolatile(int value) {
        STATE.setVolatile(this, value);
    }

    private static final VarHandle EPOCH;
    private static final VarHandle RECORDS;
    private static final VarHandle STATE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            EPOCH = l.findVarHandle(EbrReclaimer.class, "epoch", long.class);
            RECORDS = l.findVarHandle(EbrReclaimer.class, "records", EbrRecord[].class);
            STATE = l.findVarHandle(EbrReclaimer.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
