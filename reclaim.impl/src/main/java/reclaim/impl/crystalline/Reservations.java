package reclaim.impl.crystalline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The reservation indices of one record: for each index a list head ({@link #INVALID} = inactive, null =
 * active and empty, otherwise the newest link) and a reserved era. Index {@code k} (the last) is the
 * guard-wide index behind {@code protect(ref)}. Both arrays keep {@link #PAD} unused elements on each side so
 * that two records' reservations never share a cache line.
 */
final class Reservations {
    /** Unused elements before and after the indices. */
    static final int PAD = 16;
    /** The list head of an inactive reservation. */
    static final Object INVALID = new Object() {
        @Override
        public String toString() {
            return "INVALID";
        }
    };

    /** Indices: k slots and the guard-wide one. */
    final int count;
    private final Object[] first;
    private final long[] eras;

    Reservations(int count) {
        this.count = count;
        this.first = new Object[PAD + count + PAD];
        this.eras = new long[PAD + count + PAD];
        for (int j = 0; j < count; j++) first[PAD + j] = INVALID;
    }

    Object firstVolatile(int j) {
        return FIRST.getVolatile(first, PAD + j);
    }

    void setFirstVolatile(int j, Object value) {
        FIRST.setVolatile(first, PAD + j, value);
    }

    /** The holder's activation of an index it left INVALID (no retirer writes an INVALID index). */
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

    /** The holder's reset of an index's era after it swapped the index to INVALID (see {@code CrystallineGuard.detach}). */
    void setEraRelease(int j, long era) {
        ERA.setRelease(eras, PAD + j, era);
    }

    void setEraOpaque(int j, long era) {
        ERA.setOpaque(eras, PAD + j, era);
    }

    private static final VarHandle FIRST = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle ERA = MethodHandles.arrayElementVarHandle(long[].class);
}
