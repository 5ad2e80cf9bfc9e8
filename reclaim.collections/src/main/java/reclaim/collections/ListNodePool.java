package reclaim.collections;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The bounded pool of free {@link ListNode}s behind one {@link HarrisList}: the same Treiber stack as
 * {@link NodePool}, with the same ABA argument (a node enters the pool only through a reclaim action, so a
 * node that {@link #take} protected cannot come back into the pool before the taker's CAS), the same birth
 * era stamp at publication and the same approximate bound, kept the same way: each free node carries the count
 * of free nodes from it down ({@code ListNode.poolCount}), so neither take nor recycle touches a shared counter (with
 * the same rare excess when the head is taken and recycled inside a push, see {@link NodePool}).
 *
 * <p>Entries and markers are retired separately, each with {@link #recycler}: a marker is also a pool node,
 * and a thread inside {@link #take} may hold a hazard on it from its previous stay in the pool, which the
 * reclaimer must see (tying the marker's recycling to its entry's would let it re-enter the pool under that
 * hazard: the pool's ABA).
 */
final class ListNodePool<K, V> {

    private final Reclaimer reclaimer;
    private final int capacity;
    /** The top free node; its count is the pool's size. */
    private final AtomicReference<ListNode<K, V>> head = new AtomicReference<>();
    /** Nodes ever allocated (a LongAdder: the GC twins allocate on every insertion). */
    private final LongAdder allocated = new LongAdder();
    /** The reclaim action. One instance: a method reference evaluated per retire would allocate. */
    final Consumer<ListNode<K, V>> recycler = this::recycle;

    ListNodePool(Reclaimer reclaimer, int capacity) {
        if (capacity < 0) throw new IllegalArgumentException("poolCapacity must be >= 0, was " + capacity);
        this.reclaimer = reclaimer;
        this.capacity = capacity;
    }

    ListNode<K, V> allocate() {
        allocated.increment();
        return new ListNode<>(reclaimer.era());
    }

    /**
     * Takes a free node, or allocates one.
     *
     * @param guard the caller's open guard, held until the node is published or retired
     * @param slot a protection slot the caller does not use for anything else meanwhile
     */
    ListNode<K, V> take(Guard guard, int slot) {
        while (true) {
            ListNode<K, V> top = guard.protect(head, slot);
            if (top == null) return allocate();
            ListNode<K, V> below = top.nextVolatile(); // only installed by the CAS, see NodePool
            if (casHead(top, below)) { // sound because top is protected (NodePool's argument)
                top.setNextPlain(null); // plain: ours now; published by the CAS that links it
                return top;
            }
        }
    }

    private void recycle(ListNode<K, V> node) {
        node.clearPlain();
        node.setGenerationRelease(node.generationPlain() + 1); // one more life; only this action writes it
        while (true) {
            ListNode<K, V> h = headVolatile();
            int size = sizeBelow(h);
            if (size >= capacity) {
                if (h == headVolatile()) return; // full at that moment: the node goes to the GC
                continue; // the head moved while we read its count (see NodePool)
            }
            node.setBirthEraPlain(reclaimer.era()); // before the CAS that publishes it: see NodePool
            node.setNextPlain(h); // plain: published by the CAS
            node.setPoolCountPlain(size + 1); // plain: published by the CAS
            if (casHead(h, node)) return; // ABA-safe: a push is right whenever head == h
        }
    }

    /** The count carried by free node {@code h} (0 for an empty pool). */
    private static int sizeBelow(ListNode<?, ?> h) {
        return h == null ? 0 : h.poolCountOpaque();
    }

    /** Not dereferenced: only compared and installed (take() reads the head through protect). */
    private ListNode<K, V> headVolatile() {
        return head.get();
    }

    private boolean casHead(ListNode<K, V> expected, ListNode<K, V> update) {
        return head.compareAndSet(expected, update);
    }

    long allocatedNodes() {
        return allocated.sum();
    }

    int freeNodes() {
        return sizeBelow(headVolatile());
    }
}
