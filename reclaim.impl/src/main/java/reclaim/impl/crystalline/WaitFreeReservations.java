package reclaim.impl.crystalline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReference;

import reclaim.impl.core.CountedBatches;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.core.Reclamation;

/**
 * The reservation indices of one participant under {@link CrystallineWPolicy}: for each index a reserved era
 * ({@link #INACTIVE} when the index is not in use), a list head (null = empty, otherwise the newest
 * {@link Link} of a batch), and the slow-path {@link Request} its owner published (null when none). Unlike
 * Crystalline-L's {@link Reservations}, activity is told by the era word alone: the list head is never a
 * sentinel, so that retirers can insert by an unconditional swap. Every array keeps {@link #PAD} unused
 * elements on each side so that two records' indices never share a cache line.
 *
 * <p>Accessor names state the ordering: {@code ...Volatile} are volatile loads and stores, {@code getAndSet...}
 * and {@code cas...} are volatile read-modify-writes.
 */
final class WaitFreeReservations {
    /** Unused elements before and after the indices. */
    static final int PAD = 16;
    /** The era word of an index that is not in use: below every birth era, and never equal to an era. */
    static final long INACTIVE = Long.MIN_VALUE;

    /** Indices: k per nesting level and the guard-wide one. */
    final int count;
    private final long[] eras;
    /**
     * The era each index's owner itself last stored in its era word (INACTIVE when detached); plain, owner
     * only. Helpers raise the era word at any time, a late helper even after the request it helped is over,
     * so the era word's value says nothing about <em>when</em> it was reached: {@code reserve}, which checks
     * the reservation after the caller's read of the key, must compare this one instead.
     */
    private final long[] own;
    private final Object[] first;
    private final Object[] requests;

    WaitFreeReservations(int count) {
        this.count = count;
        this.eras = new long[PAD + count + PAD];
        this.first = new Object[PAD + count + PAD];
        this.requests = new Object[PAD + count + PAD];
        this.own = new long[count];
        for (int j = 0; j < count; j++) {
            eras[PAD + j] = INACTIVE; // plain: published with its participant
            own[j] = INACTIVE;
        }
    }

    // ---- the era word: written by the owner (any value) and by helpers (raises only, by CAS) ----

    long eraVolatile(int j) {
        return (long) ERA.getVolatile(eras, PAD + j);
    }

    /** The owner's (or, for a dead owner, the sweeper's) store of the era word; also remembered in {@code own}. */
    void setEraVolatile(int j, long era) {
        own[j] = era;
        ERA.setVolatile(eras, PAD + j, era);
    }

    /** {@link #setEraVolatile} with an opaque store: the owner's publication under the asymmetric barrier. */
    void setEraOpaque(int j, long era) {
        own[j] = era;
        ERA.setOpaque(eras, PAD + j, era);
    }

    /**
     * The era the owner itself last stored (plain: owner only). The era word has stayed at or above it since
     * that store (helpers only raise it), whereas a value of the era word may come from a helper's raise made
     * at any later moment.
     */
    long ownEra(int j) {
        return own[j];
    }

    /**
     * Raises an active index's era to at least {@code era} (owner or helper of a slow path). Each failed CAS
     * means another party raised the word (or the owner deactivated it), so the loop runs at most once more
     * than the number of raises that race with it.
     *
     * @return false if the index is inactive (a helper that came too late: the request is over)
     */
    boolean raiseEra(int j, long era) {
        while (true) {
            long w = eraVolatile(j);
            if (w == INACTIVE) return false;
            if (w >= era) return true;
            if (ERA.compareAndSet(eras, PAD + j, w, era)) return true;
        }
    }

    // ---- the list head: swapped in by retirers, swapped or CASed out by the owner and rescuers ----

    Object firstVolatile(int j) {
        return FIRST.getVolatile(first, PAD + j);
    }

    Object getAndSetFirst(int j, Object value) {
        return FIRST.getAndSet(first, PAD + j, value);
    }

    boolean casFirst(int j, Object expected, Object update) {
        return FIRST.compareAndSet(first, PAD + j, expected, update);
    }

    // ---- the slow path's request: written by the owner, read by helpers ----

    Request requestVolatile(int j) {
        return (Request) REQUEST.getVolatile(requests, PAD + j);
    }

    void setRequestVolatile(int j, Request r) {
        REQUEST.setVolatile(requests, PAD + j, r);
    }

    /** The mark a walker leaves in {@code Link.next}. */
    static final Object TRAVERSED = new Object() {
        @Override
        public String toString() {
            return "TRAVERSED";
        }
    };

    /**
     * Walks a detached list: for each link, takes {@code next} by swap (marking it traversed), then drops the
     * link's reference to its batch (reclaiming it if it was the last). Stops at a link whose retirer has not
     * linked it yet: that retirer walks the rest. The links are the batches' own ({@link CountedBatches}), reused
     * at their batch's next insertion: {@code next} is taken before the decrement, after which the link may be
     * reused.
     */
    static void walk(Object head, Reclamation reclamation) {
        if (!(head instanceof Link)) return;
        int saved = reclamation.beginTrickle(true); // a few batches here, the rest for later seals (Reclamation)
        try {
            Object l = head;
            while (l instanceof Link link) {
                Object next = link.pass(TRAVERSED);
                CountedBatches.release(link.batch(), reclamation);
                l = next;
            }
        } finally {
            reclamation.endTrickle(saved);
        }
    }

    /** The pending state of a {@link Request}'s result. */
    static final Object PENDING = new Object() {
        @Override
        public String toString() {
            return "PENDING";
        }
    };

    /** The value a slow path read and the era under which it was read. */
    record Result(Object value, long era) {}

    /**
     * A slow path's request for help: the source to read on the reader's behalf, and the result, which goes
     * once from {@link #PENDING} to a {@link Result} by CAS (owner or helper; the first wins). A fresh object
     * per slow path, so a helper that comes late fails its CAS (no ABA, rule M1).
     */
    static final class Request {
        private final AtomicReference<?> ref;
        private final VarHandle field;
        private final Object holder;
        /** Accessed only through {@code RESULT}. */
        @SuppressWarnings("unused")
        private Object result = PENDING;

        Request(AtomicReference<?> ref, VarHandle field, Object holder) {
            this.ref = ref;
            this.field = field;
            this.holder = holder;
        }

        /**
         * Reads the source (volatile). The holder stays unreclaimed while the request is pending (its owner is
         * inside {@code protect} and keeps its other reservations); a late read is discarded by the CAS.
         */
        Object read() {
            return ref != null ? ref.get() : field.getVolatile(holder);
        }

        boolean pending() {
            return RESULT.getVolatile(this) == PENDING;
        }

        boolean complete(Result r) {
            return RESULT.compareAndSet(this, PENDING, r);
        }

        Result result() {
            return (Result) RESULT.getVolatile(this);
        }
    }

    private static final VarHandle ERA = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle FIRST = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle REQUEST = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle RESULT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            RESULT = l.findVarHandle(Request.class, "result", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
