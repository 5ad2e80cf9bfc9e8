package reclaim.impl.crystalline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The reservation indices of one record: for each index a list head (the head array itself = inactive, see
 * {@link #invalid}; null = active and empty; otherwise the newest link) and a reserved era. Index {@code k} (the
 * last) is the guard-wide index behind {@code protect(ref)}. Both arrays keep {@link #PAD} unused elements on each
 * side so that two records' reservations never share a cache line.
 *
 * <p>Why the array marks an inactive index, not a shared sentinel object: the holder's leave swaps that mark into
 * the array, and under G1 a reference store of a value in another region than the array runs the post-write
 * barrier's slow half, which begins with a store-load fence, whenever the array is not young (an old record in a
 * service). A store of the array into itself leaves the barrier at its first test (same region); the holder's
 * activation stores null, for which C2 emits no post-write barrier at all.
 */
final class Reservations {
    /** Unused elements before and after the indices. */
    static final int PAD = 16;
    /** Indices: k slots and the guard-wide one. */
    final int count;
    private final Object[] first;
    private final long[] eras;

    Reservations(int count) {
        this.count = count;
        this.first = new Object[PAD + count + PAD];
        this.eras = new long[PAD + count + PAD];
        for (int j = 0; j < count; j++) first[PAD + j] = first; // inactive (plain: published with the record)
    }

    /**
     * Whether {@code head}, a value read from an index's list head, marks the index inactive (no guard uses it: no
     * retirer inserts into it).
     *
     * @param head a value of a list head of these reservations
     * @return true if it is the inactive mark
     */
    boolean invalid(Object head) {
        return head == first;
    }

    /**
     * The holder's deactivation of index {@code j}: swaps the inactive mark in (a volatile read-modify-write) and
     * returns the list it took (null, or the newest link).
     *
     * @param j the index
     * @return the list that was there
     */
    Object invalidate(int j) {
        return FIRST.getAndSet(first, PAD + j, (Object) first);
    }

    Object firstVolatile(int j) {
        return FIRST.getVolatile(first, PAD + j);
    }

    void setFirstVolatile(int j, Object value) {
        FIRST.setVolatile(first, PAD + j, value);
    }

    /** The holder's activation of an index it left inactive (no retirer writes an inactive index). */
    void setFirstOpaque(int j, Object value) {
        FIRST.setOpaque(first, PAD + j, value);
    }

    Object getAndSetFirst(int j, Object value) {
        return FIRST.getAndSet(first, PAD + j, value);
    }

    boolean casFirst(int j, Object expected, Object update) {
        return FIRST.compareAndSet(first, PAD + j, expected, update);
    }

    /** The holder's own read of its reserved era (opaque: only the holder writes it). */
    long eraOpaque(int j) {
        return (long) ERA.getOpaque(eras, PAD + j);
    }

    long eraVolatile(int j) {
        return (long) ERA.getVolatile(eras, PAD + j);
    }

    void setEraVolatile(int j, long era) {
        ERA.setVolatile(eras, PAD + j, era);
    }

    /** The holder's reset of an index's era after it swapped the index to inactive (see {@code CrystallineGuard.detach}). */
    void setEraRelease(int j, long era) {
        ERA.setRelease(eras, PAD + j, era);
    }

    void setEraOpaque(int j, long era) {
        ERA.setOpaque(eras, PAD + j, era);
    }

    private static final VarHandle FIRST = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle ERA = MethodHandles.arrayElementVarHandle(long[].class);
}
