package reclaim.impl.common;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * The skeleton shared by the schemes whose readers <em>announce</em> a clock value in a record while they
 * may hold references: EBR (the epoch; {@code reclaim.impl.ebr}), QSBR (the grace-period counter;
 * {@code reclaim.impl.qsbr}) and the {@code none} baseline. It owns the records and their leases, the
 * retire bags, sealing, the queue of sealed bags, flush, close, the sweeping of records whose thread ended,
 * and stall detection. A subclass says what a reader announces, how the clock advances and which sealed
 * bags are safe to reclaim.
 *
 * <p><b>Progress.</b> {@code enter}, {@code close}, {@code protect} and {@code retire} are lock-free (a lease
 * retries only when another thread took the same free record; with no free record a new one is appended).
 * Reclamation is blocking: a reader that stays announced holds back everything retired after it announced;
 * the subclass reports it through {@link #holdsBack(long, long)} and {@link Stats#stalled()} counts it.
 *
 * <p><b>Happens-before.</b> Actions of a thread before it retires an object happen-before the object's
 * action: the retire is followed by the seal's fence and the queue's publication, and the collector takes
 * the bag from the queue. A reader releases its record (a release store) when its guard closes; the
 * collector reads every record with acquire semantics before it decides a bag is safe, so the reader's reads
 * happen-before the reclaim actions.
 */
public abstract class AnnouncingReclaimer implements Reclaimer {
    /*
     * Overview.
     *
     * A record's state word (AnnouncementRecord documents its states) is positive while its holder
     * announces a clock value: it may hold references read since then. Records are leased per outermost
     * guard, not per thread: enter() CASes a FREE record to announcement() (the hint remembers which one
     * worked last time), and close() stores FREE back with release semantics. So the registry grows with the
     * number of guards open at once, not with the number of threads that ever entered: thousands of
     * short-lived virtual threads share a handful of records, and a virtual thread that blocks inside a guard
     * keeps its record (it is still the same Thread when it resumes on another carrier). A thread may reserve
     * a record instead (register()); what it announces between guards is the subclass's business
     * (enterRegistered/exitRegistered).
     *
     * The CAS that announces is also the store-load fence the protocol needs: a volatile read-modify-write,
     * ordered before the guard's later volatile loads of shared links (ALGORITHMS.md R1a). Its counterpart
     * is the collector: a full fence (or a volatile RMW of the clock), then an acquire read of every record.
     *
     * Retired objects go into the holder's bag. A full bag is sealed: fullFence (orders the unlinks that
     * preceded the retires before the next load), tag = tagNow(), then it is queued. collect() asks the
     * subclass for the bound below which tags are safe (reclaimableBelow(), which may advance the clock) and
     * reclaims the queued bags under it.
     *
     * Threads that end while holding a record (registered, or dead inside a guard) are swept: once
     * holder.isAlive() is false, the sweeper re-reads the state and the holder and CASes the state to BUSY,
     * adopts the bag and frees the record. Checking death first is what makes the re-read sound: a dead
     * thread that had released the record cleared the holder before, so the re-read cannot see it again.
     */

    /** Bags a collection run from enter() or retire() reclaims at most, to bound the latency it adds. */
    protected static final int COLLECT_LIMIT = 8;
    /** The limit flush() passes to {@link #collect(int)}: everything that is due. */
    protected static final int COLLECT_ALL = Integer.MAX_VALUE;

    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    private final Scheme scheme;
    /** The scheme's short name, for messages and stats. */
    protected final String name;
    private final int batchSize;
    private final int collectInterval;
    private final long stallThresholdNanos;
    /** Guards that touch no shared word on enter: sticky records for platform threads (see the constructor). */
    private final boolean stickyGuards;
    /** Sealed bags stay on their record until collected, instead of the shared queue (see the constructor). */
    private final boolean sealPerRecord;

    /** The registry: append-only, wait-free append ({@link Registry}); replaced by an empty one at close. */
    private volatile Registry registry = new Registry();
    /** OPEN, CLOSING or CLOSED; accessed only through {@code STATE}. */
    private int state = OPEN;

    /** Sealed bags, oldest first (roughly: racing sealers may interleave); safe to poll from any thread. */
    private final ConcurrentLinkedQueue<Batch> sealed = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<AnnouncingGuard> guards = ThreadLocal.withInitial(this::initialGuard);
    /**
     * A cache in front of {@link #guards}: platform threads' guards by thread id modulo its length, so that
     * finding the calling thread's guard is an array load, a compare of the id and a load of the referent,
     * instead of a thread-local probe. Thread ids are never reused, so an entry with the caller's id holds the
     * caller's guard, which the caller's thread local (and its own record, if it holds one) keeps strongly
     * reachable while the thread lives. Entries are weak: a thread that ended leaves nothing reachable here (its
     * guard, its Thread, the Thread's task and context class loader are collected as if the cache were not
     * there). Plain reads and writes of the slots: the entry's id is final, so a racing reader sees it
     * initialised (the referent is not final, but another thread reads it only to decide whether the slot is
     * vacated: a stale answer costs that slot, nothing else), and a lost install only costs a thread-local
     * lookup. If a thread's thread locals are reset while it lives, {@link #initialGuard} finds its guard again
     * through its sticky record. Virtual threads are not cached (there are too many; they keep the thread-local path).
     */
    private volatile CachedGuard[] guardCache = new CachedGuard[GUARD_CACHE];
    private static final int GUARD_CACHE = 256;
    /** Objects in {@link #sealed}, maintained on seal, poll and requeue. */
    private long sealedObjects; // through SEALED only (a field, not an AtomicLong: one load fewer per enter)
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

    /**
     * Creates the skeleton.
     *
     * @param scheme the scheme record (for {@link #scheme()} and messages)
     * @param batchSize objects per bag
     * @param collectInterval guards between two collections on a record ({@code Integer.MAX_VALUE}: never)
     * @param stallThresholdNanos how long a record may hold reclamation back before it counts as stalled
     */
    protected AnnouncingReclaimer(Scheme scheme, int batchSize, int collectInterval, long stallThresholdNanos) {
        this(scheme, batchSize, collectInterval, stallThresholdNanos, false);
    }

    /**
     * Creates the skeleton, optionally for guards that touch no shared word on enter (hazard pointers,
     * Crystalline: what a guard holds is published by its protects). Then a platform thread keeps a sticky
     * record from its first guard until it ends, the registered owner's enter and exit leave the state word
     * alone, and retire takes the owner's record (CAS to BUSY) to touch its bag; virtual threads still lease a
     * record per outermost guard.
     *
     * @param scheme the scheme record (for {@link #scheme()} and messages)
     * @param batchSize objects per bag
     * @param collectInterval guards between two collections on a record ({@code Integer.MAX_VALUE}: never)
     * @param stallThresholdNanos how long a record may hold reclamation back before it counts as stalled
     * @param stickyGuards whether guards publish nothing on enter (see above)
     */
    protected AnnouncingReclaimer(Scheme scheme, int batchSize, int collectInterval, long stallThresholdNanos,
            boolean stickyGuards) {
        this(scheme, batchSize, collectInterval, stallThresholdNanos, stickyGuards, false);
    }

    /**
     * Creates the skeleton, optionally sealing per record: a sealed bag is pushed on a stack kept in its record
     * (by the record's holder, wait-free: {@link AnnouncementRecord}) instead of the shared queue (a lock-free
     * CAS loop), and collectors take whole stacks ({@link #takeSealed}); a retirer that finds its own record
     * held for a moment by a flush does not wait for it but hands its object over at once
     * ({@link #insertAside}). What Crystalline-W needs for a wait-free retire. Bags are then not collected in
     * sealing order: only for schemes whose collection does not depend on it.
     *
     * @param scheme the scheme record
     * @param batchSize objects per bag
     * @param collectInterval guards between two collections on a record
     * @param stallThresholdNanos stall threshold
     * @param stickyGuards whether guards publish nothing on enter
     * @param sealPerRecord whether sealed bags stay on their records (see above)
     */
    protected AnnouncingReclaimer(Scheme scheme, int batchSize, int collectInterval, long stallThresholdNanos,
            boolean stickyGuards, boolean sealPerRecord) {
        this.stickyGuards = stickyGuards;
        this.sealPerRecord = sealPerRecord;
        this.scheme = scheme;
        this.name = scheme.name();
        this.batchSize = batchSize;
        this.collectInterval = collectInterval;
        this.stallThresholdNanos = stallThresholdNanos;
        this.reclamation = new Reclamation(name);
    }

    // =====================================================================================================
    // What a scheme decides
    // =====================================================================================================

    /**
     * Returns what a guard announces now (read the clock with acquire semantics); positive.
     *
     * @return the announcement
     */
    protected abstract long announcement();

    /**
     * Returns the tag of a bag sealed now; called after a full fence that follows the retires.
     *
     * @return the tag (read with volatile semantics)
     */
    protected abstract long tagNow();

    /**
     * Advances the clock if the scheme can, and returns the bound below which sealed bags are safe: a bag
     * with {@code tag < bound} is reclaimed. Use {@link #records()} and {@link #sweepIfDead} to scan.
     *
     * @return the bound; {@code Long.MIN_VALUE} if nothing is safe
     */
    protected abstract long reclaimableBelow();

    /**
     * Advances the clock as far as it can go now, before flush() reclaims: with no guard open, far enough.
     * Called outside any guard of the flushing thread.
     *
     * @param g the flushing thread's guard (registered or not)
     */
    protected abstract void advanceForFlush(AnnouncingGuard g);

    /**
     * Returns the state the registered record of {@code g} is in while its owner is outside every guard: HELD
     * by default; QSBR's online executors announce their last quiescent state instead.
     *
     * @param g a registered thread's guard
     * @return the owner's idle state
     */
    protected long idleState(AnnouncingGuard g) {
        return AnnouncementRecord.HELD;
    }

    /**
     * CASes the registered record of {@code g} from its owner's idle state to {@code update}, waiting while
     * another thread holds it BUSY for a moment (a flush sealing its bag).
     *
     * @param g a registered thread's guard, called on that thread outside every guard
     * @param update the new state
     * @return false if the reclaimer closed the record
     */
    protected final boolean claimOwn(AnnouncingGuard g, long update) {
        AnnouncementRecord r = g.registered;
        long idle = idleState(g);
        while (true) {
            if (r.casStateVolatile(idle, update)) return true;
            long s = r.stateVolatile();
            if (s == AnnouncementRecord.CLOSED) return false;
            if (s == idle) continue; // the seal that held it BUSY ended between our CAS and this read
            if (s != AnnouncementRecord.BUSY) {
                throw new IllegalStateException("internal error: registered record in state " + s + ", expected " + idle);
            }
            Thread.onSpinWait(); // another thread seals our bag: it holds no lock and runs no user code meanwhile
        }
    }

    /**
     * Returns whether sealed bags stay on their records (the constructor's {@code sealPerRecord}).
     *
     * @return true with per-record sealing
     */
    protected final boolean sealsPerRecord() {
        return sealPerRecord;
    }

    /** {@link #tryClaimOwn}: the record is now the caller's. */
    protected static final int CLAIMED = 0;
    /** {@link #tryClaimOwn}: the reclaimer closed the record. */
    protected static final int CLAIM_CLOSED = 1;
    /** {@link #tryClaimOwn}: another thread holds the record for a moment (a flush sealing its bag). */
    protected static final int CLAIM_BUSY = 2;

    /**
     * Tries once (twice if the first CAS lost to a seal that just ended) to CAS the registered record of
     * {@code g} from its owner's idle state to {@code update}: wait-free.
     *
     * @param g a registered thread's guard, called on that thread outside every guard
     * @param update the new state
     * @return {@link #CLAIMED}, {@link #CLAIM_CLOSED} or {@link #CLAIM_BUSY}
     */
    protected final int tryClaimOwn(AnnouncingGuard g, long update) {
        AnnouncementRecord r = g.registered;
        long idle = idleState(g);
        for (int attempt = 0; attempt < 2; attempt++) {
            if (r.casStateVolatile(idle, update)) return CLAIMED;
            long s = r.stateVolatile();
            if (s == AnnouncementRecord.CLOSED) return CLAIM_CLOSED;
            if (s == AnnouncementRecord.BUSY) return CLAIM_BUSY;
            if (s != idle) {
                throw new IllegalStateException("internal error: registered record in state " + s + ", expected " + idle);
            }
        }
        return CLAIM_BUSY; // held and released twice meanwhile: as good as busy
    }

    /**
     * Hands over a bag of one object retired while its owner's record was held by another thread (per-record
     * sealing only): the bag is sealed (tagged) already. The default queues it.
     *
     * @param b the bag, owned by the caller
     */
    protected void insertAside(Batch b) {
        addSealed(b.size());
        sealed.add(b);
    }

    /**
     * Takes every bag sealed on the records (per-record sealing), newest first per record, and gives each to
     * {@code sink}; returns how many. Bounded: one read per record and one swap per record that has bags.
     *
     * @param sink receives each bag, now owned by it
     * @return the number of bags taken
     */
    protected final int takeSealed(java.util.function.Consumer<Batch> sink) {
        int n = 0;
        for (AnnouncementRecord r : records()) {
            for (AnnouncementRecord.SealedNode x = r.takeSealed(); x != null; x = x.next()) {
                addSealed(-x.batch().size());
                sink.accept(x.batch());
                n++;
            }
        }
        return n;
    }

    /**
     * Returns whether a record in state {@code state} (positive: announced) holds reclamation back.
     *
     * @param state the record's state
     * @param clock the clock as read by the caller
     * @return true if it keeps sealed bags from becoming safe
     */
    protected abstract boolean holdsBack(long state, long clock);

    /**
     * Returns the clock, for stall detection.
     *
     * @return the current clock value
     */
    protected abstract long clock();

    /**
     * The thread local's initial value: the guard of the thread's sticky record if it has one (a thread whose
     * thread locals were reset while it lives, as the common pool's workers' are whenever they go idle, keeps
     * its guard and record instead of leaking the record and starting over), else a new guard. One pass over
     * the records, once per thread (and per reset). An explicit registration is not taken over: whoever
     * registered holds its {@code Registration} (and with it that guard) and, if its own thread-local state was
     * reset too, registers again, which must not fail.
     */
    private AnnouncingGuard initialGuard() {
        Thread t = Thread.currentThread();
        if (!t.isVirtual()) {
            for (AnnouncementRecord r : records()) {
                AnnouncingGuard own = r.owner;
                if (own != null && own.thread == t && own.sticky && own.registered == r) return own;
            }
        }
        return newGuard(t);
    }

    /**
     * Creates the per-thread guard (once per thread and reclaimer). Schemes whose {@code protect} does more
     * than a volatile load return a subclass.
     *
     * @param thread the thread the guard belongs to
     * @return the guard
     */
    protected AnnouncingGuard newGuard(Thread thread) {
        return new AnnouncingGuard(this, thread);
    }

    /**
     * Called when the outermost guard of {@code g} has opened on its record (depth 1). The default does
     * nothing.
     *
     * @param g the guard
     */
    protected void entered(AnnouncingGuard g) {}

    /**
     * Called when the outermost guard of {@code g} closes, before its record is released (or, for a
     * registered thread, before {@link #exitRegistered}). It must not run user code (reclaim actions): it
     * detaches what the guard held and returns it; {@link #left} walks it once the record is released, when
     * an action may enter guards and retire again. The default detaches nothing.
     *
     * @param g the guard
     * @return what was detached, for {@link #left}, or null
     */
    protected Object leaving(AnnouncingGuard g) {
        return null;
    }

    /**
     * Walks what {@link #leaving} detached, after the guard's record was released: may run reclaim actions.
     * The default does nothing.
     *
     * @param detached what {@code leaving} returned (not null)
     */
    protected void left(Object detached) {}

    /**
     * Called on a record whose thread ended, after its bag was adopted and before it is freed: detaches what
     * the dead thread's guard held (no user code) and returns it for {@link #left}. The default detaches
     * nothing.
     *
     * @param r the record
     * @return what was detached, or null
     */
    protected Object swept(AnnouncementRecord r) {
        return null;
    }

    /**
     * Returns whether {@code g}'s thread keeps a record between its guards without registering (a sticky
     * record, reserved on its first guard and freed when the thread ends). With sticky guards: platform threads.
     *
     * @param g the guard
     * @return true to reserve a record for the thread
     */
    protected boolean stickyRecord(AnnouncingGuard g) {
        return stickyGuards && !g.thread.isVirtual();
    }

    /**
     * Returns whether the registered owner must take its record (CAS to BUSY) to touch its bag: true with
     * sticky guards, which leave the state word alone on enter, so that a concurrent flush, which seals idle
     * registered records' bags, never shares the bag with the owner.
     *
     * @return true if retire claims the owner's record
     */
    protected final boolean claimToRetire() {
        return stickyGuards;
    }

    /**
     * Returns whether a record that is FREE or HELD is still in use by a guard the scheme can see (Crystalline:
     * an active reservation); close() counts it as open. Default: false.
     *
     * @param r the record
     * @return true if a guard still uses it
     */
    protected boolean inUse(AnnouncementRecord r) {
        return false;
    }

    /**
     * Opens the outermost guard of a registered thread, whose reserved record is {@code g.registered}.
     * The default announces by CAS from HELD, as an unregistered guard does (with sticky guards: nothing).
     *
     * @param g the guard
     */
    protected void enterRegistered(AnnouncingGuard g) {
        if (stickyGuards) return; // the record stays HELD: what the guard holds is published by its protects
        if (!claimOwn(g, announcement())) throw Checks.closed(name);
    }

    /**
     * Closes the outermost guard of a registered thread. The default stores HELD with release semantics
     * (with sticky guards: nothing).
     *
     * @param g the guard
     */
    protected void exitRegistered(AnnouncingGuard g) {
        if (stickyGuards) return; // the state word was never changed (and a flush may hold it BUSY right now)
        g.registered.setStateRelease(AnnouncementRecord.HELD);
    }

    // =====================================================================================================
    // Guards
    // =====================================================================================================

    @Override
    public Scheme scheme() {
        return scheme;
    }

    /** Returns the calling thread's guard: from the cache, else from the thread local (and then cached). */
    private AnnouncingGuard guard() {
        Thread t = Thread.currentThread();
        long id = t.threadId();
        int i = (int) id & (GUARD_CACHE - 1);
        CachedGuard c = guardCacheOpaque()[i];
        if (c != null && c.threadId == id) {
            AnnouncingGuard g = c.get();
            // The thread local is the truth and the cache mirrors it, except where the two may differ: the
            // guard of an explicit registration, which a reset of the thread's thread locals does not carry over
            // (see initialGuard); such a thread enters fastest through Registration.enter() anyway.
            if (g != null && (g.sticky || g.registered == null)) return g;
        }
        return guardMiss(t, i, c);
    }

    private AnnouncingGuard guardMiss(Thread t, int i, CachedGuard cached) {
        AnnouncingGuard g = guards.get();
        if (!t.isVirtual() && (cached == null || cached.vacated())) guardCacheOpaque()[i] = new CachedGuard(g, t.threadId());
        return g;
    }

    /** The cache array, read without ordering: replaced only by close(), after which a stale one is harmless. */
    private CachedGuard[] guardCacheOpaque() {
        return (CachedGuard[]) GUARD_CACHE_ARRAY.getOpaque(this);
    }

    /** A weak cache entry: the guard and its thread's id. */
    private static final class CachedGuard extends WeakReference<AnnouncingGuard> {
        final long threadId;

        CachedGuard(AnnouncingGuard g, long threadId) {
            super(g);
            this.threadId = threadId;
        }

        /** Whether the slot may be taken: the guard was collected or its thread ended. */
        boolean vacated() {
            AnnouncingGuard g = get();
            return g == null || !g.thread.isAlive();
        }
    }

    @Override
    public final Guard enter() {
        return enter(guard());
    }

    /** Opens {@code g}, the calling thread's guard (found by {@link #enter()} or held by a registration). */
    final Guard enter(AnnouncingGuard g) {
        if (g.depth != 0) { // nested: only the outermost guard announces
            g.depth++;
            return g;
        }
        pin(g);
        return g;
    }

    /** Announces on a record (leased, or the registered one) and opens depth 1. */
    private void pin(AnnouncingGuard g) {
        AnnouncementRecord rec = g.registered;
        if (rec != null && stateOpaque() == OPEN) { // the common case, kept small enough to inline: a held record
            enterRegistered(g);
            opened(g, rec);
            return;
        }
        pinSlow(g);
    }

    /** pin() for a thread without a held record yet, or on a reclaimer that is closing. */
    private void pinSlow(AnnouncingGuard g) {
        if (stateOpaque() != OPEN) {
            if (closer == Thread.currentThread()) {
                // A reclaim action run by close(): nothing else is reclaimed meanwhile (close drains on this
                // thread, one action at a time), so the guard needs no record; its retires go to the late list.
                g.record = null;
                g.depth = 1;
                return;
            }
            throw Checks.closed(name);
        }
        AnnouncementRecord rec = g.registered;
        if (rec == null && stickyRecord(g)) { // a sticky record: reserved once, like a registration
            rec = lease(g, AnnouncementRecord.HELD);
            g.own(rec);
            g.sticky = true;
        }
        if (rec != null) {
            enterRegistered(g);
        } else {
            // Announcement: the CAS is a volatile RMW, so it is ordered before this guard's later volatile
            // loads of shared links (the store-load pair that the collector's fence + reads pairs with).
            rec = lease(g, announcement());
        }
        opened(g, rec);
    }

    /** Opens depth 1 on {@code rec}, now announced; every collectInterval-th guard on a record collects. */
    private void opened(AnnouncingGuard g, AnnouncementRecord rec) {
        g.record = rec;
        g.depth = 1;
        entered(g);
        if (collectDue(rec)) collectOnEnter(g, rec);
    }

    /**
     * Returns whether the guard being opened on {@code rec} collects first. The default: every
     * {@code collectInterval}-th guard on a record (a count in the record, which the holder alone touches), and
     * never, with no count kept, when the interval is {@code Integer.MAX_VALUE}.
     *
     * @param rec the record the guard holds
     * @return true to collect now
     */
    protected boolean collectDue(AnnouncementRecord rec) {
        return collectInterval != Integer.MAX_VALUE && ++rec.pins >= collectInterval;
    }

    /**
     * Returns whether sealed bags wait to be collected (in the shared queue or on records' stacks): an opaque
     * read of a counter that changes only when a bag is sealed or taken, so polling it on every enter costs a
     * load from a line that stays cached. It may read true for a moment before the bag is published, or false
     * for a moment after (opaque: eventually up to date), which only moves a collection by a guard or two.
     *
     * @return true if bags were sealed and not yet taken
     */
    protected final boolean sealedWaiting() {
        return (long) SEALED.getOpaque(this) != 0;
    }

    private void collectOnEnter(AnnouncingGuard g, AnnouncementRecord rec) {
        rec.pins = 0;
        try {
            collect(COLLECT_LIMIT); // actions are contained; only our own bookkeeping could throw here
        } catch (RuntimeException | Error e) {
            g.depth = 0;
            unpin(g);
            throw e;
        }
    }

    /**
     * Closes the outermost guard of {@code g}: the release store hands the record (and its bag) on.
     *
     * @param g the guard whose depth just reached 0
     */
    void unpin(AnnouncingGuard g) {
        AnnouncementRecord rec = g.record; // read first: nothing below may change it before the release
        if (rec == null) return; // a guard opened by a reclaim action during close()
        Object detached = leaving(g);
        if (rec == g.registered) {
            exitRegistered(g);
        } else {
            g.record = null;
            rec.setHolderOpaque(null); // before the release: a sweeper that sees FREE (or a later lease) cannot see us
            rec.setStateRelease(AnnouncementRecord.FREE);
        }
        if (detached != null) left(detached); // user code runs only now, with the guard fully closed
    }

    /**
     * Takes a FREE record by CAS to {@code value} (an announcement, HELD or BUSY), starting at the hint;
     * appends a new record if none is free.
     */
    private AnnouncementRecord lease(AnnouncingGuard g, long value) {
        AnnouncementRecord[] recs = records();
        int n = recs.length;
        int h = g.hint;
        if (h >= 0 && h < n) { // the fast path: the record this thread leased last time, most often free
            AnnouncementRecord r = recs[h];
            if (r.stateOpaque() == AnnouncementRecord.FREE && r.casStateVolatile(AnnouncementRecord.FREE, value)) {
                r.setHolderOpaque(g.thread);
                return r;
            }
        }
        int idx = Math.floorMod(h, Math.max(n, 1));
        for (int i = 0; i < n; i++) {
            AnnouncementRecord r = recs[idx];
            long l = r.stateOpaque();
            // A record left by a thread that ended (a sticky or registered one, or a guard never closed):
            // sweep it so that it can be reused instead of growing the registry (a bounded check per record).
            if (l != AnnouncementRecord.FREE && l != AnnouncementRecord.CLOSED && l != AnnouncementRecord.BUSY
                    && sweepIfDead(r)) {
                l = AnnouncementRecord.FREE;
            }
            // The opaque pre-check avoids a failing CAS (a locked instruction) on a record in use.
            if (l == AnnouncementRecord.FREE && r.casStateVolatile(AnnouncementRecord.FREE, value)) {
                r.setHolderOpaque(g.thread);
                g.hint = idx;
                return r;
            }
            if (++idx == n) idx = 0;
        }
        return append(g, value);
    }

    /** Appends a record already in state {@code value}, held by {@code g}'s thread: wait-free. */
    private AnnouncementRecord append(AnnouncingGuard g, long value) {
        AnnouncementRecord r = new AnnouncementRecord(value, g.thread, batchSize);
        // The volatile publication in the registry is the announcement's store for the Dekker pair with the
        // collector (which reads the registry after its fence): see Registry.
        g.hint = registry.append(r);
        // Store-load pair with close(): we published the record (volatile) and now read the state (volatile);
        // close() writes the state and then reads the registry. One of us sees the other.
        if (stateVolatile() != OPEN) {
            r.setHolderOpaque(null);
            r.setStateRelease(AnnouncementRecord.FREE); // a later close() takes it
            throw Checks.closed(name);
        }
        return r;
    }

    // =====================================================================================================
    // Retire
    // =====================================================================================================

    @Override
    public final <T> void retire(T object, Consumer<? super T> action) {
        Objects.requireNonNull(object, "object");
        Objects.requireNonNull(action, "action");
        if (stateOpaque() != OPEN && closer == Thread.currentThread()) { // a reclaim action run by close()
            retireLate(object, action);
            return;
        }
        AnnouncingGuard g = guard();
        if (g.depth != 0) {
            retireInto(g, g.record, object, action);
            return;
        }
        pin(g);
        try {
            retireInto(g, g.record, object, action);
        } finally {
            g.depth = 0;
            unpin(g);
        }
    }

    /** Adds to the bag of a record the caller holds; seals and collects when the bag is full. */
    void retireInto(AnnouncingGuard g, AnnouncementRecord rec, Object object, Consumer<?> action) {
        if (rec == null) { // a guard opened by a reclaim action during close()
            retireLate(object, action);
            return;
        }
        boolean claimed = rec == g.registered && claimToRetire();
        long idle = claimed ? idleState(g) : 0;
        if (claimed && sealPerRecord) {
            int s = tryClaimOwn(g, AnnouncementRecord.BUSY);
            if (s == CLAIM_CLOSED) throw Checks.closed(name);
            if (s == CLAIM_BUSY) { // a flush seals our bag this moment: do not wait for it
                rec.countRetired(); // the owner is this field's only writer, held or not
                Batch aside = new Batch(1);
                aside.add(object, action);
                VarHandle.fullFence(); // as in seal(): the unlinks before this retire, then the clock
                aside.tag(tagNow());
                insertAside(aside);
                return;
            }
        } else if (claimed && !claimOwn(g, AnnouncementRecord.BUSY)) {
            throw Checks.closed(name);
        }
        boolean full;
        try {
            rec.countRetired();
            full = rec.bag.add(object, action);
            if (full) seal(rec);
        } finally {
            if (claimed) rec.setStateRelease(idle);
        }
        if (full) collect(COLLECT_LIMIT);
    }

    /**
     * Seals the bag of a record the caller holds: tags it with the clock read after a full fence and queues
     * it. The caller owns the record (holds it announced, HELD by itself, or BUSY).
     */
    private void seal(AnnouncementRecord rec) {
        Batch bag = rec.bag;
        if (bag.isEmpty()) return;
        Batch fresh = new Batch(batchSize); // allocated first: a failure leaves the bag in the record, not lost
        // Orders the unlinks that preceded these retires (stores) before the clock load below: a tag read too
        // early could be too old, and the bag reclaimed too soon (crossbeam pushBag's fence).
        VarHandle.fullFence();
        bag.tag(tagNow());
        addSealed(bag.size()); // before the publication: a taker's subtraction never goes below 0
        if (sealPerRecord) rec.pushSealed(bag); // publication to collectors (volatile CAS), wait-free
        else sealed.add(bag); // publication to the collector (a volatile write inside the queue)
        rec.bag = fresh;
    }

    private void retireLate(Object object, Consumer<?> action) {
        Batch b = late.isEmpty() ? null : late.get(late.size() - 1);
        if (b == null || b.size() == batchSize) late.add(b = new Batch(batchSize));
        b.add(object, action);
        lateRetired = lateRetired + 1; // closer only
    }

    // =====================================================================================================
    // Collection
    // =====================================================================================================

    /**
     * Reclaims what is due: by default, asks the scheme for the safe bound, then reclaims at most
     * {@code limit} bags under it. A scheme that decides per object (hazard pointers) overrides it, using
     * {@link #pollSealed()}, {@link #requeue(Batch)} and {@link #reclamation()}.
     *
     * @param limit bags to reclaim at most; {@link #COLLECT_ALL} from flush()
     */
    protected void collect(int limit) {
        long bound = reclaimableBelow();
        for (int n = 0; n < limit; n++) {
            Batch b = sealed.peek();
            if (b == null || b.tag() >= bound) return;
            b = pollSealed();
            if (b == null) return;
            if (b.tag() >= bound) { // a racing collector took the old one; this one is too young
                requeue(b);
                return;
            }
            reclamation.run(b);
        }
    }

    /**
     * Takes the oldest sealed bag, or null.
     *
     * @return a bag now owned by the caller
     */
    protected final Batch pollSealed() {
        Batch b = sealed.poll();
        if (b != null) addSealed(-b.size());
        return b;
    }

    /**
     * Queues a bag again (one whose objects were not all reclaimable).
     *
     * @param b a bag owned by the caller
     */
    protected final void requeue(Batch b) {
        if (b.isEmpty()) return;
        addSealed(b.size());
        sealed.add(b);
    }

    /**
     * Returns the number of objects in sealed bags (approximate while threads run).
     *
     * @return the count
     */
    protected final long sealedCount() {
        return (long) SEALED.getVolatile(this);
    }

    /**
     * Returns the runner of reclaim actions (counts and contains failures).
     *
     * @return the runner
     */
    protected final Reclamation reclamation() {
        return reclamation;
    }

    /**
     * Returns the number of objects per bag.
     *
     * @return the batch size
     */
    protected final int batchSize() {
        return batchSize;
    }

    @Override
    public final void flush() {
        AnnouncingGuard g = guard();
        if (g.depth != 0) {
            if (g.record == null) throw Checks.closed(name); // a guard opened by a reclaim action during close()
            // Inside a guard our own announcement holds reclamation back: seal what we retired, reclaim what is due.
            if (g.record == g.registered && claimToRetire()) {
                long idle = idleState(g);
                if (!claimOwn(g, AnnouncementRecord.BUSY)) throw Checks.closed(name);
                try {
                    seal(g.record);
                } finally {
                    g.record.setStateRelease(idle);
                }
            } else {
                seal(g.record);
            }
            sealIdle();
            collect(COLLECT_ALL);
            return;
        }
        if (stateOpaque() != OPEN) throw Checks.closed(name);
        AnnouncementRecord own = g.registered;
        if (own != null) { // seal our own bag, holding our record only for that (no user code meanwhile)
            long idle = idleState(g);
            if (!claimOwn(g, AnnouncementRecord.BUSY)) throw Checks.closed(name);
            try {
                seal(own);
            } finally {
                own.setStateRelease(idle);
            }
        }
        // The rest runs reclaim actions, which may enter guards, retire or deregister: hold a separate record
        // (BUSY), so that close() waits for this flush and our registered record stays usable meanwhile.
        AnnouncementRecord rec = lease(g, AnnouncementRecord.BUSY);
        try {
            seal(rec);
            sealIdle();
            advanceForFlush(g);
            collect(COLLECT_ALL);
        } finally {
            rec.setHolderOpaque(null);
            rec.setStateRelease(AnnouncementRecord.FREE);
        }
    }

    /**
     * Seals the bags of records nobody is in a guard on: free ones, idle registered ones (each taken by CAS to
     * BUSY for the moment of the seal), and those of threads that ended (swept).
     */
    private void sealIdle() {
        for (AnnouncementRecord r : records()) {
            long l = r.stateVolatile();
            if (l == AnnouncementRecord.CLOSED || l == AnnouncementRecord.BUSY) continue;
            if (l != AnnouncementRecord.FREE && sweepIfDead(r)) continue;
            if ((l == AnnouncementRecord.FREE || l == AnnouncementRecord.HELD) && r.casStateVolatile(l, AnnouncementRecord.BUSY)) {
                try {
                    seal(r);
                } finally {
                    r.setStateRelease(l);
                }
            }
        }
    }

    /** The holder of a record being swept: claimed by CAS from the dead holder, so one sweeper wins. */
    private static final Thread SWEEPER = new Thread("reclaim-sweeper-claim");

    /**
     * If the record's holder has ended, claims the record, adopts its bag and frees it.
     *
     * @param r a record
     * @return whether the record was swept (and announces nothing any more)
     */
    protected final boolean sweepIfDead(AnnouncementRecord r) {
        Thread h = r.holderOpaque();
        if (h == null || h == SWEEPER || h.isAlive()) return false;
        // h has ended (its end happens-before this point, JLS 17.4.4) and a dead thread never holds a record
        // again, so the holder word cannot come back to h: claiming it by CAS is free of ABA, and exactly one
        // sweeper wins. If h had released the record, it cleared the holder first and the CAS fails.
        if (!r.casHolder(h, SWEEPER)) return false;
        long l = r.stateVolatile();
        if ((l == AnnouncementRecord.HELD || l > 0) && r.casStateVolatile(l, AnnouncementRecord.BUSY)) {
            Object detached = null;
            try {
                seal(r);
                detached = swept(r);
            } finally {
                r.owner = null; // the ended thread's guard is not kept reachable by its old record
                r.setHolderOpaque(null);
                r.setStateRelease(AnnouncementRecord.FREE);
            }
            if (detached != null) left(detached);
            return true;
        }
        r.casHolder(SWEEPER, h); // close() or a flush holds it BUSY right now: leave it as it was
        return false;
    }

    /**
     * Notes that {@code r}, in state {@code state}, holds reclamation back (for stall detection).
     *
     * @param r the record
     * @param state its state as read
     */
    protected final void noteHoldingBack(AnnouncementRecord r, long state) {
        r.noteLag(state, System.nanoTime());
    }

    /**
     * Returns the registry as last published (volatile: part of the collector's store-load argument).
     *
     * @return the records; do not modify
     */
    protected final AnnouncementRecord[] records() {
        return registry.snapshot();
    }

    // =====================================================================================================
    // Registration, stats
    // =====================================================================================================

    @Override
    public final Registration register() {
        AnnouncingGuard g = guard();
        if (stateOpaque() != OPEN) throw Checks.closed(name);
        if (g.depth != 0) throw new IllegalStateException("register() inside a guard: register before entering");
        if (g.registered != null && g.sticky) { // the thread's sticky record becomes its registration
            g.sticky = false;
            return new AnnouncingRegistration(g, g.registered);
        }
        if (g.registered != null) throw new IllegalStateException("this thread is already registered with this reclaimer");
        AnnouncementRecord rec = lease(g, AnnouncementRecord.HELD);
        g.own(rec);
        g.record = rec;
        registered(g);
        return new AnnouncingRegistration(g, rec);
    }

    /**
     * Called on the registering thread once its record is reserved (state HELD). The default does nothing.
     *
     * @param g the thread's guard, {@code g.registered} set
     */
    protected void registered(AnnouncingGuard g) {}

    /** Ends a registration (called on the registering thread, outside a guard). */
    void deregister(AnnouncingGuard g, AnnouncementRecord rec) {
        if (g.registered != rec) return; // already closed
        if (g.depth != 0) throw new IllegalStateException("cannot deregister inside a guard: close the guard first");
        boolean mine = claimOwn(g, AnnouncementRecord.BUSY);
        g.own(null);
        g.record = null;
        g.sticky = false;
        g.announced = 0; // scheme scratch belongs to this registration only
        g.lastPass = 0;
        if (!mine) return; // the reclaimer closed it
        try {
            seal(rec); // hand what we retired to the others
        } finally {
            rec.setHolderOpaque(null);
            rec.setStateRelease(AnnouncementRecord.FREE);
        }
    }

    /**
     * Seals the bag of {@code g}'s registered record (held by the caller, outside any guard) and reclaims
     * what is due: a registered thread's periodic pass.
     *
     * @param g the registered thread's guard
     */
    protected final void pass(AnnouncingGuard g) {
        seal(g.registered);
        collect(COLLECT_LIMIT);
    }

    /**
     * The registration's quiescent(): called on its thread outside any guard. The default does nothing.
     *
     * @param g the registered thread's guard
     */
    protected void quiescent(AnnouncingGuard g) {}

    /**
     * The registration's offline(): called on its thread outside any guard. The default does nothing.
     *
     * @param g the registered thread's guard
     */
    protected void offline(AnnouncingGuard g) {}

    /**
     * The registration's online(): called on its thread outside any guard. The default does nothing.
     *
     * @param g the registered thread's guard
     */
    protected void online(AnnouncingGuard g) {}

    @Override
    public Stats stats() {
        long clock = clock();
        long now = System.nanoTime();
        int stalled = 0;
        AnnouncementRecord[] recs = records();
        long retired = retiredAtClose >= 0 ? retiredAtClose : retiredSoFar(recs);
        for (AnnouncementRecord r : recs) {
            long l = r.stateVolatile();
            if (l > 0 && holdsBack(l, clock)) {
                r.noteLag(l, now); // starts the clock if no collector saw this lag yet
                if (r.laggingSince(l, now - stallThresholdNanos)) stalled++;
            }
        }
        long reclaimed = reclamation.reclaimed();
        // Read reclaimed after retired: an object counted reclaimed was counted retired before, so a
        // snapshot never shows more reclaimed than retired.
        return new Stats(name, Math.max(retired, reclaimed), reclaimed, reclamation.failed(), stalled, recs.length);
    }

    private long retiredSoFar(AnnouncementRecord[] recs) {
        long retired = lateRetired;
        for (AnnouncementRecord r : recs) retired += r.retiredOpaque();
        return retired;
    }

    @Override
    public boolean isClosed() {
        return stateVolatile() == CLOSED;
    }

    // =====================================================================================================
    // Close
    // =====================================================================================================

    @Override
    public final void close() {
        synchronized (closeLock) {
            if (stateVolatile() == CLOSED) return;
            Thread self = Thread.currentThread();
            if (closer == self) return; // from a reclaim action that close() itself runs: it will finish
            // Store-load pair with append(): state (volatile) then the registry (volatile) below.
            setStateVolatile(CLOSING);
            closer = self;
            try {
                int open = 0;
                AnnouncementRecord[] recs = recordsVolatile();
                long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
                for (AnnouncementRecord r : recs) {
                    if (!closeRecord(r, deadline)) open++;
                }
                // Phase 2: a guard on a sticky record announces nothing in the state word, and may have
                // published its first hazard or reservation after we closed its record above (while another
                // record, closed later, still took a retire). Store-load order between our CASes above and the
                // reads below; such a guard is seen now, or it publishes after this point and its validating
                // re-read then sees every unlink made before its retirer's record was closed.
                VarHandle.fullFence();
                for (AnnouncementRecord r : recs) {
                    if (r.stateVolatile() == AnnouncementRecord.CLOSED && inUse(r)) open++;
                }
                if (open > 0) {
                    throw new IllegalStateException(open + " guard(s) of this " + name + " reclaimer are still open"
                            + " (or registered threads online): it accepts no new guards; close them (take registered"
                            + " threads offline or deregister them), then call close() again to reclaim everything");
                }
                // Every record is CLOSED: no guard is open and none can open. Reclaim everything.
                Batch b;
                while ((b = pollSealed()) != null) reclamation.run(b);
                takeSealed(reclamation::run); // per-record sealing: every record is CLOSED, nothing is pushed now
                while (!late.isEmpty()) { // actions may retire more while they run: detach, then run
                    List<Batch> batches = new ArrayList<>(late);
                    late.clear();
                    for (Batch lb : batches) reclamation.run(lb);
                }
                retiredAtClose = retiredSoFar(recordsVolatile());
                setStateVolatile(CLOSED);
                // The thread-local guards of other threads keep this object reachable until those threads
                // end (a ThreadLocal value refers to its own key); drop what is large.
                registry = new Registry(); // drops the records (an appender that raced sees CLOSED and leaves)
                guards.remove();
                guardCache = new CachedGuard[GUARD_CACHE]; // with the thread local: no guard of this reclaimer is kept
            } finally {
                closer = null;
            }
        }
    }

    /**
     * How long close() waits, in all, for records still in use (a flush holding one BUSY, a guard or an online
     * executor that is just finishing) before it reports them as open.
     */
    private static final long CLOSE_WAIT_NANOS = 1_000_000_000L;

    /**
     * Takes a record for good: seals its bag and marks it CLOSED.
     *
     * @return false if a guard (or an online registered thread, or a flush that does not finish) holds it
     */
    private boolean closeRecord(AnnouncementRecord r, long deadline) {
        sweepIfDead(r);
        while (true) {
            long l = r.stateVolatile();
            if (l == AnnouncementRecord.CLOSED) return true;
            if (l == AnnouncementRecord.FREE || l == AnnouncementRecord.HELD) {
                if (inUse(r)) { // a guard the state word does not show (sticky records): wait for it, bounded
                    if (System.nanoTime() - deadline > 0) return false;
                    Thread.yield();
                    continue;
                }
                if (r.casStateVolatile(l, AnnouncementRecord.BUSY)) {
                    try {
                        seal(r);
                    } finally {
                        r.setHolderOpaque(null);
                        r.setStateRelease(AnnouncementRecord.CLOSED);
                    }
                    return true;
                }
            } else {
                // BUSY: a flush (its reclaim actions) or a seal in progress; announced: a guard, or an online
                // executor, that may be just finishing. Wait, bounded (the flush may itself be blocked on us,
                // an action calling close()); past the deadline count it as open.
                if (sweepIfDead(r)) continue;
                if (System.nanoTime() - deadline > 0) return false;
                Thread.yield();
            }
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + scheme + ", clock " + clock() + ", " + records().length + " records]";
    }

    // =====================================================================================================
    // VarHandles
    // =====================================================================================================

    private AnnouncementRecord[] recordsVolatile() {
        return registry.snapshot();
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

    /** Adds to the count of objects in sealed bags (a volatile read-modify-write). */
    private void addSealed(long delta) {
        SEALED.getAndAdd(this, delta);
    }

    private static final VarHandle STATE;
    private static final VarHandle SEALED;
    private static final VarHandle GUARD_CACHE_ARRAY;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(AnnouncingReclaimer.class, "state", int.class);
            SEALED = l.findVarHandle(AnnouncingReclaimer.class, "sealedObjects", long.class);
            GUARD_CACHE_ARRAY = l.findVarHandle(AnnouncingReclaimer.class, "guardCache", CachedGuard[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
