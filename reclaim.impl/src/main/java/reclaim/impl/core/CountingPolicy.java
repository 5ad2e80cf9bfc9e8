package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What Hyaline and Crystalline share: a global era that advances at every sealed bag (the papers advance it
 * every so many allocations; the JVM has no allocation hook, so retires stand in for allocations), and collection
 * by insertion: each sealed bag is handed to {@link #insert(Batch)}, which attaches it to the reservations that may
 * hold one of its objects ({@link CountedBatches}); the last reference reclaims. It also counts, for the robust
 * bound, the pending objects born at or before the oldest active reservation when their batch was inserted.
 *
 * <p>Enter collects whenever a sealed bag waits (an opaque read of the store's count), not on a guard count.
 */
public abstract class CountingPolicy extends Policy {
    /** The global era, starting at 1; accessed only through {@code ERA}. */
    private long era = 1;
    /** Pending objects born at or before the oldest active reservation when their batch was inserted. */
    private final AtomicLong oldPending = new AtomicLong();

    /** Creates the policy. */
    protected CountingPolicy() {}

    /**
     * Attaches a sealed batch to every reservation that may hold one of its objects, then adds the number of
     * links ({@link CountedBatches#inserted}). May run reclaim actions (when no reservation holds it). Called after
     * the retirer's heavy barrier ({@link #heavyBeforeInsert}), which one collection runs once for all the batches it
     * took.
     *
     * <p>User code run here (a {@code Born.birthEra()}) cannot throw out of it ({@link CountedBatches#birthOf}
     * contains it). What may fail before the first link is published (an {@code Error}, a sweep of an ended thread's
     * participant whose seal fails: {@link #sweepEnded}) sends the batch back to the store ({@link #notInserted})
     * before it propagates; once a link is published
     * only an {@code Error} can interrupt it (a reclaim action's, or an {@code OutOfMemoryError} making a link at its
     * first use, which this does not guard against).
     *
     * @param b the batch, owned by the caller
     */
    protected abstract void insert(Batch b);

    /**
     * Sweeps the participants whose threads ended ({@link Participants#sweep}: what their guards held is detached,
     * their sessions or indices end), for {@link #insert} to run before it publishes a link, inside the part whose
     * failure sends the batch back with {@link #notInserted}: a sweep's seal that fails (an allocation) then loses
     * nothing, and the participant stays its dead thread's for a later sweep. The insertion's own pass sweeps
     * nothing: a thread that ends after this pass is treated as alive, its active session or index gets a link, and
     * the sweep that comes later releases it. May run reclaim actions (what the dead guards held).
     *
     * @param ps the participants the insertion goes through
     */
    protected final void sweepEnded(Participant[] ps) {
        for (Participant p : ps) {
            long st = p.stateVolatile();
            if (st == Participant.HELD || st > 0) core.sweepIfDead(p);
        }
    }

    /**
     * Puts back in the store a batch whose insertion failed before it published any link (see {@link #insert}): it
     * is not lost, and a later collection inserts it again. Allocates nothing.
     *
     * @param b the batch, owned by the caller
     */
    protected final void notInserted(Batch b) {
        CountedBatches.Counted c = b.counted;
        if (c != null) c.notInserted(); // its old objects are counted again when it is inserted again
        b.link(null);
        store.add(b);
    }

    @Override
    protected final boolean collectDue(ThreadGuard g) {
        return store.waiting(); // this policy's own field: one load fewer on every enter than through the core
    }

    /** The core's store of sealed bags, bound once the core is built. */
    private SealedBags store;

    @Override
    void attached() {
        store = core.sealed;
    }

    /**
     * The retirer's side of the store-load pair with the readers' reservations, run before {@link #insert}: the
     * unlinks before the retires of every batch taken so far happen before the reads of reservations that follow (a
     * full fence, or membarrier under the asymmetric barrier). It has no effect on the batches, so if it fails (a
     * membarrier the kernel refuses after accepting the registration: not expected) they go back to the store,
     * nothing lost, and the failure propagates.
     *
     * @param taken the batches about to be inserted, owned by the caller
     */
    private void heavyBeforeInsert(Batch taken) {
        try {
            core.heavy();
        } catch (RuntimeException | Error e) {
            store.addChain(taken); // back in the store with one push: nothing lost, nothing allocated
            throw e;
        }
    }


    @Override
    protected final void insertAside(Batch b) {
        heavyBeforeInsert(b);
        insert(b);
    }

    /**
     * Takes the sealed bags (every bag on the participants and on the shared stack: an insertion is bounded work, and
     * every bag taken must be inserted, so {@code limit} does not apply), runs one heavy barrier for all of them
     * (under the asymmetric barrier a membarrier is paid per collection, not per bag), and inserts each. A failure
     * in an insertion puts the bags not yet inserted back in the store. The taken bags are
     * chained through {@link Batch#next} (each is the collector's alone): no list is allocated; each link is cleared
     * before the bag is inserted, since the insertion may reclaim and recycle it at once.
     */
    @Override
    protected final void collect(int limit) {
        // Bounded by the participants and their bags.
        // The participants' bags in front of the shared stack's: the order of insertion does not matter.
        // Held: the objects taken stay counted for pendingBound() until they are inserted (then the slots' lists
        // count them) or put back.
        Batch taken = store.takeChainFromParticipantsHeld(core.participants(), store.takeAllHeld());
        if (taken == null) {
            tidy();
            return;
        }
        long held = Batch.objectsIn(taken);
        try {
            heavyBeforeInsert(taken);
            Batch rest = taken;
            try {
                while (rest != null) {
                    Batch b = rest;
                    rest = b.next();
                    b.link(null);
                    insert(b);
                }
            } finally {
                store.addChain(rest); // after a failed insert: not lost
            }
        } finally {
            store.release(held);
        }
        tidy();
    }

    /**
     * Wraps a batch for insertion, counting its objects born at or before {@code oldestReservation} as old
     * pending (for the bound) while it is pending.
     *
     * @param b the batch
     * @param oldestReservation the oldest active reservation's era, or {@code Long.MIN_VALUE}
     * @return the counted batch (the batch's own wrapper, reused: see {@link CountedBatches.Counted})
     */
    protected final CountedBatches.Counted counted(Batch b, long oldestReservation) {
        long old = CountedBatches.bornBy(b, oldestReservation) > 0 ? b.size() : 0;
        return CountedBatches.of(b, old, oldPending);
    }

    /**
     * Returns the pending objects counted old (see the class documentation).
     *
     * @return the count
     */
    protected final long oldPending() {
        return oldPending.get();
    }

    /**
     * Wraps a batch for insertion without counting old objects (the batch's own wrapper, reused).
     *
     * @param b the batch
     * @return the counted batch
     */
    protected final CountedBatches.Counted counted(Batch b) {
        return CountedBatches.of(b, 0, null);
    }

    /** Every sealed bag advances the era (a volatile read-modify-write, after the seal's full fence). */
    @Override
    protected final void sealing(Batch bag) {
        beforeAdvance(); // Crystalline-W: help every pending slow path first (its bound rests on it)
        bag.tag(getAndAddEra(1L));
    }

    /** Called before the era advances; Crystalline-W helps pending slow paths here. Default: nothing. */
    protected void beforeAdvance() {}

    @Override
    protected final long era() {
        return eraVolatile();
    }

    /**
     * Returns the era with volatile semantics.
     *
     * @return the era
     */
    public final long eraVolatile() {
        return (long) ERA.getVolatile(this);
    }

    /**
     * Advances the era (a volatile read-modify-write).
     *
     * @param delta how far
     * @return the era before
     */
    protected final long getAndAddEra(long delta) {
        return (long) ERA.getAndAdd(this, delta);
    }

    private static final VarHandle ERA;

    static {
        try {
            ERA = MethodHandles.lookup().findVarHandle(CountingPolicy.class, "era", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
