package reclaim.collections;

import reclaim.api.Guard;

/**
 * The check of the recycling tests, for tests in other packages (the Lincheck tests): a node read through a guard
 * keeps its life (its generation) while the guard is open.
 */
public final class NodeLives {
    private NodeLives() {
    }

    /**
     * Opens a guard, reads the queue's first node through it as a consumer does, and reads that node's generation
     * and element again: whether the node kept its life while the guard was open (the element may only have been
     * cleared, as a poll clears the new dummy's). True for an empty queue.
     *
     * @param q the queue
     * @return false if the node was recycled under the open guard
     */
    public static boolean queueHeadKeepsItsLife(RecyclingQueue<?> q) {
        try (Guard g = q.reclaimer().enter()) {
            return keepsItsLife(q.firstNode(g), true);
        }
    }

    /**
     * As {@link #queueHeadKeepsItsLife}, for the stack's top node (whose element is never cleared in its life).
     *
     * @param s the stack
     * @return false if the node was recycled under the open guard
     */
    public static boolean stackTopKeepsItsLife(RecyclingStack<?> s) {
        try (Guard g = s.reclaimer().enter()) {
            return keepsItsLife(s.topNode(g), false);
        }
    }

    /** Reads {@code n}'s generation and element twice (the caller's guard open); true for null. */
    private static boolean keepsItsLife(Node<?> n, boolean mayClear) {
        if (n == null) return true;
        int generation = n.generationVolatile();
        Object item = n.itemVolatile();
        Object again = n.itemVolatile();
        return n.generationVolatile() == generation && (again == item || (mayClear && again == null));
    }
}
