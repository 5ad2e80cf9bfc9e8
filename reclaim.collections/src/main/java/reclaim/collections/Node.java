package reclaim.collections;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReference;
import reclaim.api.Born;

/**
 * A node of a {@link RecyclingStack} or a {@link RecyclingQueue}, and, between two uses, of the
 * {@link NodePool} they draw nodes from.
 *
 * <p>A node lives many lives. In each it is taken from the pool (or allocated), filled, published into
 * its structure, unlinked, retired, and finally recycled by the reclaim action, which clears it, counts the
 * life in {@code generation} and pushes it back into the pool. Within one life {@code next} (once
 * non-null), {@code seq} and {@code birthEra} do not change; the reclaimer guarantees that a thread that
 * protected the node sees only one life until its guard closes.
 *
 * @param <E> the element type
 */
final class Node<E> implements Born {

    /*
     * Fields and their invariants.
     *
     * next: the link. In the stack: the node below (immutable once published). In the queue: null until
     *   the successor is linked by a CAS, then immutable for the rest of the life. In the pool: the next free
     *   node. Read through Guard.protect wherever the value read is dereferenced; otherwise through
     *   nextVolatile(), written through setNextPlain() (before publication) and casNext().
     * item: the element; non-null while the node holds a live element. Written before the node is published
     *   (setItemPlain, published by the CAS that links the node); cleared by the queue's dequeuer once the
     *   node became the dummy (setItemRelease, racing with readers that check for null: itemVolatile), and
     *   by the reclaim action (setItemPlain: no reader can hold the node then).
     * seq: the stack depth (1 for the bottom node) or the queue position (0 for the first dummy, then +1
     *   per node). Written before publication (setSeqPlain), read only by threads that protected the node
     *   (seqPlain, ordered by the publishing CAS and the acquire of protect). In the pool: how many free nodes
     *   this one and those below it are, written before the push that publishes it and read by later pushes
     *   without protection (seqOpaque: the node may meanwhile have been taken, and its seq rewritten).
     * birthEra: Reclaimer.era() when the node was allocated, then again each time it is pushed back into the
     *   pool (see NodePool for why at that moment). Read by the reclaimer in retire, which the retiring thread
     *   reaches through the chain of CASes that published and unlinked the node.
     * generation: how many times the node has been recycled. Written only by the reclaim action
     *   (generationPlain, then setGenerationRelease: the node is the action's own then) and read by tests
     *   (generationVolatile) to check that a node does not change lives under a guard.
     */

    /** The link; see the field notes above. */
    final AtomicReference<Node<E>> next = new AtomicReference<>();

    private E item;
    private long seq;
    private long birthEra;
    private int generation;

    /**
     * Creates a free node.
     *
     * @param birthEra the reclaimer's era now
     */
    Node(long birthEra) {
        this.birthEra = birthEra;
    }

    @Override
    public long birthEra() {
        return birthEra;
    }

    /** Stamps the birth era; only before the node is published (pool push). */
    void setBirthEraPlain(long era) {
        birthEra = era;
    }

    Node<E> nextVolatile() {
        return next.get();
    }

    void setNextPlain(Node<E> n) {
        next.setPlain(n);
    }

    /** The GC twin's queue: a dequeued node links to itself (release: after the CAS on head that dequeued it). */
    void setNextRelease(Node<E> n) {
        next.setRelease(n);
    }

    boolean casNext(Node<E> expected, Node<E> update) {
        return next.compareAndSet(expected, update);
    }

    E itemPlain() {
        return item;
    }

    void setItemPlain(E e) {
        item = e;
    }

    E itemVolatile() {
        @SuppressWarnings("unchecked")
        E e = (E) ITEM.getVolatile(this);
        return e;
    }

    void setItemRelease(E e) {
        ITEM.setRelease(this, e);
    }

    long seqPlain() {
        return seq;
    }

    /** The pool's racing read of a free node's count (see the field notes): opaque, never torn. */
    long seqOpaque() {
        return (long) SEQ.getOpaque(this);
    }

    void setSeqPlain(long s) {
        seq = s;
    }

    /** Only the reclaim action reads the generation plainly (the node is exclusively its own then). */
    int generationPlain() {
        return generation;
    }

    int generationVolatile() {
        return (int) GENERATION.getVolatile(this);
    }

    /** Only the reclaim action writes the generation (the node is exclusively its own then). */
    void setGenerationRelease(int g) {
        GENERATION.setRelease(this, g);
    }

    @Override
    public String toString() {
        return "Node[seq=" + seq + ", generation=" + generation + ", birthEra=" + birthEra + "]";
    }

    // VarHandle mechanics
    private static final VarHandle ITEM;
    private static final VarHandle GENERATION;
    private static final VarHandle SEQ;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            ITEM = l.findVarHandle(Node.class, "item", Object.class);
            GENERATION = l.findVarHandle(Node.class, "generation", int.class);
            SEQ = l.findVarHandle(Node.class, "seq", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
