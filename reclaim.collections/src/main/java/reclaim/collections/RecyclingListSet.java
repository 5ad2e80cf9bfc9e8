package reclaim.collections;

import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.atomic.LongAdder;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A lock-free set as one Harris&ndash;Michael linked list, whose nodes are recycled through a
 * {@link Reclaimer}; a {@link java.util.Set}.
 *
 * <h2>What it is for</h2>
 * The list-based set of the IBR benchmark (Wen et al., PPoPP 2018) and of the Hyaline and Crystalline
 * papers: every operation traverses the list from its head, so it measures the read side of a reclamation
 * scheme (one protect per hop) as much as its retire side. A removed node, and the marker node that froze
 * its link, is retired to the reclaimer, whose action clears it and returns it to a bounded node pool that
 * later insertions draw from: in the steady state an insertion allocates no node. The reclaimer guarantees
 * that no reader still holds a node when it is reused. Suited to small sets (a few hundred elements): every
 * operation is linear in the size.
 *
 * <h2>Algorithm</h2>
 * T. L. Harris, <i>A Pragmatic Implementation of Non-Blocking Linked-Lists</i>, DISC 2001, with
 * M. M. Michael's hazard-pointer traversal (SPAA 2002; IEEE TPDS 2004). Elements are kept in the order of
 * their spread hash codes (equal hashes in insertion order); a removal sets the element's value to null
 * (logical removal), freezes its link with a marker node (Harris's mark bit, as Doug Lea's
 * {@code ConcurrentSkipListMap} does it on the JVM) and unlinks it; the thread whose CAS unlinks it retires
 * it, exactly once. {@code HarrisList} works out why every traversal step is safe under hazard pointers.
 *
 * <h2>Linearization points</h2>
 * {@link #add} that adds at the CAS that links the node; {@link #remove} that removes at the CAS that sets
 * the node's value to null; {@link #contains} that finds the element at its read of the live value; an
 * unsuccessful {@code add}, {@code remove} or {@code contains} within its traversal. {@link #size()} is exact
 * while the set is quiescent; bulk operations are not atomic.
 *
 * <h2>Iteration</h2>
 * {@link #iterator()} is <em>weakly consistent</em>: it returns each element present at its creation and not
 * removed since exactly once, in list order, may reflect later changes and never throws
 * {@link java.util.ConcurrentModificationException}. It copies the elements in one guard when it is created
 * (the guard is not held between calls). {@code Iterator.remove} is supported.
 *
 * <h2>Memory consistency effects</h2>
 * As with other concurrent collections, actions in a thread prior to placing an object into the set
 * happen-before actions subsequent to the access or removal of that object from the set in another thread.
 *
 * <h2>Use</h2>
 * Every operation opens a guard of the reclaimer for its duration (nested in the caller's guard if the
 * caller holds one). Close the reclaimer once the set is no longer used; afterwards operations throw
 * {@link IllegalStateException}. Null elements are not allowed: a null argument throws
 * {@link NullPointerException}, also where a bulk operation ({@code removeAll}, {@code containsAll}, as
 * {@code AbstractSet} runs them) meets it, possibly after it removed the elements before it.
 *
 * <h2>Guard-scoped views</h2>
 * A short batch of operations can share one guard instead of opening one each: {@link #pin()} opens a
 * {@link Pinned} view whose {@code add}, {@code contains} and {@code remove} run in the view's guard (under the
 * schemes that protect per slot, in a guard nested in it: see {@link Pinned}), with
 * the same results, linearization points and memory consistency effects as the set's own. The view holds
 * back reclamation like any open guard; see {@link Pinned}.
 *
 * @param <E> the element type
 */
public final class RecyclingListSet<E> extends AbstractSet<E> implements Set<E> {

    /** The default bound on the node pool: {@value}. */
    public static final int DEFAULT_POOL_CAPACITY = 1024;

    private final HarrisList<E, Boolean> list;
    private final ListNode<E, Boolean> head;
    private final LongAdder count = new LongAdder();

    /**
     * Creates an empty set with a node pool of {@link #DEFAULT_POOL_CAPACITY}.
     *
     * @param reclaimer the reclaimer; the set opens its guards and retires its nodes there
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalStateException if {@code reclaimer} is closed
     */
    public RecyclingListSet(Reclaimer reclaimer) {
        this(reclaimer, DEFAULT_POOL_CAPACITY);
    }

    /**
     * Creates an empty set.
     *
     * @param reclaimer the reclaimer; the set opens its guards and retires its nodes there
     * @param poolCapacity how many free nodes the pool keeps at most (about); {@code 0} recycles nothing
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalStateException if {@code reclaimer} is closed
     * @throws IllegalArgumentException if {@code poolCapacity} is negative
     */
    public RecyclingListSet(Reclaimer reclaimer, int poolCapacity) {
        Objects.requireNonNull(reclaimer, "reclaimer");
        if (reclaimer.isClosed()) throw new IllegalStateException("the reclaimer is closed: " + reclaimer);
        this.list = new HarrisList<>(reclaimer, poolCapacity);
        this.head = list.newHead();
    }

    /**
     * Returns the GC-allocating twin of this set: the same algorithm and code, with a node allocated per
     * insertion and every removed node left to the garbage collector (no pool, no guards: {@code protect} is
     * a plain volatile load). The baseline the recycling set is measured against in {@code reclaim.jmh}.
     *
     * @param <E> the element type
     * @return a new, empty twin; its {@link #reclaimer()} is a stand-in of its own that reclaims nothing and keeps
     *     none of a reclaimer's contract but closing: its {@code retire} drops the object to the GC without running
     *     the action, its guards are one stateless guard that checks nothing, its stats count nothing; closing it
     *     closes the twin (its operations then throw {@link IllegalStateException}) and no other, without waiting
     *     for guards
     */
    public static <E> RecyclingListSet<E> gcTwin() {
        return new RecyclingListSet<>(new GcBaseline(), 0);
    }

    /**
     * Adds the element if it is absent.
     *
     * @return whether the set changed
     * @throws NullPointerException if {@code e} is null
     */
    @Override
    public boolean add(E e) {
        int h = HarrisList.spread(e);
        try (Guard g = list.reclaimer().enter()) {
            return add(g, e, h);
        }
    }

    private boolean add(Guard g, E e, int h) {
        while (true) {
            ListNode<E, Boolean> n = list.find(g, head, e, h, Boolean.TRUE);
            if (n == null) {
                count.increment();
                return true;
            }
            if (n.valueVolatile() != null) return false; // present (linearization point)
            // removed since find met it: the next find unlinks it and links ours
        }
    }

    /**
     * Returns whether the element is in the set.
     *
     * @throws NullPointerException if {@code o} is null
     */
    @Override
    public boolean contains(Object o) {
        int h = HarrisList.spread(o);
        try (Guard g = list.reclaimer().enter()) {
            return contains(g, o, h);
        }
    }

    private boolean contains(Guard g, Object o, int h) {
        ListNode<E, Boolean> n = list.find(g, head, o, h, null);
        return n != null && n.valueVolatile() != null;
    }

    /**
     * Removes the element if it is present.
     *
     * @return whether the set changed
     * @throws NullPointerException if {@code o} is null
     */
    @Override
    public boolean remove(Object o) {
        int h = HarrisList.spread(o);
        try (Guard g = list.reclaimer().enter()) {
            return remove(g, o, h);
        }
    }

    private boolean remove(Guard g, Object o, int h) {
        ListNode<E, Boolean> n = list.find(g, head, o, h, null);
        if (n == null) return false;
        Boolean v = n.valueVolatile();
        if (v == null || !n.casValue(v, null)) return false; // removed by another thread: absent then
        count.decrement(); // the CAS above is the linearization point
        list.find(g, head, o, h, null); // marks and unlinks the node
        return true;
    }

    /**
     * Returns the number of elements: exact while the set is quiescent, an estimate under concurrent updates.
     */
    @Override
    public int size() {
        checkOpen();
        long n = count.sum();
        return n < 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, n);
    }

    /**
     * Returns whether the set holds no element: {@code size() == 0}, with the same caveat. Exact while the set is
     * quiescent; under concurrent updates an estimate that may answer true while an element that no thread removes is
     * present (one thread's removal of another element counted before another's insertion of it).
     */
    @Override
    public boolean isEmpty() {
        checkOpen();
        return count.sum() <= 0;
    }

    /**
     * Throws once the reclaimer is closed, as every operation does. Size and isEmpty read a counter and open no guard
     * (one would bring an offline QSBR thread back online), so while a refused {@code close()} leaves the reclaimer
     * closing they still answer, where the operations that open a guard refuse.
     */
    private void checkOpen() {
        if (list.reclaimer().isClosed()) throw new IllegalStateException("the reclaimer of this set is closed");
    }

    /**
     * Returns a weakly consistent spliterator over the elements (see the class documentation): a concurrent source
     * (updates during a traversal are allowed and never make it throw), no null element, no duplicate; not SIZED,
     * since the size of a changing set is not known ahead.
     *
     * @return the spliterator
     */
    @Override
    public Spliterator<E> spliterator() {
        return Spliterators.spliteratorUnknownSize(iterator(),
                Spliterator.CONCURRENT | Spliterator.NONNULL | Spliterator.DISTINCT);
    }

    /** Removes every element (not atomic). */
    @Override
    public void clear() {
        for (Iterator<E> it = iterator(); it.hasNext(); ) {
            it.next();
            it.remove();
        }
    }

    /**
     * Returns a weakly consistent iterator (see the class documentation).
     *
     * @return the iterator
     */
    @Override
    public Iterator<E> iterator() {
        ArrayList<Object> snapshot = new ArrayList<>();
        try (Guard g = list.reclaimer().enter()) {
            list.snapshot(g, head, snapshot);
        }
        return new Iterator<>() {
            private int pos;
            private E last;

            @Override
            public boolean hasNext() {
                return pos < snapshot.size();
            }

            @Override
            @SuppressWarnings("unchecked")
            public E next() {
                if (pos >= snapshot.size()) throw new NoSuchElementException();
                last = (E) snapshot.get(pos);
                pos += 2;
                return last;
            }

            @Override
            public void remove() {
                if (last == null) throw new IllegalStateException("next() not called, or remove() already called");
                RecyclingListSet.this.remove(last);
                last = null;
            }
        };
    }

    /**
     * Opens a guard-scoped view of this set on the current thread: one guard of the reclaimer, held until the
     * view is closed, in which the view's operations run instead of opening a guard each. Use it with
     * try-with-resources, for a short batch of operations:
     * <pre>{@code
     * try (RecyclingListSet.Pinned<String> s = set.pin()) {
     *     for (String w : words) s.add(w);
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
     * A guard-scoped view of a {@link RecyclingListSet}, opened by {@link RecyclingListSet#pin()}: the set's
     * single-element operations, run in one guard that the view opens when it is created and closes with
     * it. Each operation behaves exactly as the set's method of the same name (results, linearization point,
     * memory consistency effects, exceptions); the view only saves the cost of opening and closing a guard
     * per operation.
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
        private final RecyclingListSet<E> set;

        private Pinned(RecyclingListSet<E> set) {
            super(set.reclaimer());
            this.set = set;
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
         * {@link RecyclingListSet#pin()} is an object, which the JIT removes only where it inlines every call on it.
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
         * As {@link RecyclingListSet#add(Object)}, in this view's guard.
         *
         * @param e the element
         * @return whether the set changed
         * @throws NullPointerException if {@code e} is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public boolean add(E e) {
            Guard g = begin();
            try {
                return set.add(g, e, HarrisList.spread(e));
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingListSet#contains(Object)}, in this view's guard.
         *
         * @param o the element
         * @return whether the element is in the set
         * @throws NullPointerException if {@code o} is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public boolean contains(Object o) {
            Guard g = begin();
            try {
                return set.contains(g, o, HarrisList.spread(o));
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingListSet#remove(Object)}, in this view's guard.
         *
         * @param o the element
         * @return whether the set changed
         * @throws NullPointerException if {@code o} is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public boolean remove(Object o) {
            Guard g = begin();
            try {
                return set.remove(g, o, HarrisList.spread(o));
            } finally {
                end(g);
            }
        }
    }

    /**
     * Returns the reclaimer that recycles this set's nodes.
     *
     * @return the reclaimer
     */
    public Reclaimer reclaimer() {
        return list.reclaimer();
    }

    // For tests in this package.

    /** The node of {@code o}, protected by {@code g} (slots 0..3) until g's next protect; or null. */
    ListNode<E, Boolean> findNode(Guard g, Object o) {
        return list.find(g, head, o, HarrisList.spread(o), null);
    }

    ListNodePool<E, Boolean> pool() {
        return list.pool();
    }
}
