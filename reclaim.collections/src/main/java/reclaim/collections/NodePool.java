package reclaim.collections;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The bounded pool of free nodes behind one {@link RecyclingStack} or {@link RecyclingQueue}: a Treiber
 * stack (Treiber 1986) of nodes whose reclaim action has run.
 *
 * <p>{@link #take} hands out a node for an insertion, allocating one only when the pool is empty;
 * {@link #recycle} is the reclaim action that structures pass to {@code retire}: it clears the node, stamps
 * its birth era and pushes it back, or drops it to the garbage collector when the pool already holds
 * {@code capacity} nodes, so that a burst does not pin its nodes forever.
 *
 * @param <E> the element type of the nodes
 */
final class NodePool<E> {

    /*
     * Overview.
     *
     * A pool of recycled nodes is the textbook home of the ABA problem. take() reads the top node t, then
     * t.next, then CASes head from t to t.next; if meanwhile t was taken, used, freed and pushed back, head
     * is t again, the CAS succeeds and installs a stale t.next. C programs tag the head with a counter and
     * use a double-width CAS. We need neither, because of where nodes come from and how take() reads:
     *
     *  1. take() runs inside the caller's guard and reads the head with guard.protect(head, slot).
     *  2. A node enters the pool only through recycle(), the reclaim action, which the reclaimer runs only
     *     after every guard that could have loaded the node has closed (Guard's safety guarantee; under
     *     hazard pointers: while a slot holds it).
     *
     * So from the moment take() has protected t until its guard closes (or the slot is reused), t cannot
     * come back into the pool: if it is taken by another thread, it can be retired again, but not recycled.
     * Hence head == t at our CAS means t never left the pool since we read it, and t.next is still its
     * successor. The protect is what makes the CAS sound; protect validates (under hazard pointers) that t
     * was still the head, that is still free and not retired, after the hazard was published, so the later
     * retire of t by whoever takes it sees our hazard.
     *
     * recycle() (the push) runs outside any guard of ours and needs no protection: a push is ABA-safe by
     * itself (node.next := h; CAS head h -> node is right whenever head == h, whatever happened between).
     *
     * Birth eras. recycle() stamps birthEra = reclaimer.era() just before the CAS that publishes the node
     * in the pool: that is when the node becomes reachable again, by take()'s protect. Era-based robust
     * schemes (robust Hyaline, Crystalline) decide that a guard cannot hold an object when the guard's
     * reserved eras do not meet [birthEra, retireEra]. A guard that protects the node from the pool head
     * reserves an era >= the stamp, so the node's next retirement is held back for it. Were the era
     * stamped later, when take() hands the node out, a guard that read it from the pool head earlier could
     * reserve an era below birthEra; the scheme would recycle the node under that guard and the ABA of step
     * 2 would be back.
     *
     * The bound. A free node carries in seq how many free nodes it and those below it are (the bottom one 1),
     * set before the push that publishes it from the node it is pushed onto, so the head's seq is the pool's
     * size and neither take() nor recycle() touches a shared counter: a take is one CAS, a push one CAS.
     * recycle() reads the head's seq without protection (the head may be taken meanwhile and its seq
     * rewritten by its new owner), then checks that the head is still the node it read: the count it acts on
     * was the pool's size at that moment, unless the head left and came back in between, which can make the
     * counts above it off by the difference until those nodes are taken. Two racing recycles may both see
     * room, so the pool may hold a few nodes more than capacity (one per concurrent reclaim action). The push's
     * CAS tolerates the head leaving and coming back between the read and the CAS (the ABA that a push is safe
     * from), but the count it read may then be that of the head's other life: too large (a queue position, a
     * stack depth), and recycles leave nodes to the GC until the nodes above are taken; or too small, and the
     * pool fills past its capacity, by up to about its capacity again, until those nodes are taken. That needs
     * the head taken and recycled inside a recycle's few instructions, so it is rare; either way no node is
     * lost or handed out twice (a count only decides whether a node is kept or left to the GC), and the pool
     * never holds more nodes than it allocated.
     */

    private final Reclaimer reclaimer;
    private final int capacity;
    /** The top free node; null when the pool is empty. Its seq is the pool's size (see the overview). */
    private final AtomicReference<Node<E>> head = new AtomicReference<>();
    /** Nodes ever allocated by this pool (tests and benchmarks read it). */
    private final AtomicLong allocated = new AtomicLong();
    /** The reclaim action, one instance: a method reference evaluated per retire would allocate. */
    final Consumer<Node<E>> recycler = this::recycle;

    NodePool(Reclaimer reclaimer, int capacity) {
        if (capacity < 0) throw new IllegalArgumentException("poolCapacity must be >= 0, was " + capacity);
        this.reclaimer = reclaimer;
        this.capacity = capacity;
    }

    /**
     * Allocates a node outside the pool (counted in {@link #allocatedNodes()}).
     *
     * @return a new node, its birth era stamped now
     */
    Node<E> allocate() {
        allocated.incrementAndGet();
        return new Node<>(reclaimer.era());
    }

    /**
     * Takes a free node, or allocates one when the pool is empty. The node belongs to the caller: its
     * {@code item} is null, its {@code next} null.
     *
     * @param guard the caller's open guard; it must stay open until the CAS below, which it does since the
     *     caller holds it across the whole operation
     * @param slot the protection slot to use; the caller may reuse it as soon as this returns
     * @return a node owned by the caller
     */
    Node<E> take(Guard guard, int slot) {
        while (true) {
            Node<E> top = guard.protect(head, slot);
            if (top == null) return allocate();
            // Volatile: top may already have been taken by another thread and be relinked there; then the
            // CAS fails.
            Node<E> below = top.nextVolatile();
            if (casHead(top, below)) {
                // Plain: the node is ours; the CAS that will publish it orders this store.
                top.setNextPlain(null);
                return top;
            }
        }
    }

    /**
     * The reclaim action: clears the node and pushes it back, or leaves it to the garbage collector when the
     * pool is full. Runs when no guard can hold the node.
     *
     * @param node a node that no reader can reach any more
     */
    void recycle(Node<E> node) {
        // Plain: no guard can hold the node (the reclaimer's guarantee); the push CAS publishes these stores.
        node.setItemPlain(null);
        node.setGenerationRelease(node.generationPlain() + 1); // one more life; only this action writes it
        while (true) {
            Node<E> h = headVolatile();
            long size = sizeBelow(h);
            if (size >= capacity) {
                if (h == headVolatile()) return; // full at that moment: the node goes to the GC
                continue; // the head moved while we read its count: read again
            }
            node.setBirthEraPlain(reclaimer.era()); // before the CAS that publishes it: see the overview
            node.setNextPlain(h); // plain: published by the CAS
            node.setSeqPlain(size + 1); // plain: published by the CAS
            if (casHead(h, node)) return; // ABA-safe: a push is right whenever head == h
        }
    }

    /** The count carried by free node {@code h} (0 for an empty pool); see the overview. */
    private static long sizeBelow(Node<?> h) {
        return h == null ? 0 : h.seqOpaque();
    }

    /** Returns how many nodes this pool has ever allocated. */
    long allocatedNodes() {
        return allocated.get();
    }

    /** Returns about how many nodes the pool holds now. */
    int freeNodes() {
        return (int) Math.min(Integer.MAX_VALUE, sizeBelow(headVolatile()));
    }

    /** Returns the capacity. */
    int capacity() {
        return capacity;
    }

    /** Returns the top free node without taking it (tests only; the caller must not be racing). */
    Node<E> peekFreeForTest() {
        return headVolatile();
    }

    /** Not dereferenced: only compared and installed (take() reads the head through protect). */
    private Node<E> headVolatile() {
        return head.get();
    }

    private boolean casHead(Node<E> expected, Node<E> update) {
        return head.compareAndSet(expected, update);
    }
}
