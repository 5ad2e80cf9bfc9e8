package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded pool of empty batches of one capacity (the core's bag size), so that a seal in steady state reuses a
 * batch whose actions ran instead of allocating one (a bag's two arrays are most of what a reclaimer allocates per
 * retired object).
 *
 * <p>{@link #SLOTS} cells, each null or an empty batch, used as a stack under a cursor (a hint). {@link #take()}
 * probes the cells from the cursor down, wrapping round, and CASes the first non-null one to null (a cell taken is
 * always emptied by the CAS, so no two takers get the same batch), and allocates only when it found none in a whole
 * round; {@link #give} probes from the cursor up, wrapping round, and CASes the first empty cell from null to the
 * batch, and drops the batch to the garbage collector only when it found no empty cell in a whole round. One thread
 * alone finds a batch, or a free cell, at its first probe; racing threads can leave the cursor off by a few cells,
 * and the round still finds what the pool holds (a pool that probed only near the cursor missed batches left above
 * it, and allocated while it kept some: garbage in steady state with two threads). Wait-free (at most {@link #SLOTS}
 * probes; a failed CAS means another thread took or filled that cell, and the probe moves on), bounded: at most
 * {@link #SLOTS} batches are kept, so a burst of reclamation grows nothing for good. The CASes are volatile: the
 * give's publishes the batch's cleared slots to the taker, whose CAS reads them.
 *
 * <p>A batch is given only once its actions ran and it was {@linkplain Batch#recycle() reset}, by the thread that
 * owns it exclusively (see {@link Batch}); a batch of another capacity is never kept.
 */
final class BatchPool {
    /**
     * Cells of the pool, a power of two: the most batches it keeps (at the default bag size of 64, some 150 KiB, and
     * under the counting schemes the links each batch keeps). Enough for the batches that wait for reclamation at
     * once in steady state with a few threads (a collection under the asymmetric barrier runs once 1,024 objects, 16
     * bags, were sealed since the last one, and a bag waits one to three collections, per thread), so that what a
     * collection gives back covers the seals until the next one.
     */
    static final int SLOTS = 256;

    private final Object[] cells = new Object[SLOTS];
    /**
     * Where the next give probes first, and below which the next take probes: the pool used as a stack of cells, so
     * that a single thread finds a batch, or a free cell, at its first probe. Opaque: only a hint, racing takes and
     * gives may leave it off by a few cells (a take then finds nothing and allocates, a give drops its batch); the
     * CASes on the cells alone decide who gets a batch. Through {@code CURSOR}.
     */
    private int cursor;
    private final int capacity;
    /** Batches {@link #take()} had to allocate (for tests and toString); incremented only then. */
    private final java.util.concurrent.atomic.AtomicLong created = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Creates an empty pool.
     *
     * @param capacity the capacity of the batches it hands out and keeps
     */
    BatchPool(int capacity) {
        this.capacity = capacity;
    }

    /**
     * Takes an empty batch of the pool's capacity: a kept one, or a new one.
     *
     * @return an empty batch, owned by the caller
     */
    Batch take() {
        int top = (int) CURSOR.getOpaque(this);
        for (int k = 1; k <= SLOTS; k++) {
            int i = (top - k) & (SLOTS - 1); // down from the cursor, wrapping round: every cell once
            Object b = CELL.getOpaque(cells, i); // a hint: the CAS below decides
            if (b != null && CELL.compareAndSet(cells, i, b, null)) {
                CURSOR.setOpaque(this, i);
                return (Batch) b;
            }
        }
        created.incrementAndGet();
        return new Batch(capacity);
    }

    /**
     * Returns the batches {@link #take()} allocated because the pool kept none.
     *
     * @return the count
     */
    long created() {
        return created.get();
    }

    /**
     * Resets {@code b} and keeps it if it has the pool's capacity and a cell is free; otherwise leaves it to the
     * garbage collector (reset all the same: it pins nothing meanwhile).
     *
     * @param b a batch whose actions ran, owned by the caller, never touched by it afterwards
     */
    void give(Batch b) {
        b.recycle();
        if (b.capacity() != capacity) return;
        int top = (int) CURSOR.getOpaque(this);
        for (int k = 0; k < SLOTS; k++) {
            int i = (top + k) & (SLOTS - 1); // up from the cursor, wrapping round: every cell once
            if (CELL.getOpaque(cells, i) == null && CELL.compareAndSet(cells, i, null, b)) {
                CURSOR.setOpaque(this, i + 1);
                return;
            }
        }
    }

    /**
     * Returns the batches kept now (for tests; approximate while threads run).
     *
     * @return the count
     */
    int kept() {
        int n = 0;
        for (int c = 0; c < SLOTS; c++) if (CELL.getVolatile(cells, c) != null) n++;
        return n;
    }

    /**
     * Returns whether every batch kept now is empty and refers to nothing: no object, action, sealer or next batch
     * (for tests: a pooled batch must not keep reclaimed objects alive).
     *
     * @return true if they all hold nothing
     */
    boolean keptHoldNothing() {
        for (int c = 0; c < SLOTS; c++) {
            Batch b = (Batch) CELL.getVolatile(cells, c);
            if (b == null) continue;
            if (b.size() != 0 || b.sealer() != null || b.next() != null) return false;
            for (int i = 0; i < b.capacity(); i++) if (b.object(i) != null || b.action(i) != null) return false;
        }
        return true;
    }

    /**
     * Returns whether {@code b} is kept in a cell now (for tests).
     *
     * @param b a batch
     * @return true if a cell holds it
     */
    boolean keeps(Batch b) {
        for (int c = 0; c < SLOTS; c++) if (CELL.getVolatile(cells, c) == b) return true;
        return false;
    }

    /**
     * Moves the cursor (for tests: where racing takes and gives can leave it).
     *
     * @param c the new cursor, in [0, {@link #SLOTS}]
     */
    void cursorForTest(int c) {
        CURSOR.setOpaque(this, c);
    }

    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle CURSOR;

    static {
        try {
            CURSOR = MethodHandles.lookup().findVarHandle(BatchPool.class, "cursor", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
