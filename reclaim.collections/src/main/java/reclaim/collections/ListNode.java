package reclaim.collections;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReference;
import reclaim.api.Born;

/**
 * A node of a Harris&ndash;Michael list ({@link HarrisList}): an entry of a {@link RecyclingListSet} or a
 * {@link RecyclingHashMap}, a <em>marker</em> that freezes a deleted entry's link, a bucket's head
 * sentinel, or, between two uses, a free node in the {@link ListNodePool}.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class ListNode<K, V> implements Born {

    /*
     * Fields and their invariants (one life = from pool take to the reclaim action).
     *
     * next: the link. Entry: the successor, changed only by CAS; once it points to a marker the entry is
     *   "marked" and next never changes again in this life. Marker: the successor of the entry it marks,
     *   written before the marker is published (setMarkerPlain, published by the marking CAS), never
     *   changed after. In the pool: the next free node. Dereferenced only after Guard.protect (and the
     *   list's validation); otherwise read through nextVolatile() and written through casNext() or, before
     *   publication, setNextPlain().
     * key, hash, marker: written before publication (setEntryPlain / setMarkerPlain, published by the CAS
     *   that links the node), stable for the whole life; read by threads that protected the node (keyPlain,
     *   hashPlain, markerPlain).
     * value: the entry's value; null means "logically deleted" (or a marker / a head). Goes from non-null to
     *   non-null by CAS (put, replace) and from non-null to null once, by the CAS that removes the entry (the
     *   linearization point of a removal); never back to non-null in the same life. valueVolatile /
     *   casValue.
     * birthEra: stamped when the node is allocated and again when it is pushed back into the pool.
     * generation: lives completed; written by the reclaim action (generationPlain, then
     *   setGenerationRelease), read by tests (generationVolatile).
     * poolCount: in the pool, how many free nodes this one and those below it are; written before the push that
     *   publishes the node (setPoolCountPlain), read by later pushes without protection (poolCountOpaque: the
     *   node may have been taken meanwhile). Meaningless outside the pool. It fills the padding of the object's
     *   last 8 bytes, so it costs no memory.
     */

    /** The link; see the field notes. */
    final AtomicReference<ListNode<K, V>> next = new AtomicReference<>();

    private K key;
    private int hash;
    private boolean marker;
    @SuppressWarnings("unused") // accessed through VALUE
    private volatile V value;
    private long birthEra;
    @SuppressWarnings("unused") // accessed through GENERATION
    private volatile int generation;
    @SuppressWarnings("unused") // accessed through POOL_COUNT
    private int poolCount;

    ListNode(long birthEra) {
        this.birthEra = birthEra;
    }

    @Override
    public long birthEra() {
        return birthEra;
    }

    void setBirthEraPlain(long era) {
        birthEra = era;
    }

    /** Fills an unpublished node as an entry; the CAS that links it publishes these stores. */
    void setEntryPlain(K k, int h, V v, ListNode<K, V> succ) {
        key = k;
        hash = h;
        marker = false;
        VALUE.set(this, v); // plain: the node is not published yet
        next.setPlain(succ);
    }

    /** Fills an unpublished node as the marker of an entry whose successor is {@code succ}. */
    void setMarkerPlain(ListNode<K, V> succ) {
        key = null;
        hash = 0;
        marker = true;
        VALUE.set(this, (Object) null);
        next.setPlain(succ);
    }

    /** Clears the node for the pool (the reclaim action: no reader holds it). */
    void clearPlain() {
        key = null;
        hash = 0;
        marker = false;
        VALUE.set(this, (Object) null);
        next.setPlain(null);
    }

    ListNode<K, V> nextVolatile() {
        return next.get();
    }

    void setNextPlain(ListNode<K, V> n) {
        next.setPlain(n);
    }

    boolean casNext(ListNode<K, V> expected, ListNode<K, V> update) {
        return next.compareAndSet(expected, update);
    }

    K keyPlain() {
        return key;
    }

    int hashPlain() {
        return hash;
    }

    boolean markerPlain() {
        return marker;
    }

    V valueVolatile() {
        @SuppressWarnings("unchecked")
        V v = (V) VALUE.getVolatile(this);
        return v;
    }

    boolean casValue(V expected, V update) {
        return VALUE.compareAndSet(this, expected, update);
    }

    /** Only the reclaim action reads the generation plainly (the node is exclusively its own then). */
    int generationPlain() {
        return (int) GENERATION.get(this);
    }

    int generationVolatile() {
        return (int) GENERATION.getVolatile(this);
    }

    /** The pool's racing read of a free node's count (see the field notes). */
    int poolCountOpaque() {
        return (int) POOL_COUNT.getOpaque(this);
    }

    /** Sets the count of an unpublished free node; the push's CAS publishes it. */
    void setPoolCountPlain(int count) {
        POOL_COUNT.set(this, count);
    }

    /** Only the reclaim action writes the generation (the node is exclusively its own then). */
    void setGenerationRelease(int g) {
        GENERATION.setRelease(this, g);
    }

    @Override
    public String toString() {
        return marker ? "Marker" : "ListNode[hash=" + hash + ", generation=" + generationVolatile() + "]";
    }

    // VarHandle mechanics
    private static final VarHandle VALUE;
    private static final VarHandle GENERATION;
    private static final VarHandle POOL_COUNT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            VALUE = l.findVarHandle(ListNode.class, "value", Object.class);
            GENERATION = l.findVarHandle(ListNode.class, "generation", int.class);
            POOL_COUNT = l.findVarHandle(ListNode.class, "poolCount", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
