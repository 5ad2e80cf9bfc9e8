package reclaim.impl.common;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import reclaim.api.Scheme;

/**
 * What Hyaline and Crystalline share on top of {@link AnnouncingReclaimer}: a global era that advances at
 * every sealed batch (ALGORITHMS.md §2.5: "every F×N allocations"; retires stand in for the allocation hook
 * the JVM does not have), and collection by insertion: each sealed bag is handed to {@link #insert(Batch)},
 * which attaches it to the reservations that may hold it ({@link CountedBatches}); the last reference
 * reclaims. It also counts, for the robust bound, the pending objects born at or before the oldest active
 * reservation when their batch was inserted.
 */
public abstract class CountingReclaimer extends AnnouncingReclaimer {
    /** The global era, starting at 1; accessed only through {@code ERA}. */
    private long era = 1;
    /** Pending objects born at or before the oldest active reservation when their batch was inserted. */
    private final AtomicLong oldPending = new AtomicLong();

    /**
     * Creates the skeleton.
     *
     * @param scheme the scheme record
     * @param batchSize objects per batch
     * @param stallThresholdNanos stall threshold (for variants that report stalls)
     * @param stickyGuards whether guards publish nothing on enter (see {@link AnnouncingReclaimer})
     */
    protected CountingReclaimer(Scheme scheme, int batchSize, long stallThresholdNanos, boolean stickyGuards) {
        this(scheme, batchSize, stallThresholdNanos, stickyGuards, false);
    }

    /**
     * Creates the skeleton, optionally sealing per record (see {@link AnnouncingReclaimer}): collection then
     * takes the records' stacks and inserts every bag at once, and a bag retired aside is inserted by its
     * retirer; no shared queue is on the retire path.
     *
     * @param scheme the scheme record
     * @param batchSize objects per batch
     * @param stallThresholdNanos stall threshold
     * @param stickyGuards whether guards publish nothing on enter
     * @param sealPerRecord whether sealed bags stay on their records until collected
     */
    protected CountingReclaimer(Scheme scheme, int batchSize, long stallThresholdNanos, boolean stickyGuards,
            boolean sealPerRecord) {
        // no guard-count interval: collectDue() collects whenever a sealed bag waits
        super(scheme, batchSize, Integer.MAX_VALUE, stallThresholdNanos, stickyGuards, sealPerRecord);
    }

    /**
     * Attaches a sealed batch to every reservation that may hold one of its objects, then adds the number of
     * links ({@link CountedBatches#inserted}).
     *
     * @param b the batch, owned by the caller
     */
    protected abstract void insert(Batch b);

    /**
     * Collects on the next guard whenever a sealed bag waits: insertion always consumes a bag (it attaches it
     * to reservations or reclaims it), so unlike the epoch schemes' collection there is nothing to retry, and no
     * per-guard counter is needed (a count per enter would put a store-to-load chain on the critical path).
     */
    @Override
    protected final boolean collectDue(AnnouncementRecord rec) {
        return sealedWaiting();
    }

    @Override
    protected final void insertAside(Batch b) {
        insert(b);
    }

    @Override
    protected final void collect(int limit) {
        if (sealsPerRecord()) takeSealed(this::insert); // every record's stack: bounded by the records and their bags
        for (int n = 0; n < limit; n++) {
            Batch b = pollSealed();
            if (b == null) return;
            insert(b);
        }
    }

    /**
     * Wraps a batch for insertion; if one of its objects was born at or before {@code oldestReservation}, the
     * whole batch may be held by that reservation, so all its objects are counted while it is pending.
     *
     * @param b the batch
     * @param oldestReservation the oldest era an active reservation holds ({@code Long.MIN_VALUE}: none)
     * @return the counted batch
     */
    protected final CountedBatches.Counted counted(Batch b, long oldestReservation) {
        long old = CountedBatches.bornBy(b, oldestReservation) > 0 ? b.size() : 0;
        return new CountedBatches.Counted(b, old, oldPending);
    }

    /**
     * Returns the pending objects in batches that, when inserted, held an object born at or before the oldest
     * active reservation: what a stalled reader may hold beyond a robust scheme's slack (at most one batch per
     * object that existed when the reader last read).
     *
     * @return the count
     */
    protected final long oldPending() {
        return oldPending.get();
    }

    @Override
    protected final long tagNow() {
        beforeAdvance(); // Crystalline-W: help every pending slow path first (its bound rests on it)
        return (long) ERA.getAndAdd(this, 1L); // every sealed batch advances the era
    }

    /**
     * Called before every advance of the era, on the advancing thread (which runs no user code here). The
     * default does nothing; Crystalline-W completes the pending slow paths of {@code protect} here, so that
     * the era never moves past a reader that asked for help without helping it first.
     */
    protected void beforeAdvance() {}

    @Override
    protected final long reclaimableBelow() {
        return Long.MIN_VALUE; // unused: collect() inserts instead
    }

    @Override
    protected final void advanceForFlush(AnnouncingGuard g) {}

    @Override
    protected final long clock() {
        return eraVolatile();
    }

    @Override
    public final long era() {
        return eraVolatile();
    }

    /**
     * Reads the global era (volatile: the hazard-eras protocol compares it after the source read).
     *
     * @return the era
     */
    public final long eraVolatile() {
        return (long) ERA.getVolatile(this);
    }

    private static final VarHandle ERA;

    static {
        try {
            ERA = MethodHandles.lookup().findVarHandle(CountingReclaimer.class, "era", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
