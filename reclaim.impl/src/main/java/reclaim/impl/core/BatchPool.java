package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded pool of empty batches of one capacity (the core's bag size), so that a seal in steady state reuses a
 * batch whose actions ran instead of allocating one (a bag's arrays are most of what a reclaimer allocates per
 * retired object).
 *
 * <p>{@link #slots()} cells, each null or an empty batch, used as a stack under a cursor (a hint). {@link #take()}
 * probes the cells from the cursor down, wrapping round, and CASes the first non-null one to null (a cell taken is
 * always emptied by the CAS, so no two takers get the same batch), and allocates only when it found none in a whole
 * round; {@link #give} probes from the cursor up, wrapping round, and CASes the first empty cell from null to the
 * batch, and drops the batch to the garbage collector only when it found no empty cell in a whole round. One thread
 * alone finds a batch, or a free cell, at its first probe; racing threads can leave the cursor off by a few cells,
 * and the round still finds what the pool holds (a pool that probed only near the cursor missed batches left above
 * it, and allocated while it kept some: garbage in steady state with two threads). Wait-free (at most
 * {@link #slots()} probes; a failed CAS means another thread took or filled that cell, and the probe moves on). The
 * CASes are volatile: the give's publishes the batch's cleared slots to the taker, whose CAS reads them.
 *
 * <p>No count of the batches kept: an empty pool's take and a full pool's give pay a round of probes (1,024 opaque
 * loads of one array at the default bag size, a fraction of a microsecond, on a seal that allocates a batch anyway or
 * on a batch dropped after a peak larger than the pool). A count that let them skip it was tried: it is updated apart
 * from the cell's CAS, so two takers racing for the last batch, or an {@code Error} between the CAS and the update,
 * left it below what the cells held, and the pool then allocated while it kept batches, for good.
 *
 * <p>How many: the pool keeps the batches of up to {@link #OBJECTS} objects (at the default bag size of 64, 1,024
 * batches, some 850 KiB when full), so that the batches freed after a peak of objects waiting for reclamation are
 * there for the seals of the next peak, and a reclaimer that retires steadily allocates no batch even when a thread
 * descheduled inside a guard holds reclamation back for a while (two threads on a queue under EBR peaked at 19,641
 * objects waiting, 307 bags: a pool of 256 batches dropped the batches above it when a collection freed them, and
 * the seals of the next peak allocated them again). The pool fills only as far as such a peak needed, and keeps at
 * least {@link #MIN_SLOTS} batches, whatever their size: what it keeps is bounded for good.
 *
 * <p>A batch is given only once its actions ran and it was {@linkplain Batch#recycle() reset}, by the thread that
 * owns it exclusively (see {@link Batch}); a batch of another capacity is never kept.
 */
final class BatchPool {
    /** The objects whose batches the pool keeps at most: {@link #slots()} is this over the bag size. */
    static final int OBJECTS = 1 << 16;
    /** The fewest cells, whatever the bag size. */
    static final int MIN_SLOTS = 4;
    /** The most cells, whatever the bag size (a round of probes visits each). */
    static final int MAX_SLOTS = 1 << 10;

    /** The cells, a power of two of them. */
    private final Object[] cells;
    /**
     * Where the next give probes first, and below which the next take probes: the pool used as a stack of cells, so
     * that a single thread finds a batch, or a free cell, at its first probe. Opaque: only a hint, racing takes and
     * gives may leave it off by a few cells; the CASes on the cells alone decide who gets a batch. Through
     * {@code CURSOR}.
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
        this.cells = new Object[slotsFor(capacity)];
    }

    /**
     * Returns the cells of a pool of batches of {@code capacity}: {@link #OBJECTS} over it, rounded down to a power
     * of two, in [{@link #MIN_SLOTS}, {@link #MAX_SLOTS}].
     *
     * @param capacity a bag size, positive
     * @return the cells
     */
    static int slotsFor(int capacity) {
        return Math.clamp(Integer.highestOneBit(OBJECTS / capacity), MIN_SLOTS, MAX_SLOTS); // OBJECTS / 65,536 = 1
    }

    /**
     * Returns the most batches this pool keeps.
     *
     * @return its cells
     */
    int slots() {
        return cells.length;
    }

    /**
     * Takes an empty batch of the pool's capacity: a kept one, or a new one.
     *
     * @return an empty batch, owned by the caller
     */
    Batch take() {
        Object[] cells = this.cells;
        int mask = cells.length - 1;
        int top = (int) CURSOR.getOpaque(this);
        for (int k = 1; k <= cells.length; k++) {
            int i = (top - k) & mask; // down from the cursor, wrapping round: every cell once
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
        Object[] cells = this.cells;
        if (b.capacity() != capacity) return;
        int mask = cells.length - 1;
        int top = (int) CURSOR.getOpaque(this);
        for (int k = 0; k < cells.length; k++) {
            int i = (top + k) & mask; // up from the cursor, wrapping round: every cell once
            if (CELL.getOpaque(cells, i) == null && CELL.compareAndSet(cells, i, null, b)) {
                CURSOR.setOpaque(this, (i + 1) & mask);
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
        for (int c = 0; c < cells.length; c++) if (CELL.getVolatile(cells, c) != null) n++;
        return n;
    }

    /**
     * Returns whether every batch kept now is empty and refers to nothing: no object, action, sealer or next batch
     * (for tests: a pooled batch must not keep reclaimed objects alive).
     *
     * @return true if they all hold nothing
     */
    boolean keptHoldNothing() {
        for (int c = 0; c < cells.length; c++) {
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
        for (int c = 0; c < cells.length; c++) if (CELL.getVolatile(cells, c) == b) return true;
        return false;
    }

    /**
     * Moves the cursor (for tests: where racing takes and gives can leave it).
     *
     * @param c the new cursor, in [0, {@link #slots()})
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
