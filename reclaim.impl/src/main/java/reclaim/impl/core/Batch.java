package reclaim.impl.core;

import java.util.function.Consumer;

/**
 * A batch of retired objects and their reclaim actions, with a tag (an epoch or era) set when it is sealed.
 *
 * <p>Not thread-safe: a batch is owned by one thread at a time and handed to another only through a
 * release/acquire pair (a record's state word, or a concurrent queue), which publishes its contents.
 *
 * <p><b>Recycling.</b> Once its actions ran, a batch of the core's bag size goes back to the core's
 * {@link BatchPool} (cleared: it pins no object it held) and a later seal reuses it, so that a reclaimer in steady
 * state allocates no batches. It is given back only by the thread that owns it exclusively after its actions ran:
 * a sealed bag after a collector took it from the store, a counted batch (Hyaline, Crystalline) by the thread whose
 * decrement brought its count to zero (every other reader is done with it by then). A push onto the shared stack
 * whose CAS still expects a batch that was taken and recycled meanwhile compares identities only, which a push may
 * ({@link SealedBags}).
 */
public final class Batch {
    /*
     * Actions by runs. A thread usually retires many objects in a row with one action (a structure's recycler, a
     * memory's free), so an action is stored once per run of objects that share it, and each object records the
     * index of its run's action in an int array. The point is the collector's write barrier, not the space: a
     * pooled batch soon lives in the old generation, and under G1 (JDK 25) a reference store into an old array of a
     * value in another region runs the post-write barrier's slow half, which begins with a full fence (a locked
     * instruction); an int store runs no barrier at all. So an add costs one such reference store (the object)
     * instead of two.
     */
    private final Object[] objects;
    /** The actions of the runs, in order: {@code actions[0 .. runs)}. */
    private final Consumer<?>[] actions;
    /** For each object, the index in {@link #actions} of its run's action. */
    private final int[] runOf;
    /** The number of runs (of consecutive objects with one action) in {@link #actions}. */
    private int runs;
    private int size;
    private long tag;
    /** The thread that sealed this batch, or null (set with the tag, published with the batch). */
    private ThreadRef sealer;
    /**
     * The next batch in a chain its owner builds: the per-participant stack of sealed bags (written before the push
     * that publishes the batch), or a collector's list of taken bags. Cleared when the chain is walked and when the
     * batch is recycled, so that a batch never keeps another reachable after it left the chain.
     */
    Batch next;
    /**
     * The batch's wrapper for Hyaline's and Crystalline's reference counts, made at its first insertion and reused
     * with the batch ({@link CountedBatches#of}); null until then. Kept when the batch is recycled: it refers only to
     * this batch and to the policy's counter.
     */
    CountedBatches.Counted counted;

    /**
     * Creates an empty batch.
     *
     * @param capacity the number of objects it holds
     */
    public Batch(int capacity) {
        objects = new Object[capacity];
        actions = new Consumer<?>[capacity];
        runOf = new int[capacity];
    }

    /**
     * Adds an object and its action.
     *
     * @param object the retired object
     * @param action its reclaim action
     * @return true if the batch is now full
     * @throws IllegalStateException if the batch was already full (a bug in the caller)
     */
    public boolean add(Object object, Consumer<?> action) {
        int n = size;
        if (n == objects.length) throw new IllegalStateException("batch full");
        objects[n] = object;
        int r = runs;
        if (r == 0 || actions[r - 1] != action) { // a new run: the one reference store of an action
            actions[r] = action;
            runs = ++r;
        }
        runOf[n] = r - 1;
        size = n + 1;
        return n + 1 == objects.length;
    }

    /**
     * Returns the objects of a chain of batches linked through {@link #next}: what a taker of the chain holds.
     *
     * @param chain the first batch, or null
     * @return the sum of their sizes
     */
    public static long objectsIn(Batch chain) {
        long n = 0;
        for (Batch b = chain; b != null; b = b.next) n += b.size();
        return n;
    }

    /**
     * Returns the number of objects held.
     *
     * @return the number of objects held
     */
    public int size() {
        return size;
    }

    /**
     * Returns whether the batch holds as many objects as it can.
     *
     * @return whether the batch is full
     */
    public boolean isFull() {
        return size == objects.length;
    }

    /**
     * Returns whether the batch holds nothing.
     *
     * @return whether the batch holds nothing
     */
    public boolean isEmpty() {
        return size == 0;
    }

    /**
     * Returns the tag set by {@link #tag(long)}.
     *
     * @return the tag set by {@link #tag(long)}
     */
    public long tag() {
        return tag;
    }

    /**
     * Sets the epoch or era this batch was sealed in.
     *
     * @param tag the epoch or era this batch was sealed in
     */
    public void tag(long tag) {
        this.tag = tag;
    }

    /**
     * Returns the thread that sealed this batch ({@link #sealedBy}), weakly, or null if none was recorded.
     *
     * @return the sealing thread, or null
     */
    public ThreadRef sealer() {
        return sealer;
    }

    /**
     * Records the thread sealing this batch (before its publication), for the share of reclamation that threads
     * do for one another.
     *
     * @param thread the sealing thread (weakly: a pending batch must not keep an ended thread reachable)
     */
    void sealedBy(ThreadRef thread) {
        this.sealer = thread;
    }

    /**
     * Returns the {@code i}-th object.
     *
     * @param i an index below {@link #size()}
     * @return the object
     */
    public Object object(int i) {
        return objects[i];
    }

    /**
     * Returns the {@code i}-th action.
     *
     * @param i an index below {@link #size()}
     * @return the action
     */
    public Consumer<?> action(int i) {
        return actions[runOf[i]];
    }

    /**
     * Returns the number of objects the batch holds when full.
     *
     * @return the capacity
     */
    public int capacity() {
        return objects.length;
    }

    /**
     * Returns the next batch of the chain its owner builds (see {@link #link}), or null.
     *
     * @return the next batch
     */
    public Batch next() {
        return next;
    }

    /**
     * Links this batch, owned by the caller, in front of {@code next} in a chain the caller owns (a collector's taken
     * bags): a list without an allocation.
     *
     * @param next the rest of the chain, or null
     */
    public void link(Batch next) {
        this.next = next;
    }

    /**
     * Resets a batch whose actions ran for reuse: no object, action, sealer or chain link stays reachable from it.
     */
    void recycle() {
        clear();
        sealer = null;
        next = null;
        tag = 0;
    }

    /** Drops the references (after the actions ran), so a batch that stays reachable pins nothing. */
    void clear() {
        java.util.Arrays.fill(objects, 0, size, null);
        java.util.Arrays.fill(actions, 0, runs, null);
        size = 0;
        runs = 0;
    }
}
