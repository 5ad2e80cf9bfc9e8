package reclaim.collections;

import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collection;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Predicate;
import java.util.concurrent.atomic.LongAdder;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A lock-free hash map (Michael's hash table: a fixed array of Harris&ndash;Michael lists) whose nodes are
 * recycled through a {@link Reclaimer}; a {@link ConcurrentMap}.
 *
 * <h2>What it is for</h2>
 * {@link java.util.concurrent.ConcurrentHashMap} allocates a node per mapping and lets the garbage collector
 * free it. This map reuses its nodes: a removed entry (and the marker node that froze its link) is retired
 * to the reclaimer, whose action clears it and returns it to a bounded node pool that later insertions draw
 * from, so in the steady state an insertion allocates no node. The reclaimer guarantees that no reader still
 * holds a node when it is reused. Written against {@code reclaim.api} only; works with every scheme, hazard
 * pointers included (it uses four protection slots). It is also the workload of the IBR benchmark
 * (Wen et al., PPoPP 2018) that the Hyaline and Crystalline papers report, run in {@code reclaim.jmh}.
 *
 * <h2>Algorithm</h2>
 * M. M. Michael, <i>High Performance Dynamic Lock-Free Hash Tables and List-Based Sets</i>, SPAA 2002: a
 * fixed number of buckets, chosen at construction from the expected size (a power of two, at least the
 * expected size: one entry per bucket on average at that size); the table does not grow, so a map that
 * holds many times its expected size gets longer buckets, not a resize. Each bucket is a Harris&ndash;Michael
 * list sorted by hash; see {@code HarrisList} for the removal in three steps (value CAS to null, a marker
 * node, unlink), the hazard-pointer validation and why each removed node is retired exactly once.
 *
 * <h2>Linearization points</h2>
 * An insertion at the CAS that links the new entry; a replacement of a value ({@code put} on a present key,
 * {@code replace}) at its CAS on the entry's value; a removal at the CAS of the value to null; a lookup that
 * finds the key at its read of the value; one that does not, at its traversal's last validation. Bulk
 * operations ({@code putAll}, {@code clear}, iteration, {@code equals}) are not atomic; {@link #size()} is
 * exact only while the map is quiescent (as {@code ConcurrentHashMap}'s).
 *
 * <h2>Iteration</h2>
 * Iterators of the views are <em>weakly consistent</em>: each traverses the mappings present at its
 * creation and not removed since exactly once, may reflect later changes, and never throws
 * {@link java.util.ConcurrentModificationException}. They read one bucket at a time, in one guard, into a
 * small buffer, so no guard stays open between calls. {@code Iterator.remove} removes the last key returned
 * (if it is still mapped); {@code Map.Entry.setValue} writes through with {@code put}. The bulk removals of the
 * entry set and the values ({@code removeIf}, {@code removeAll}, {@code retainAll}) remove a mapping only if it still
 * maps the key to the value they tested, with the map's {@code remove(key, value)}, as {@code ConcurrentHashMap}'s
 * {@code removeIf} does: a mapping that another thread changed meanwhile stays.
 *
 * <h2>Progress</h2>
 * Lock-free. Allocation happens only when the node pool is empty (and for the size counter's cells under
 * contention, and the iterators' buffers), besides what the reclaimer allocates (see the package documentation).
 *
 * <h2>Memory consistency effects</h2>
 * As with other concurrent collections, actions in a thread prior to placing an object into the map as a key
 * or value happen-before actions subsequent to the access or removal of that object from the map in another
 * thread.
 *
 * <h2>Use</h2>
 * Every operation opens a guard of the reclaimer for its duration (nested in the caller's guard if the
 * caller holds one). Close the reclaimer once the map is no longer used; afterwards operations throw
 * {@link IllegalStateException}. Null keys and values are not allowed: a null argument throws
 * {@link NullPointerException}, also where a bulk operation of a view ({@code removeAll}, {@code containsAll}, as
 * {@code AbstractSet} runs them) meets it, possibly after it removed the elements before it.
 *
 * <h2>Guard-scoped views</h2>
 * A short batch of operations can share one guard instead of opening one each, as flurry's and papaya's
 * {@code pin()} allow: {@link #pin()} opens a {@link Pinned} view whose single-key operations ({@code get},
 * {@code containsKey}, {@code put}, {@code putIfAbsent}, {@code remove}, {@code replace}) run in the view's
 * guard (under the schemes that protect per slot, in a guard nested in it: see {@link Pinned}), with the same results, linearization points and memory consistency effects as the map's own. The
 * view holds back reclamation like any open guard; see {@link Pinned}.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class RecyclingHashMap<K, V> extends AbstractMap<K, V> implements ConcurrentMap<K, V> {

    /** The default expected size: {@value}. */
    public static final int DEFAULT_EXPECTED_SIZE = 1024;
    /** The default bound on the node pool: {@value}. */
    public static final int DEFAULT_POOL_CAPACITY = 4096;
    private static final int MAX_BUCKETS = 1 << 30;

    private final HarrisList<K, V> list;
    private final ListNode<K, V>[] heads;
    private final int mask;
    private final LongAdder count = new LongAdder();
    /**
     * The entry-set view, created lazily. Read and written plainly, a benign race as in {@code HashMap}: the
     * view is stateless but for its final reference to this map, so a thread that sees another's instance
     * sees it whole, and one that sees null creates its own.
     */
    private EntrySet entrySet;
    /** The key view, made on first use (plain: a racing second one is equal). */
    private KeySet keys;
    /** The values view, made on first use (plain: a racing second one is equal). */
    private Values valueView;

    /**
     * Creates an empty map for {@link #DEFAULT_EXPECTED_SIZE} mappings with a node pool of
     * {@link #DEFAULT_POOL_CAPACITY}.
     *
     * @param reclaimer the reclaimer; the map opens its guards and retires its nodes there
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalStateException if {@code reclaimer} is closed
     */
    public RecyclingHashMap(Reclaimer reclaimer) {
        this(reclaimer, DEFAULT_EXPECTED_SIZE, DEFAULT_POOL_CAPACITY);
    }

    /**
     * Creates an empty map.
     *
     * @param reclaimer the reclaimer; the map opens its guards and retires its nodes there
     * @param expectedSize the number of mappings the map is sized for (the bucket count is the next power of
     *     two, at most 2<sup>30</sup>; the table does not grow). The buckets' head nodes are allocated here, one
     *     per bucket, so the map's footprint follows {@code expectedSize} from the start, not its contents
     * @param poolCapacity how many free nodes the pool keeps at most (about); {@code 0} recycles nothing
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalStateException if {@code reclaimer} is closed
     * @throws IllegalArgumentException if {@code expectedSize} or {@code poolCapacity} is negative
     */
    public RecyclingHashMap(Reclaimer reclaimer, int expectedSize, int poolCapacity) {
        Objects.requireNonNull(reclaimer, "reclaimer");
        if (reclaimer.isClosed()) throw new IllegalStateException("the reclaimer is closed: " + reclaimer);
        if (expectedSize < 0) throw new IllegalArgumentException("expectedSize must be >= 0, was " + expectedSize);
        this.list = new HarrisList<>(reclaimer, poolCapacity);
        int n = expectedSize <= 1 ? 1
                : expectedSize >= MAX_BUCKETS ? MAX_BUCKETS : Integer.highestOneBit(expectedSize - 1) << 1;
        @SuppressWarnings("unchecked")
        ListNode<K, V>[] h = (ListNode<K, V>[]) new ListNode<?, ?>[n];
        for (int i = 0; i < n; i++) h[i] = list.newHead();
        this.heads = h;
        this.mask = n - 1;
    }

    /**
     * Returns the GC-allocating twin of this map: the same algorithm and code, with a node allocated per
     * insertion and every removed node left to the garbage collector (no pool, no guards: {@code protect} is
     * a plain volatile load). The baseline the recycling map is measured against in {@code reclaim.jmh}.
     *
     * @param <K> the key type
     * @param <V> the value type
     * @param expectedSize the number of mappings the map is sized for
     * @return a new, empty twin; its {@link #reclaimer()} is a stand-in of its own that reclaims nothing and keeps
     *     none of a reclaimer's contract but closing: its {@code retire} drops the object to the GC without running
     *     the action, its guards are one stateless guard that checks nothing, its stats count nothing; closing it
     *     closes the twin (its operations then throw {@link IllegalStateException}) and no other, without waiting
     *     for guards
     */
    public static <K, V> RecyclingHashMap<K, V> gcTwin(int expectedSize) {
        return new RecyclingHashMap<>(new GcBaseline(), expectedSize, 0);
    }

    private ListNode<K, V> head(int hash) {
        return heads[hash & mask];
    }

    /**
     * Returns the value mapped to the key, or null.
     *
     * @throws NullPointerException if {@code key} is null
     */
    @Override
    public V get(Object key) {
        int h = HarrisList.spread(key);
        try (Guard g = list.reclaimer().enter()) {
            return get(g, key, h);
        }
    }

    private V get(Guard g, Object key, int h) {
        ListNode<K, V> n = list.find(g, head(h), key, h, null);
        return n == null ? null : n.valueVolatile();
    }

    /** @throws NullPointerException if {@code key} is null */
    @Override
    public boolean containsKey(Object key) {
        return get(key) != null;
    }

    /**
     * Maps the key to the value, replacing the value of a present key.
     *
     * @return the previous value, or null if the key was absent
     * @throws NullPointerException if the key or the value is null
     */
    @Override
    public V put(K key, V value) {
        return doPut(key, value, false);
    }

    /**
     * Maps the key to the value unless the key is present.
     *
     * @return the present value, or null if the mapping was added
     * @throws NullPointerException if the key or the value is null
     */
    @Override
    public V putIfAbsent(K key, V value) {
        return doPut(key, value, true);
    }

    private V doPut(K key, V value, boolean onlyIfAbsent) {
        Objects.requireNonNull(value, "value");
        int h = HarrisList.spread(key);
        try (Guard g = list.reclaimer().enter()) {
            return doPut(g, key, h, value, onlyIfAbsent);
        }
    }

    private V doPut(Guard g, K key, int h, V value, boolean onlyIfAbsent) {
        while (true) {
            ListNode<K, V> n = list.find(g, head(h), key, h, value);
            if (n == null) { // linked a new entry
                count.increment();
                return null;
            }
            V v = n.valueVolatile();
            if (v != null) {
                if (onlyIfAbsent) return v;
                if (n.casValue(v, value)) return v; // linearization point of the replacement
            }
            // v == null: n was removed meanwhile; the next find unlinks it (or meets a newer entry)
        }
    }

    /**
     * Removes the key's mapping.
     *
     * @return the removed value, or null if the key was absent
     * @throws NullPointerException if {@code key} is null
     */
    @Override
    public V remove(Object key) {
        return exchange(key, null, null);
    }

    /**
     * Removes the key's mapping if it maps to a value equal to {@code value}.
     *
     * @return whether the mapping was removed
     * @throws NullPointerException if the key or the value is null
     */
    @Override
    public boolean remove(Object key, Object value) {
        Objects.requireNonNull(value, "value");
        return exchange(key, value, null) != null;
    }

    /**
     * Replaces the value of a present key.
     *
     * @return the previous value, or null if the key was absent
     * @throws NullPointerException if the key or the value is null
     */
    @Override
    public V replace(K key, V value) {
        Objects.requireNonNull(value, "value");
        return exchange(key, null, value);
    }

    /**
     * Replaces the value of a present key if it equals {@code oldValue}.
     *
     * @return whether the value was replaced
     * @throws NullPointerException if any argument is null
     */
    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        Objects.requireNonNull(oldValue, "oldValue");
        Objects.requireNonNull(newValue, "newValue");
        return exchange(key, oldValue, newValue) != null;
    }

    /**
     * The four conditional updates of a present entry: CAS its value from the current one (if it equals
     * {@code expected}, or any when {@code expected} is null) to {@code update}; a null update removes the
     * entry (then marks and unlinks it).
     *
     * @return the value replaced, or null if the key was absent or its value did not match
     */
    private V exchange(Object key, Object expected, V update) {
        int h = HarrisList.spread(key);
        try (Guard g = list.reclaimer().enter()) {
            return exchange(g, key, h, expected, update);
        }
    }

    private V exchange(Guard g, Object key, int h, Object expected, V update) {
        ListNode<K, V> n = list.find(g, head(h), key, h, null);
        if (n == null) return null;
        while (true) {
            V v = n.valueVolatile();
            // null: removed by another thread after our find (absent then); or a value that does not match
            if (v == null || (expected != null && !expected.equals(v))) return null;
            if (n.casValue(v, update)) { // linearization point
                if (update == null) {
                    count.decrement();
                    list.find(g, head(h), key, h, null); // marks and unlinks n (steps 2 and 3)
                }
                return v;
            }
        }
    }

    /**
     * Returns whether some key maps to a value equal to {@code value} (a traversal).
     *
     * @throws NullPointerException if {@code value} is null
     */
    @Override
    public boolean containsValue(Object value) {
        Objects.requireNonNull(value, "value");
        return super.containsValue(value);
    }

    /**
     * Returns the number of mappings: exact while the map is quiescent; under concurrent updates an estimate.
     * Saturates at {@link Integer#MAX_VALUE}.
     */
    @Override
    public int size() {
        checkOpen();
        long n = count.sum();
        return n < 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, n);
    }

    /**
     * Returns whether the map holds no mapping: {@code size() == 0}, with the same caveat. Exact while the map is
     * quiescent; under concurrent updates an estimate that may answer true while a mapping that no thread removes is
     * present (one thread's removal of another key counted before another's insertion of it), as
     * {@code ConcurrentHashMap}'s may.
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
        if (list.reclaimer().isClosed()) throw new IllegalStateException("the reclaimer of this map is closed");
    }

    /** Removes every mapping, bucket by bucket (not atomic). */
    @Override
    public void clear() {
        for (Iterator<K> it = keySet().iterator(); it.hasNext(); ) {
            it.next();
            it.remove();
        }
    }

    /**
     * Returns a view of the mappings; its iterator is weakly consistent (see the class documentation).
     *
     * @return the entry set
     */
    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        EntrySet es = entrySet;
        return es != null ? es : (entrySet = new EntrySet());
    }

    /**
     * Returns a view of the keys; its iterator and spliterator are weakly consistent (see the class documentation).
     *
     * @return the key set
     */
    @Override
    public Set<K> keySet() {
        KeySet ks = keys;
        return ks != null ? ks : (keys = new KeySet());
    }

    /**
     * Returns a view of the values; its iterator and spliterator are weakly consistent (see the class documentation).
     *
     * @return the values
     */
    @Override
    public Collection<V> values() {
        Values vs = valueView;
        return vs != null ? vs : (valueView = new Values());
    }

    /**
     * The characteristics of the views' spliterators: a concurrent source (updates during a traversal are allowed
     * and never make it throw), no null element, and, for the key and entry sets, no duplicate. Not SIZED: the size
     * of a changing map is not known ahead.
     */
    private static final int CHARACTERISTICS = Spliterator.CONCURRENT | Spliterator.NONNULL;

    /**
     * Opens a guard-scoped view of this map on the current thread: one guard of the reclaimer, held until the
     * view is closed, in which the view's operations run instead of opening a guard each. Use it with
     * try-with-resources, for a short batch of operations:
     * <pre>{@code
     * try (RecyclingHashMap.Pinned<String, Integer> m = map.pin()) {
     *     Integer hits = m.get("hits");
     *     m.put("hits", hits == null ? 1 : hits + 1);   // two operations: not atomic together
     * }
     * }</pre>
     * See {@link Pinned} for what an open view costs the other threads.
     *
     * @return the view, open; close it on this thread
     * @throws IllegalStateException if the reclaimer is closed
     */
    public Pinned<K, V> pin() {
        return new Pinned<>(this);
    }

    /**
     * A guard-scoped view of a {@link RecyclingHashMap}, opened by {@link RecyclingHashMap#pin()}: the map's
     * single-key operations, run in one guard that the view opens when it is created and closes with it.
     * Each operation behaves exactly as the map's method of the same name (results, linearization point,
     * memory consistency effects, exceptions) and is atomic on its own, not together with the others of the
     * view: the view only saves the cost of opening and closing a guard per operation (see
     * {@code docs/benchmarks.md}).
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
     * @param <K> the key type
     * @param <V> the value type
     */
    public static final class Pinned<K, V> extends PinnedView {
        private final RecyclingHashMap<K, V> map;

        private Pinned(RecyclingHashMap<K, V> map) {
            super(map.reclaimer());
            this.map = map;
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
         * {@link RecyclingHashMap#pin()} is an object, which the JIT removes only where it inlines every call on it.
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
        public Pinned<K, V> reopen() {
            reopening();
            return this;
        }

        /**
         * As {@link RecyclingHashMap#get(Object)}, in this view's guard.
         *
         * @param key the key
         * @return the value mapped to the key, or null
         * @throws NullPointerException if {@code key} is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public V get(Object key) {
            Guard g = begin();
            try {
                return map.get(g, key, HarrisList.spread(key));
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingHashMap#containsKey(Object)}, in this view's guard.
         *
         * @param key the key
         * @return whether the key is mapped
         * @throws NullPointerException if {@code key} is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public boolean containsKey(Object key) {
            return get(key) != null;
        }

        /**
         * As {@link RecyclingHashMap#put(Object, Object)}, in this view's guard.
         *
         * @param key the key
         * @param value the value
         * @return the previous value, or null if the key was absent
         * @throws NullPointerException if the key or the value is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public V put(K key, V value) {
            Guard g = begin();
            try {
                Objects.requireNonNull(value, "value");
                return map.doPut(g, key, HarrisList.spread(key), value, false);
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingHashMap#putIfAbsent(Object, Object)}, in this view's guard.
         *
         * @param key the key
         * @param value the value
         * @return the present value, or null if the mapping was added
         * @throws NullPointerException if the key or the value is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public V putIfAbsent(K key, V value) {
            Guard g = begin();
            try {
                Objects.requireNonNull(value, "value");
                return map.doPut(g, key, HarrisList.spread(key), value, true);
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingHashMap#remove(Object)}, in this view's guard.
         *
         * @param key the key
         * @return the removed value, or null if the key was absent
         * @throws NullPointerException if {@code key} is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public V remove(Object key) {
            Guard g = begin();
            try {
                return map.exchange(g, key, HarrisList.spread(key), null, null);
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingHashMap#remove(Object, Object)}, in this view's guard.
         *
         * @param key the key
         * @param value the value the key must map to
         * @return whether the mapping was removed
         * @throws NullPointerException if the key or the value is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public boolean remove(Object key, Object value) {
            Guard g = begin();
            try {
                Objects.requireNonNull(value, "value");
                return map.exchange(g, key, HarrisList.spread(key), value, null) != null;
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingHashMap#replace(Object, Object)}, in this view's guard.
         *
         * @param key the key
         * @param value the new value
         * @return the previous value, or null if the key was absent
         * @throws NullPointerException if the key or the value is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public V replace(K key, V value) {
            Guard g = begin();
            try {
                Objects.requireNonNull(value, "value");
                return map.exchange(g, key, HarrisList.spread(key), null, value);
            } finally {
                end(g);
            }
        }

        /**
         * As {@link RecyclingHashMap#replace(Object, Object, Object)}, in this view's guard.
         *
         * @param key the key
         * @param oldValue the value the key must map to
         * @param newValue the new value
         * @return whether the value was replaced
         * @throws NullPointerException if any argument is null
         * @throws IllegalStateException if this view is closed or used from another thread
         */
        public boolean replace(K key, V oldValue, V newValue) {
            Guard g = begin();
            try {
                Objects.requireNonNull(oldValue, "oldValue");
                Objects.requireNonNull(newValue, "newValue");
                return map.exchange(g, key, HarrisList.spread(key), oldValue, newValue) != null;
            } finally {
                end(g);
            }
        }
    }

    /**
     * Returns the reclaimer that recycles this map's nodes.
     *
     * @return the reclaimer
     */
    public Reclaimer reclaimer() {
        return list.reclaimer();
    }

    // For tests and benchmarks in this package.

    /** The entry for {@code key}, protected by {@code g} (slots 0..3) until g's next protect; or null. */
    ListNode<K, V> findNode(Guard g, Object key) {
        int h = HarrisList.spread(key);
        return list.find(g, head(h), key, h, null);
    }

    ListNodePool<K, V> pool() {
        return list.pool();
    }

    /** What the entry and key sets share: the map's size, emptiness and clear, a concurrent and distinct spliterator. */
    private abstract class SetView<E> extends AbstractSet<E> {
        @Override
        public Spliterator<E> spliterator() {
            return Spliterators.spliteratorUnknownSize(iterator(), CHARACTERISTICS | Spliterator.DISTINCT);
        }

        @Override
        public int size() {
            return RecyclingHashMap.this.size();
        }

        @Override
        public boolean isEmpty() {
            return RecyclingHashMap.this.isEmpty();
        }

        @Override
        public void clear() {
            RecyclingHashMap.this.clear();
        }
    }

    private final class EntrySet extends SetView<Map.Entry<K, V>> {
        @Override
        public Iterator<Map.Entry<K, V>> iterator() {
            return new EntryIterator();
        }

        @Override
        public boolean contains(Object o) {
            if (!(o instanceof Map.Entry<?, ?> e) || e.getKey() == null || e.getValue() == null) return false;
            V v = get(e.getKey());
            return v != null && v.equals(e.getValue());
        }

        @Override
        public boolean remove(Object o) {
            if (!(o instanceof Map.Entry<?, ?> e) || e.getKey() == null || e.getValue() == null) return false;
            return RecyclingHashMap.this.remove(e.getKey(), e.getValue());
        }

        /** Removes the mappings whose entry {@code filter} accepts, each only if unchanged since (class documentation). */
        @Override
        public boolean removeIf(Predicate<? super Map.Entry<K, V>> filter) {
            Objects.requireNonNull(filter, "filter");
            return removeMappingsIf(filter, true);
        }

        @Override
        public boolean removeAll(Collection<?> c) {
            Objects.requireNonNull(c, "c");
            return removeMappingsIf(c::contains, true);
        }

        @Override
        public boolean retainAll(Collection<?> c) {
            Objects.requireNonNull(c, "c");
            return removeMappingsIf(e -> !c.contains(e), true);
        }
    }

    /** The keys: the entry iterator's keys; the other operations are the map's (as {@link AbstractMap#keySet()}). */
    private final class KeySet extends SetView<K> {
        @Override
        public Iterator<K> iterator() {
            return new Projection<>(true);
        }

        @Override
        public boolean contains(Object k) {
            return containsKey(k);
        }

        /**
         * The map's {@code remove}: true only to the call whose CAS removed the mapping (a walk of the iterator,
         * {@code AbstractCollection}'s, would also answer true when another thread removed it first).
         *
         * @throws NullPointerException if {@code k} is null
         */
        @Override
        public boolean remove(Object k) {
            return RecyclingHashMap.this.remove(k) != null;
        }
    }

    /** The values: the entry iterator's values; the other operations are the map's (as {@link AbstractMap#values()}). */
    private final class Values extends AbstractCollection<V> {
        @Override
        public Iterator<V> iterator() {
            return new Projection<>(false);
        }

        @Override
        public Spliterator<V> spliterator() {
            return Spliterators.spliteratorUnknownSize(iterator(), CHARACTERISTICS);
        }

        @Override
        public int size() {
            return RecyclingHashMap.this.size();
        }

        @Override
        public boolean isEmpty() {
            return RecyclingHashMap.this.isEmpty();
        }

        @Override
        public void clear() {
            RecyclingHashMap.this.clear();
        }

        @Override
        public boolean contains(Object v) {
            return containsValue(v);
        }

        /**
         * Removes one mapping to {@code v}: walks the entries and removes the first whose value equals {@code v}
         * with the map's conditional {@code remove(key, value)}, so it never removes a mapping that another
         * thread changed to another value meanwhile, and answers true only to the call that removed one.
         *
         * @throws NullPointerException if {@code v} is null (as {@code contains})
         */
        @Override
        public boolean remove(Object v) {
            Objects.requireNonNull(v, "value");
            for (EntryIterator it = new EntryIterator(); it.hasNext(); ) {
                Map.Entry<K, V> e = it.next();
                if (v.equals(e.getValue()) && RecyclingHashMap.this.remove(e.getKey(), e.getValue())) return true;
            }
            return false;
        }

        /** Removes the mappings whose value {@code filter} accepts, each only if unchanged since (class documentation). */
        @Override
        public boolean removeIf(Predicate<? super V> filter) {
            Objects.requireNonNull(filter, "filter");
            return removeMappingsIf(filter, false);
        }

        @Override
        public boolean removeAll(Collection<?> c) {
            Objects.requireNonNull(c, "c");
            return removeMappingsIf(c::contains, false);
        }

        @Override
        public boolean retainAll(Collection<?> c) {
            Objects.requireNonNull(c, "c");
            return removeMappingsIf(v -> !c.contains(v), false);
        }
    }

    /**
     * The bulk removals of the entry set and the values: walks the mappings and removes each that {@code filter}
     * accepts (given the entry, or its value) with the conditional {@code remove(key, value)}, so that a mapping
     * changed since it was read stays.
     *
     * @return whether a mapping was removed by this call
     */
    @SuppressWarnings("unchecked")
    private boolean removeMappingsIf(Predicate<?> filter, boolean entries) {
        Predicate<Object> f = (Predicate<Object>) filter;
        boolean removed = false;
        for (EntryIterator it = new EntryIterator(); it.hasNext(); ) {
            Map.Entry<K, V> e = it.next();
            K k = e.getKey();
            V v = e.getValue();
            if (f.test(entries ? e : v) && RecyclingHashMap.this.remove(k, v)) removed = true;
        }
        return removed;
    }

    /** The entry iterator's keys or values, for {@link KeySet} and {@link Values}; removal removes the entry. */
    private final class Projection<E> implements Iterator<E> {
        private final EntryIterator entries = new EntryIterator();
        private final boolean keys;

        Projection(boolean keys) {
            this.keys = keys;
        }

        @Override
        public boolean hasNext() {
            return entries.hasNext();
        }

        @Override
        @SuppressWarnings("unchecked")
        public E next() {
            Map.Entry<K, V> e = entries.next();
            return (E) (keys ? e.getKey() : e.getValue());
        }

        @Override
        public void remove() {
            entries.remove();
        }
    }

    /** Reads one bucket at a time into {@code buffer} (key, value, ...), in one guard per bucket. */
    private final class EntryIterator implements Iterator<Map.Entry<K, V>> {
        private final ArrayList<Object> buffer = new ArrayList<>();
        private int bucket;
        private int pos;
        private K lastKey;

        @Override
        public boolean hasNext() {
            while (pos >= buffer.size()) {
                if (bucket > mask) return false;
                buffer.clear();
                pos = 0;
                try (Guard g = list.reclaimer().enter()) {
                    list.snapshot(g, heads[bucket++], buffer);
                }
            }
            return true;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Map.Entry<K, V> next() {
            if (!hasNext()) throw new NoSuchElementException();
            K k = (K) buffer.get(pos);
            V v = (V) buffer.get(pos + 1);
            pos += 2;
            lastKey = k;
            return new WriteThroughEntry(k, v);
        }

        @Override
        public void remove() {
            if (lastKey == null) throw new IllegalStateException("next() not called, or remove() already called");
            RecyclingHashMap.this.remove(lastKey);
            lastKey = null;
        }
    }

    /** An entry whose {@code setValue} writes through to the map with {@code put}. */
    private final class WriteThroughEntry extends AbstractMap.SimpleEntry<K, V> {
        private static final long serialVersionUID = 1L;

        WriteThroughEntry(K key, V value) {
            super(key, value);
        }

        @Override
        public V setValue(V value) {
            Objects.requireNonNull(value, "value");
            V old = super.setValue(value);
            put(getKey(), value);
            return old;
        }
    }
}
