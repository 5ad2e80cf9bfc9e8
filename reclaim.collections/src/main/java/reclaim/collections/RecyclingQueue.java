package reclaim.collections;

import java.util.AbstractQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.Objects;
import java.util.Queue;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * An unbounded lock-free FIFO queue (the Michael&ndash;Scott queue) whose nodes are recycled through a
 * {@link Reclaimer}; a {@link java.util.Queue}.
 *
 * <h2>What it is for</h2>
 * {@link java.util.concurrent.ConcurrentLinkedQueue} allocates a node per element and lets the garbage
 * collector free it, which also rules out ABA. This queue reuses its nodes: the node a dequeue unlinks is
 * retired to the reclaimer, whose action clears it and returns it to a bounded node pool that later
 * enqueues draw from, so that in the steady state an {@code offer} allocates no node. Recycled nodes are
 * the heap use of safe memory reclamation; the reclaimer guarantees that no thread still reads a node when
 * it is reused. The queue is written against {@code reclaim.api} only and works with every scheme,
 * hazard pointers included (it needs three protection slots).
 *
 * <h2>Algorithm</h2>
 * M. M. Michael and M. L. Scott, <i>Simple, Fast, and Practical Non-Blocking and Blocking Concurrent Queue
 * Algorithms</i>, PODC 1996, with the hazard-pointer discipline of M. M. Michael, <i>Hazard Pointers: Safe
 * Memory Reclamation for Lock-Free Objects</i>, IEEE TPDS 15(6), 2004. The list always starts with a dummy
 * node; {@code head} points to it, {@code tail} to the last node or the one before it. An enqueue links its
 * node after the last one with a CAS on that node's {@code next}, then swings {@code tail}; a dequeue reads
 * the element from the dummy's successor and swings {@code head} to it, which makes the successor the new
 * dummy; the old dummy is retired and recycled. Each node stores its position, which gives
 * {@link #size()} without a traversal and lets the iterator check that a node it reached is still linked.
 *
 * <h2>Linearization points</h2>
 * {@link #offer} takes effect at its successful CAS on the last node's {@code next}; {@link #poll} that
 * returns an element at its successful CAS on {@code head}; {@link #poll} and {@link #peek} that find the
 * queue empty at their read of the dummy's {@code next} (null, with {@code head} unchanged); {@link #peek}
 * that returns an element at its re-validation of {@code head}; {@link #isEmpty()} at its read of the
 * dummy's {@code next}; {@link #size()} at its read of the last node's {@code next}, once it has checked that
 * {@code head} and {@code tail} held still around that read. The bulk operations
 * ({@code addAll}, {@code contains}, {@code toArray}, {@code clear}, ...) are not atomic.
 *
 * <h2>Iteration</h2>
 * {@link #iterator()} is <em>weakly consistent</em>: it traverses, inside one guard, a snapshot of the
 * elements that were in the queue at some point after its creation, in FIFO order, each at most once; it
 * returns every element that was present at its creation and not removed meanwhile; it never throws
 * {@link java.util.ConcurrentModificationException}. It does not support {@code remove}.
 *
 * <h2>Removal of interior elements</h2>
 * The Michael&ndash;Scott queue removes only at the head. {@link #remove(Object)}, {@link #removeAll},
 * {@link #retainAll}, {@link #removeIf} and {@code iterator().remove()} throw
 * {@link UnsupportedOperationException}; {@link #poll()}, {@link #remove()} and {@link #clear()} work.
 *
 * <h2>Progress</h2>
 * Lock-free: a CAS fails, or a protected read is retried, only because another operation made progress.
 * Allocation happens only when the node pool is empty, besides what the reclaimer allocates (see the package
 * documentation).
 *
 * <h2>Memory consistency effects</h2>
 * As with other concurrent collections, actions in a thread prior to placing an object into the queue
 * happen-before actions subsequent to the access or removal of that element from the queue in another
 * thread.
 *
 * <h2>Use</h2>
 * Every operation opens a guard of the reclaimer for its duration (nested in the caller's guard if the
 * caller holds one). Close the reclaimer once the queue is no longer used: its {@code close()} runs the
 * pending reclaim actions; afterwards the queue's operations throw {@link IllegalStateException}. Null
 * elements are not allowed.
 *
 * <h2>Guard-scoped views</h2>
 * A short batch of operations can share one guard instead of opening one each: {@link #pin()} opens a
 * {@link Pinned} view whose {@code offer}, {@code poll}, {@code peek}, {@code isEmpty} and {@code size} run
 * in the view's guard (under the schemes that protect per slot, in a guard nested in it: see {@link Pinned}), with
 * the same results, linearization points and memory consistency effects as the
 * queue's own. The view holds back reclamation like any open guard; see {@link Pinned}.
 *
 * @param <E> the element type
 */
public final class RecyclingQueue<E> extends AbstractQueue<E> implements Queue<E> {

    /*
     * Overview.
     *
     * Reads. A link whose value is dereferenced is read only through guard.protect, and a node protected
     * stays in the life we read it in until the guard closes (the reclaim action cannot run on it), so its
     * next (once non-null), seq and item are those of that life. Under hazard pointers protect alone is not
     * enough for a node reached through another node's next: if the predecessor has been dequeued, its next
     * still points to the successor, which may have been dequeued, retired and recycled before our hazard
     * was published. So after protecting a successor we re-validate that it was still linked:
     *   - poll/peek: head is re-read and must still be h (Michael 2004, Fig. 4): then next was h's successor
     *     while h was the dummy, so next was not yet retired when its hazard was published.
     *   - iterator: head's position must not be beyond the successor's (see snapshot()).
     *
     * Tail. head never passes tail (a dequeue that finds head == tail first helps tail forward), so the node
     * tail points to is never retired while tail points to it; offer may dereference a protected tail.
     *
     * ABA. Every CAS compares with a node we protected (or, for poll's "h == t" test and tail helping, with
     * a value we compare and install but do not dereference). A protected node cannot come back in a new
     * life while we hold it, so head == h (or t.next == null) at our CAS means the life we read.
     *
     * Items. The element is written before the node is linked; poll reads it from the protected successor
     * before its CAS on head (afterwards another poll could already have made it the dummy and cleared it).
     * The winner clears the item of the new dummy (setItemRelease) so that the queue does not keep a removed
     * element reachable; readers that find null know head has moved and retry. The reclaim action clears it
     * again.
     *
     * Slots: 0 for head (or tail in offer, or the pool head in take), 1 for the dummy's successor;
     * the iterator rotates 0, 1 and 2.
     *
     * The GC twin (gcTwin) drops the old dummy instead of retiring it, and first links it to itself, as
     * ConcurrentLinkedQueue does: a dequeued node that was promoted to the old generation would otherwise keep
     * its successor alive through the next young collection (a dead old object's references are roots for a
     * young collection), which promotes the successor, which keeps its own successor, and so on: once any node
     * was promoted, every node the queue allocated afterwards was promoted too, and each link store was an old
     * object's (measured in PinnedBenchmark with heap=tenured: the twin's operations six times slower). The
     * self-link is stored with release after the CAS on head, so a reader that finds it also finds head moved
     * past the node: poll, peek and firstNode re-validate head and retry; offer finds tail moved (head never
     * passes tail); the snapshot goes on from head; isEmpty's answer "not empty" was true before the dequeue.
     */

    /** The default bound on the node pool: {@value}. */
    public static final int DEFAULT_POOL_CAPACITY = 4096;

    private final Reclaimer reclaimer;
    private final NodePool<E> pool;
    /** The dummy node; never null. Read through protect; written only by CAS. */
    private final AtomicReference<Node<E>> head;
    /** The last node or the one before it; never null, never behind head. Written only by CAS. */
    private final AtomicReference<Node<E>> tail;
    /** Whether this is the GC twin: a dequeued node is dropped, linked to itself (see the overview). */
    private final boolean dropsNodes;

    /**
     * Returns the GC-allocating twin of this queue: the same algorithm and code, with a node allocated per
     * insertion and every removed node left to the garbage collector (no pool, no guards: {@code protect} is
     * a plain volatile load), linked to itself as {@link java.util.concurrent.ConcurrentLinkedQueue} links its
     * dequeued nodes, so that a removed node that is still reachable, or was promoted to the old generation, does
     * not keep the nodes after it alive. The baseline the recycling queue is measured against in
     * {@code reclaim.jmh}.
     *
     * @param <E> the element type
     * @return a new, empty twin; its {@link #reclaimer()} is a stand-in of its own that reclaims nothing and keeps
     *     none of a reclaimer's contract but closing: its {@code retire} drops the object to the GC without running
     *     the action, its guards are one stateless guard that checks nothing, its stats count nothing; closing it
     *     closes the twin (its operations then throw {@link IllegalStateException}) and no other, without waiting
     *     for guards
     */
    public static <E> RecyclingQueue<E> gcTwin() {
        return new RecyclingQueue<>(new GcBaseline(), 0);
    }

    /**
     * Creates an empty queue whose nodes are recycled through {@code reclaimer}, with a node pool of
     * {@link #DEFAULT_POOL_CAPACITY}.
     *
     * @param reclaimer the reclaimer; the queue opens its guards and retires its nodes there
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalStateException if {@code reclaimer} is closed
     */
    public RecyclingQueue(Reclaimer reclaimer) {
        this(reclaimer, DEFAULT_POOL_CAPACITY);
    }

    /**
     * Creates an empty queue whose nodes are recycled through {@code reclaimer}.
     *
     * @param reclaimer the reclaimer; the queue opens its guards and retires its nodes there
     * @param poolCapacity how many free nodes the pool keeps at most (about: racing recycles may exceed it
     *     by a few, and rarely, in a race with the pool's head, by up to about as many again); further recycled nodes are left to the garbage collector. {@code 0} recycles nothing.
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalStateException if {@code reclaimer} is closed
     * @throws IllegalArgumentException if {@code poolCapacity} is negative
     */
    public RecyclingQueue(Reclaimer reclaimer, int poolCapacity) {
        this.reclaimer = Objects.requireNonNull(reclaimer, "reclaimer");
        if (reclaimer.isClosed()) throw new IllegalStateException("the reclaimer is closed: " + reclaimer);
        this.pool = new NodePool<>(reclaimer, poolCapacity);
        Node<E> dummy = pool.allocate(); // seq 0
        this.head = new AtomicReference<>(dummy);
        this.tail = new AtomicReference<>(dummy);
        this.dropsNodes = reclaimer instanceof GcBaseline;
    }

    /**
     * Inserts the element at the tail of the queue. The queue is unbounded: this never returns false.
     *
     * @param e the element
     * @return true
     * @throws NullPointerException if {@code e} is null
     * @throws IllegalStateException if the reclaimer is closed
     */
    @Override
    public boolean offer(E e) {
        Objects.requireNonNull(e, "element");
        try (Guard g = reclaimer.enter()) {
            return offer(g, e);
        }
    }

    private boolean offer(Guard g, E e) {
        Node<E> node = pool.take(g, 0); // next == null
        node.setItemPlain(e); // plain: published by the CAS on t.next
        while (true) {
            Node<E> t = g.protect(tail, 0);
            Node<E> next = t.nextVolatile(); // not dereferenced, only installed in tail
            if (t != tailVolatile()) continue; // t and next inconsistent
            if (next != null) {
                casTail(t, next); // help a lagging tail forward
                continue;
            }
            node.setSeqPlain(t.seqPlain() + 1); // plain: published by the CAS below; t protected, seq stable
            if (t.casNext(null, node)) { // linearization point
                casTail(t, node); // may fail: someone helped already
                return true;
            }
        }
    }

    /**
     * Retrieves and removes the head of the queue.
     *
     * @return the head element, or null if the queue is empty
     * @throws IllegalStateException if the reclaimer is closed
     */
    @Override
    public E poll() {
        try (Guard g = reclaimer.enter()) {
            return poll(g);
        }
    }

    private E poll(Guard g) {
        while (true) {
            Node<E> h = g.protect(head, 0);
            Node<E> t = tailVolatile(); // only compared with h and used to help tail
            Node<E> next = g.protect(h.next, 1);
            if (h != headVolatile()) continue; // re-validate: next was h's successor while h was the dummy
            if (next == null) return null; // linearization point (empty): the read of h.next
            if (h == t) {
                casTail(t, next); // tail lags: help it, then retry
                continue;
            }
            E e = next.itemVolatile(); // before the CAS: afterwards next may become someone's dummy
            if (e != null && casHead(h, next)) { // linearization point
                next.setItemRelease(null); // next is the dummy now: drop the removed element (racing readers)
                if (dropsNodes) {
                    h.setNextRelease(h); // the twin: dropped, linked to itself (see the overview)
                } else {
                    g.retire(h, pool.recycler); // the old dummy: recycled once no guard can hold it
                }
                return e;
            }
            // e == null: head has moved on since the re-validation; the CAS would fail. Retry.
        }
    }

    /**
     * Retrieves, but does not remove, the head of the queue.
     *
     * @return the head element, or null if the queue is empty
     * @throws IllegalStateException if the reclaimer is closed
     */
    @Override
    public E peek() {
        try (Guard g = reclaimer.enter()) {
            return peek(g);
        }
    }

    private E peek(Guard g) {
        while (true) {
            Node<E> h = g.protect(head, 0);
            Node<E> next = g.protect(h.next, 1);
            if (h != headVolatile()) continue; // linearization point when it holds
            if (next == null) return null;
            E e = next.itemVolatile();
            if (e != null) return e;
            // null: next has become the dummy and its item was cleared; head has moved on
        }
    }

    /**
     * Returns whether the queue is empty.
     *
     * @return true if the queue holds no element
     * @throws IllegalStateException if the reclaimer is closed
     */
    @Override
    public boolean isEmpty() {
        try (Guard g = reclaimer.enter()) {
            return isEmpty(g);
        }
    }

    private boolean isEmpty(Guard g) {
        Node<E> h = g.protect(head, 0);
        // A null next means h is the last node; head cannot have passed it: the queue was empty then.
        return h.nextVolatile() == null; // linearization point
    }

    /**
     * Returns the number of elements: the distance from the dummy to the last node, from their stored
     * positions, without a traversal. Linearizable: the size the queue had at one instant during the call.
     * Saturates at {@link Integer#MAX_VALUE}.
     *
     * @return the number of elements
     * @throws IllegalStateException if the reclaimer is closed
     */
    @Override
    public int size() {
        try (Guard g = reclaimer.enter()) {
            return size(g);
        }
    }

    /*
     * The read of t.next is the linearization point: head and tail were h and t when read and are again
     * after it, and neither comes back to a node it has left (both only move forward, and h and t are
     * protected, so neither can return in a new life), so they were h and t at that instant too. Tail then
     * pointed to the last node or the one before it: the last node was t when t.next was null, and t.next
     * otherwise. Without the re-reads the distance could mix two instants (head read before a poll, tail's
     * successor after an offer: a size the queue never had); a retry means another operation moved head or
     * tail, so the loop is lock-free.
     */
    private int size(Guard g) {
        while (true) {
            Node<E> h = g.protect(head, 0);
            Node<E> t = g.protect(tail, 1); // read after head, and tail is never behind head: t.seq >= h.seq
            Node<E> next = t.nextVolatile(); // not dereferenced: only whether it is null
            if (h != headVolatile() || t != tailVolatile()) continue;
            long last = t.seqPlain() + (next != null ? 1 : 0); // t protected: the seq of the life we read
            return (int) Math.min(Integer.MAX_VALUE, last - h.seqPlain());
        }
    }

    /**
     * Returns a weakly consistent iterator over the elements in FIFO order (see the class documentation). The
     * snapshot is taken inside one guard when this method is called; the iterator holds no guard.
     *
     * @return the iterator; its {@code remove} throws {@link UnsupportedOperationException}
     * @throws IllegalStateException if the reclaimer is closed
     */
    @Override
    public Iterator<E> iterator() {
        return Collections.unmodifiableList(snapshot()).iterator();
    }

    /**
     * Returns a weakly consistent spliterator over the elements in FIFO order, over the same snapshot as
     * {@link #iterator()}: a concurrent source (updates during a traversal are allowed and never make it throw),
     * ordered, no null element; not SIZED, since the size of a changing queue is not known ahead.
     *
     * @return the spliterator
     * @throws IllegalStateException if the reclaimer is closed
     */
    @Override
    public Spliterator<E> spliterator() {
        return Spliterators.spliteratorUnknownSize(iterator(),
                Spliterator.CONCURRENT | Spliterator.NONNULL | Spliterator.ORDERED);
    }

    /**
     * Not supported: the Michael&ndash;Scott queue removes only at the head.
     *
     * @param o ignored
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    public boolean remove(Object o) {
        throw new UnsupportedOperationException("RecyclingQueue removes only at the head: use poll()");
    }

    /**
     * Not supported: the Michael&ndash;Scott queue removes only at the head.
     *
     * @param c ignored
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    public boolean removeAll(Collection<?> c) {
        throw new UnsupportedOperationException("RecyclingQueue removes only at the head: use poll()");
    }

    /**
     * Not supported: the Michael&ndash;Scott queue removes only at the head.
     *
     * @param c ignored
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    public boolean retainAll(Collection<?> c) {
        throw new UnsupportedOperationException("RecyclingQueue removes only at the head: use poll()");
    }

    /**
     * Not supported: the Michael&ndash;Scott queue removes only at the head.
     *
     * @param filter ignored
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    public boolean removeIf(Predicate<? super E> filter) {
        throw new UnsupportedOperationException("RecyclingQueue removes only at the head: use poll()");
    }

    /**
     * Opens a guard-scoped view of this queue on the current thread: one guard of the reclaimer, held until
     * the view is closed, in which the view's operations run instead of opening a guard each. Use it with
     * try-with-resources, for a short batch of operations:
     * <pre>{@code
     * try (RecyclingQueue.Pinned<Task> q = queue.pin()) {
     *     for (Task t : batch) q.offer(t);
     * }
     * }</pre>
     * See {@link Pinned} for what an open view costs the other threads.
     *
     * @return the view, open; close it on this thread
     * @throws IllegalStateException if the reclaimer is closed
     */
    public Pinned<E> pin() {
        return new Pinned<>(this);
    }

    /**
     * A guard-scoped view of a {@link RecyclingQueue}, opened by {@link RecyclingQueue#pin()}: the queue's
     * single-element operations, run in one guard that the view opens when it is created and closes with
     * it. Each operation behaves exactly as the queue's method of the same name (results, linearization
     * point, memory consistency effects, exceptions); the view only saves the cost of opening and closing a
     * guard per operation (see {@code docs/benchmarks.md}).
     *
     * <h2>Hold it briefly</h2>
     * An open view is an open guard of the reclaimer and holds back reclamation as one does, for as long as
     * it stays open. Under EBR and QSBR nothing retired to the reclaimer (by any thread, from any structure
     * that shares it) is reclaimed until the view closes: a view left open stalls reclamation for everyone
     * ({@link reclaim.api.Stats#stalled()} reports it) and the node pools stop refilling. The robust schemes
     * (hazard pointers, robust Hyaline, Crystalline) bound what an open guard holds back
     * ({@link Reclaimer#pendingBound()}); under hazard pointers and Crystalline each operation
     * protects in one level of nested slots, which the view's next operation reuses: what the last one read stays
     * protected until then or until the view closes, no more. Use a view for a short batch of operations on one
     * thread, not as a long-lived handle, and do not block while it is open.
     *
     * <h2>Misuse</h2>
     * A view belongs to the thread that opened it: an operation or {@code close()} from another thread, an
     * operation after {@code close()}, and a second {@code close()} throw {@link IllegalStateException}
     * naming the problem, until the owner opens the view again with {@link #reopen()} (a thread that keeps its
     * view and reopens it for each batch allocates nothing per batch). Views nest with each other and with guards
     * as guards do.
     * Under the schemes that protect per slot (hazard pointers, Crystalline) each operation runs in a guard nested in
     * whatever guard is open, as the per-operation method does, so that a guard opened after the view keeps what it
     * protected in its slots when the view's operations run inside it.
     *
     * @param <E> the element type
     */
    public static final class Pinned<E> extends PinnedView {
        private final RecyclingQueue<E> queue;

        private Pinned(RecyclingQueue<E> queue) {
            super(queue.reclaimer);
            this.queue = queue;
        }

        /**
         * Closes the view and its guard: what its operations protected may be reclaimed again.
         *
         * @throws IllegalStateException if the view is already closed, or the caller is not the thread that
         *     opened it
         */
        @Override
        public void close() {
            Thread t = Thread.currentThread();
            if (t != owner || closed) throw misuseOnClose(getClass(), t, owner);
            closed = true;
            guard.close();
        }

        /**
         * Opens this view again, after {@link #close()}, on the thread that opened it: a new guard, held until the
         * view closes again, with the view's operations and rules as before. A thread that keeps its view and
         * reopens it for each batch of operations allocates nothing per batch, whatever the JIT does: a view from
         * {@link RecyclingQueue#pin()} is an object, which the JIT removes only where it inlines every call on it.
         * <pre>{@code
         * try (var v = view.reopen()) {   // view: kept by this thread, closed between batches
         *     ...
         * }
         * }</pre>
         *
         * @return this view, open
         * @throws IllegalStateException if the view is open, if the caller is not the thread that opened it, or if
         *     the reclaimer is closed (the view then stays closed)
         */
        public Pinned<E> reopen() {
            reopening();
            return this;
        }

        /**
         * As {@link RecyclingQueue#offer(Object)}, in this view's guard.
         *
         * @param e the element
         * @return true
         * @throws NullPointerException if {@code e} is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public boolean offer(E e) {
            Guard g = begin();
            try {
                Objects.requireNonNull(e, "element");
                return queue.offer(g, e);
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingQueue#poll()}, in this view's guard.
         *
         * @return the head element, or null if the queue is empty
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public E poll() {
            Guard g = begin();
            try {
                return queue.poll(g);
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingQueue#peek()}, in this view's guard.
         *
         * @return the head element, or null if the queue is empty
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public E peek() {
            Guard g = begin();
            try {
                return queue.peek(g);
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingQueue#isEmpty()}, in this view's guard.
         *
         * @return true if the queue holds no element
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public boolean isEmpty() {
            Guard g = begin();
            try {
                return queue.isEmpty(g);
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingQueue#size()}, in this view's guard.
         *
         * @return the number of elements
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public int size() {
            Guard g = begin();
            try {
                return queue.size(g);
            } finally {
                end(g);
            }
        }
    }

    /**
     * Returns the reclaimer that recycles this queue's nodes.
     *
     * @return the reclaimer
     */
    public Reclaimer reclaimer() {
        return reclaimer;
    }

    /*
     * The snapshot, under one guard, with at most three hazards.
     *
     * end: the position of the last node when we start (tail's, or the one after tail). Positions grow by one
     * per node along the list, so the walk stops there and terminates however fast others enqueue.
     *
     * Step: c is protected and was linked when protected (inductively), so c.next is c's successor n in c's
     * life, at position c.seq + 1. We protect n, then read head (protected too, to read its seq): if
     * head.seq <= c.seq + 1, head had not passed n after n's hazard was published, so n was not retired
     * then and stays protected. If moreover head.seq <= c.seq, n was still holding an element, and n's item
     * (if not yet cleared by a poll since) is that element. If head.seq > c.seq + 1, c and n are gone and
     * the walk goes on from the current head, which skips only elements removed after the snapshot began.
     * Every step raises c.seq, so each element is added at most once, in FIFO order.
     */
    private ArrayList<E> snapshot() {
        ArrayList<E> out = new ArrayList<>();
        try (Guard g = reclaimer.enter()) {
            Node<E> t = g.protect(tail, 0);
            long end = t.seqPlain() + (t.nextVolatile() != null ? 1 : 0);
            int cs = 0, ns = 1, hs = 2;
            Node<E> c = g.protect(head, cs); // the dummy: its item is not an element
            while (c.seqPlain() < end) {
                Node<E> n = g.protect(c.next, ns);
                if (n == null) break; // c was the last node
                if (n == c) { // the twin's dequeued node: go on from head, as below
                    c = g.protect(head, cs);
                    continue;
                }
                Node<E> h = g.protect(head, hs);
                long hseq = h.seqPlain();
                long cseq = c.seqPlain();
                if (hseq <= cseq + 1) {
                    if (hseq <= cseq) {
                        E e = n.itemVolatile(); // a poll may clear it concurrently once n is the dummy
                        if (e != null) out.add(e);
                    }
                    c = n;
                    int s = cs; cs = ns; ns = s;
                } else {
                    c = h; // head moved past n: continue from it
                    int s = cs; cs = hs; hs = s;
                }
            }
        }
        return out;
    }

    // For tests and benchmarks in this package.

    /**
     * Returns the first node that holds an element, protected (slot 1) until {@code g} closes, or null if
     * the queue is empty. The node's item may be cleared concurrently once a poll has taken it.
     */
    Node<E> firstNode(Guard g) {
        while (true) {
            Node<E> h = g.protect(head, 0);
            Node<E> next = g.protect(h.next, 1);
            if (h == headVolatile()) return next;
        }
    }

    /** Returns the node pool. */
    NodePool<E> pool() {
        return pool;
    }

    // Accesses of head and tail outside protect: the values are compared or installed, never dereferenced.

    private Node<E> headVolatile() {
        return head.get();
    }

    private boolean casHead(Node<E> expected, Node<E> update) {
        return head.compareAndSet(expected, update);
    }

    private Node<E> tailVolatile() {
        return tail.get();
    }

    private boolean casTail(Node<E> expected, Node<E> update) {
        return tail.compareAndSet(expected, update);
    }
}
