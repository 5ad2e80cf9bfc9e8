package reclaim.collections;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A lock-free LIFO stack (Treiber's stack) whose nodes are recycled through a {@link Reclaimer}.
 *
 * <h2>What it is for</h2>
 * A Treiber stack of plain heap nodes needs no reclamation on the JVM: the garbage collector frees a
 * popped node and, by never reusing a node somebody still refers to, rules out ABA. This stack reuses its
 * nodes: a popped node is retired to the reclaimer, whose action clears it and returns it to a bounded
 * node pool that later pushes draw from, so that in the steady state a push allocates no node. Recycled
 * nodes are the heap use of safe memory reclamation; the reclaimer guarantees that no thread still reads
 * a node when it is reused. The stack is written against {@code reclaim.api} only and works with every
 * scheme.
 *
 * <h2>Algorithm</h2>
 * R. K. Treiber, <i>Systems Programming: Coping with Parallelism</i>, IBM Research Report RJ 5118, 1986.
 * {@code head} points to the top node; a push links a node above it with a CAS on {@code head}, a pop
 * swings {@code head} to the node below with a CAS. Each node stores its depth, which makes {@link #size()}
 * exact.
 *
 * <h2>Linearization points</h2>
 * A push takes effect at its successful CAS on {@code head}; a pop that returns an element at its
 * successful CAS on {@code head}; {@link #pop()} and {@link #peek()} that find the stack empty, and
 * {@link #peek()}, {@link #size()} and {@link #isEmpty()}, at their (protected, volatile) read of
 * {@code head}. Every operation is linearizable.
 *
 * <h2>Progress</h2>
 * Lock-free: a CAS fails only because another operation's CAS succeeded. Under hazard pointers a read of
 * {@code head} may also be retried when {@code head} changes while it is being protected, again because
 * another operation made progress. Allocation happens only when the node pool is empty, besides what the reclaimer
 * allocates (see the package documentation).
 *
 * <h2>Memory consistency effects</h2>
 * As with other concurrent collections, actions in a thread prior to pushing an element happen-before
 * actions subsequent to the access or removal of that element by {@link #peek()} or {@link #pop()} in
 * another thread.
 *
 * <h2>Use</h2>
 * Every operation opens a guard of the reclaimer for its duration (nested in the caller's guard if the
 * caller holds one). Close the reclaimer once the stack is no longer used: its {@code close()} runs the
 * pending reclaim actions; afterwards the stack's operations throw {@link IllegalStateException}. Null
 * elements are not allowed.
 *
 * @param <E> the element type
 */
public final class RecyclingStack<E> {

    /*
     * Overview.
     *
     * Reads. Every read of head whose result is dereferenced goes through guard.protect(head, 0), and the
     * node read stays protected until the operation's guard closes. A protected node cannot be recycled, so
     * its next, seq and item are those of the life in which we read it.
     *
     * ABA. pop reads h = head (protected), then h.next, then CASes head from h to h.next. With recycled
     * nodes, head could be h again in a later life with another next; but a node comes back only through
     * the reclaim action, which cannot run on h while our guard protects it. So head == h at our CAS means
     * h is still in the life we read, and h.next is still the node below it. The same argument covers the
     * node pool (see NodePool) and push's read of h.seq.
     *
     * Retire. A popped node is retired in the pop's own guard with the pool's recycler; the action clears
     * the item, so an element stays reachable from a popped node only until the node is recycled.
     *
     * Slots: 0 for the head (and, before it, for the pool's head inside take()). One slot suffices, so the
     * structure runs under every scheme with Guard.MIN_SLOTS to spare.
     */

    /** The default bound on the node pool: {@value}. */
    public static final int DEFAULT_POOL_CAPACITY = 4096;

    private final Reclaimer reclaimer;
    private final NodePool<E> pool;
    /** The top node, or null when empty. Read through protect; written only by CAS. */
    private final AtomicReference<Node<E>> head = new AtomicReference<>();

    /**
     * Returns the GC-allocating twin of this stack: the same algorithm and code, with a node allocated per
     * insertion and every removed node left to the garbage collector (no pool, no guards: {@code protect} is
     * a plain volatile load). The baseline the recycling stack is measured against in {@code reclaim.jmh}.
     *
     * @param <E> the element type
     * @return a new, empty twin; its {@link #reclaimer()} is a stand-in of its own that reclaims nothing and keeps
     *     none of a reclaimer's contract but closing: its {@code retire} drops the object to the GC without running
     *     the action, its guards are one stateless guard that checks nothing, its stats count nothing; closing it
     *     closes the twin (its operations then throw {@link IllegalStateException}) and no other, without waiting
     *     for guards
     */
    public static <E> RecyclingStack<E> gcTwin() {
        return new RecyclingStack<>(new GcBaseline(), 0);
    }

    /**
     * Creates an empty stack whose nodes are recycled through {@code reclaimer}, with a node pool of
     * {@link #DEFAULT_POOL_CAPACITY}.
     *
     * @param reclaimer the reclaimer; the stack opens its guards and retires its nodes there
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalStateException if {@code reclaimer} is closed
     */
    public RecyclingStack(Reclaimer reclaimer) {
        this(reclaimer, DEFAULT_POOL_CAPACITY);
    }

    /**
     * Creates an empty stack whose nodes are recycled through {@code reclaimer}.
     *
     * @param reclaimer the reclaimer; the stack opens its guards and retires its nodes there
     * @param poolCapacity how many free nodes the pool keeps at most (about: racing recycles may exceed it
     *     by a few, and rarely, in a race with the pool's head, by up to about as many again); further recycled nodes are left to the garbage collector. {@code 0} recycles nothing.
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalStateException if {@code reclaimer} is closed
     * @throws IllegalArgumentException if {@code poolCapacity} is negative
     */
    public RecyclingStack(Reclaimer reclaimer, int poolCapacity) {
        this.reclaimer = Objects.requireNonNull(reclaimer, "reclaimer");
        if (reclaimer.isClosed()) throw new IllegalStateException("the reclaimer is closed: " + reclaimer);
        this.pool = new NodePool<>(reclaimer, poolCapacity);
    }

    /**
     * Pushes an element on top of the stack.
     *
     * @param e the element
     * @throws NullPointerException if {@code e} is null
     * @throws IllegalStateException if the reclaimer is closed
     */
    public void push(E e) {
        Objects.requireNonNull(e, "element");
        try (Guard g = reclaimer.enter()) {
            Node<E> node = pool.take(g, 0);
            node.setItemPlain(e); // plain: published by the CAS below
            while (true) {
                Node<E> h = g.protect(head, 0); // protected: we read h.seq
                node.setNextPlain(h); // plain: published by the CAS below
                node.setSeqPlain(h == null ? 1 : h.seqPlain() + 1);
                if (casHead(h, node)) return; // linearization point
            }
        }
    }

    /**
     * Removes and returns the top element.
     *
     * @return the top element, or null if the stack is empty
     * @throws IllegalStateException if the reclaimer is closed
     */
    public E pop() {
        try (Guard g = reclaimer.enter()) {
            while (true) {
                Node<E> h = g.protect(head, 0);
                if (h == null) return null; // linearization point (empty)
                // Volatile read of a protected node's link; not dereferenced, only installed by the CAS.
                Node<E> below = h.nextVolatile();
                if (casHead(h, below)) { // linearization point; sound because h is protected
                    E e = h.itemPlain(); // plain: written before h was published, read after our protect (acquire)
                    g.retire(h, pool.recycler); // unlinked: recycled once no guard can hold it
                    return e;
                }
            }
        }
    }

    /**
     * Returns the top element without removing it.
     *
     * @return the top element, or null if the stack is empty
     * @throws IllegalStateException if the reclaimer is closed
     */
    public E peek() {
        try (Guard g = reclaimer.enter()) {
            Node<E> h = g.protect(head, 0); // linearization point
            return h == null ? null : h.itemPlain(); // protected: the item of the life we read
        }
    }

    /**
     * Returns whether the stack is empty.
     *
     * @return true if the stack holds no element
     */
    public boolean isEmpty() {
        // As the other operations once closed; no guard (it would bring an offline QSBR thread back online), so it
        // still answers while a refused close() leaves the reclaimer closing.
        if (reclaimer.isClosed()) throw new IllegalStateException("the reclaimer of this stack is closed");
        return headVolatile() == null; // not dereferenced: no guard needed
    }

    /**
     * Returns the number of elements. Exact at the instant of the read of the top node (each node stores its
     * depth), so linearizable, but by the time the caller looks at it other threads may have changed the
     * stack. Saturates at {@link Integer#MAX_VALUE}.
     *
     * @return the number of elements
     * @throws IllegalStateException if the reclaimer is closed
     */
    public int size() {
        try (Guard g = reclaimer.enter()) {
            Node<E> h = g.protect(head, 0);
            return h == null ? 0 : (int) Math.min(Integer.MAX_VALUE, h.seqPlain());
        }
    }

    /**
     * Returns the reclaimer that recycles this stack's nodes.
     *
     * @return the reclaimer
     */
    public Reclaimer reclaimer() {
        return reclaimer;
    }

    @Override
    public String toString() {
        return "RecyclingStack[" + reclaimer.scheme().name() + "]";
    }

    // For tests and benchmarks in this package.

    /** Returns the top node, protected in slot 0 of {@code g} until it closes; null if empty. */
    Node<E> topNode(Guard g) {
        return g.protect(head, 0);
    }

    /** Returns the node pool. */
    NodePool<E> pool() {
        return pool;
    }

    /** Only for values that are compared, never dereferenced (those are read through protect). */
    private Node<E> headVolatile() {
        return head.get();
    }

    private boolean casHead(Node<E> expected, Node<E> update) {
        return head.compareAndSet(expected, update);
    }
}
