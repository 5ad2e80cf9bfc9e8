package reclaim.impl.core;

import java.util.function.Consumer;

/**
 * A batch of retired objects and their reclaim actions, with a tag (an epoch or era) set when it is sealed.
 *
 * <p>Not thread-safe: a batch is owned by one thread at a time and handed to another only through a
 * release/acquire pair (a record's state word, or a concurrent queue), which publishes its contents. It is
 * the reclaimer's own metadata, never recycled: a fresh batch replaces a sealed one, so a stale reference
 * can never observe a reused batch (no ABA: the garbage collector keeps a batch alive while anyone holds it).
 */
public final class Batch {
    private final Object[] objects;
    private final Consumer<?>[] actions;
    private int size;
    private long tag;
    /** The thread that sealed this batch, or null (set with the tag, published with the batch). */
    private Thread sealer;

    /**
     * Creates an empty batch.
     *
     * @param capacity the number of objects it holds
     */
    public Batch(int capacity) {
        objects = new Object[capacity];
        actions = new Consumer<?>[capacity];
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
        actions[n] = action;
        size = n + 1;
        return n + 1 == objects.length;
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
     * Returns the thread that sealed this batch ({@link #sealedBy}), or null if none was recorded.
     *
     * @return the sealing thread, or null
     */
    public Thread sealer() {
        return sealer;
    }

    /**
     * Records the thread sealing this batch (before its publication), for the share of reclamation that threads
     * do for one another.
     *
     * @param thread the sealing thread
     */
    void sealedBy(Thread thread) {
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
        return actions[i];
    }

    /** Drops the references (after the actions ran), so a batch that stays reachable pins nothing. */
    void clear() {
        java.util.Arrays.fill(objects, 0, size, null);
        java.util.Arrays.fill(actions, 0, size, null);
        size = 0;
    }
}
