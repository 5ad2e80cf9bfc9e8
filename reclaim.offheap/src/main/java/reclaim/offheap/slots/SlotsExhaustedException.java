package reclaim.offheap.slots;

import java.io.Serial;

/**
 * Thrown by {@link SlotMemory#store} when no slot is free, even after one flush of the reclaimer. It never
 * waits for a slot; {@link SlotMemory#tryStore} returns {@link SlotMemory#NO_HANDLE} instead.
 */
public final class SlotsExhaustedException extends IllegalStateException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** The manager's capacity. */
    private final int capacity;

    /**
     * Creates the exception.
     *
     * @param capacity the manager's capacity
     * @param notFree the slots live or waiting for reclamation when the store failed
     */
    public SlotsExhaustedException(int capacity, int notFree) {
        super("no free slot: all " + capacity + " slots are live or waiting for reclamation (" + notFree
                + " not on the free list); free some, or close long-running guards of the reclaimer so freed"
                + " slots can be reclaimed");
        this.capacity = capacity;
    }

    /**
     * Returns the capacity of the manager that was full.
     *
     * @return the capacity
     */
    public int capacity() {
        return capacity;
    }
}
