package reclaim.impl.core;

/** Argument and misuse checks with messages that name the problem. */
public final class Checks {
    private Checks() {}

    /**
     * Checks a protect slot.
     *
     * @param slot the slot asked for
     * @param slots the number of slots
     * @return {@code slot}
     * @throws IllegalArgumentException if out of range
     */
    public static int slot(int slot, int slots) {
        if (slot < 0 || slot >= slots) {
            throw new IllegalArgumentException("slot " + slot + " out of range [0, " + slots + ")");
        }
        return slot;
    }

    /**
     * Returns the exception for use of a closed reclaimer.
     *
     * @param scheme the scheme's name
     * @return the exception for use of a closed reclaimer
     */
    public static IllegalStateException closed(String scheme) {
        return new IllegalStateException("the " + scheme + " reclaimer is closed");
    }

    /**
     * Returns the exception for use of a reclaimer whose {@code close()} began and has not completed: one in
     * progress, or one that refused because guards were open (the reclaimer accepts nothing new until a later
     * {@code close()} completes).
     *
     * @param scheme the scheme's name
     * @return the exception for use of a closing reclaimer
     */
    public static IllegalStateException closing(String scheme) {
        return new IllegalStateException("the " + scheme + " reclaimer is closing, not closed yet: a close() began and"
                + " has not completed (it is running, or it refused because guards were open or reclamation was still"
                + " running), so the reclaimer accepts no new guards, retires or registrations");
    }

    /**
     * Returns the exception for use of a guard after its close.
     *
     * @return the exception for use of a guard after its close
     */
    public static IllegalStateException guardClosed() {
        return new IllegalStateException("the guard is closed (use a guard only between enter() and close())");
    }

    /**
     * The exception for a guard nested deeper than a guard counts.
     *
     * @param depth the depth it has
     * @return the exception
     */
    static IllegalStateException nestedTooDeep(int depth) {
        return new IllegalStateException("guards nested " + depth + " deep on one thread, the most a guard counts:"
                + " close the inner guards first");
    }

    /**
     * Returns the exception for use of a guard from a thread that did not open it.
     *
     * @param owner the name of the thread that opened the guard
     * @return the exception for use of a guard from a thread that did not open it
     */
    public static IllegalStateException wrongThread(String owner) {
        return new IllegalStateException("the guard belongs to thread '" + owner + "', not to '"
                + Thread.currentThread().getName() + "': a guard must be used and closed on the thread that opened it");
    }
}
