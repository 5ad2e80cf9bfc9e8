package reclaim.offheap;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The quarantine of checked mode: freed blocks, poisoned and held in FIFO order instead of being returned to
 * the C library, so that a later access finds their headers marked {@code FREED} and their payloads full of
 * {@link NativeMemory#POISON}. The oldest blocks leave (are returned with {@code free}) while the quarantined
 * weight (size plus {@link BlockHeader#SIZE} per block, so that zero-size blocks count) exceeds the limit,
 * and all of them at {@link #close()}.
 *
 * <p>Thread-safe and lock-free (a {@link ConcurrentLinkedQueue}). {@link #hold} offers the block (a volatile
 * write), then reads {@code closed} (a volatile read); {@link #close()} sets {@code closed} (a volatile write),
 * then drains the queue (volatile reads). Of the two store&ndash;load pairs one thread sees the other's store:
 * either {@code hold} sees the quarantine closed and drains it itself, or {@code close} finds the block in the
 * queue; no block is left behind. Accesses follow the repository's {@code docs/memory-orderings.md}.
 */
final class Quarantine {

    private final long limit;
    /** Freed, poisoned blocks, oldest first. */
    private final ConcurrentLinkedQueue<Long> blocks = new ConcurrentLinkedQueue<>();
    private final LongAdder blockCount = new LongAdder();
    private final LongAdder byteCount = new LongAdder();
    /** The weight checked against the limit, size + header per block. */
    private final AtomicLong weight = new AtomicLong();
    /** 0 open, 1 closed; only through {@link #closedVolatile()} and {@link #setClosedVolatile()}. */
    @SuppressWarnings("unused") // read and written through CLOSED
    private int closed;

    /** A quarantine that holds at most {@code limit} bytes of weight, {@code >= 0}. */
    Quarantine(long limit) {
        this.limit = limit;
    }

    /**
     * Takes a block that has just reached {@code FREED}: poisons its payload, holds it, then returns the oldest
     * blocks to the C library while the weight exceeds the limit (all of them once the quarantine is closed). A block
     * that alone weighs more than a limit that is not 0 is not returned at once: the weight may stay at its own until
     * the next block comes, so that a second free or a read of the block just freed still finds its header (the C
     * library unmaps a large block's pages as soon as it has it, and the check would then fault).
     */
    void hold(long block, long size) {
        VarHandle.storeStoreFence(); // the caller's store of FREED (header) before the poison (payload)
        poison(block, size);
        blockCount.increment();
        byteCount.add(size);
        long total = weight.addAndGet(size + BlockHeader.SIZE);
        blocks.offer(block); // volatile write, then the volatile read of closed (see the class comment)
        if (closedVolatile()) {
            drain(0);
        } else if (total > limit) {
            drain(limit == 0 ? 0 : Math.max(limit, size + BlockHeader.SIZE));
        }
    }

    /** Closes the quarantine: returns every block to the C library, now and at every later {@link #hold}. */
    void close() {
        setClosedVolatile(); // volatile write, then the queue's volatile reads (see the class comment)
        drain(0);
    }

    /** The blocks held now (a sum, not a snapshot: never below 0 at quiescence). */
    long blocks() {
        return blockCount.sum();
    }

    /** The payload bytes held now (as {@link #blocks()}). */
    long bytes() {
        return byteCount.sum();
    }

    /** The limit, in bytes of weight. */
    long limit() {
        return limit;
    }

    /** Returns the oldest blocks to the C library until the weight is at most {@code max}. */
    private void drain(long max) {
        while (weight.get() > max) {
            Long q = blocks.poll();
            if (q == null) return; // the blocks counted are being offered by other threads: they trim after
            long block = q;
            long w = BlockHeader.stateAcquire(block); // FREED, header intact: a held block is never returned
            long size = BlockHeader.size(w);
            weight.addAndGet(-(size + BlockHeader.SIZE));
            blockCount.decrement();
            byteCount.add(-size);
            Libc.free(BlockHeader.base(block, w));
        }
    }

    /**
     * Overwrites {@code size} bytes at {@code block} with the pattern of {@link NativeMemory#POISON}, as
     * {@code long}s in native byte order (the bytes past the last whole {@code long} continue the pattern).
     */
    @SuppressWarnings("restricted") // a segment over the payload of one of our blocks
    static void poison(long block, long size) {
        MemorySegment p = MemorySegment.ofAddress(block).reinterpret(size);
        if (size < 8) {
            for (long i = 0; i < size; i++) p.set(JAVA_BYTE, i, (byte) (NativeMemory.POISON >>> (8 * i)));
            return;
        }
        p.set(JAVA_LONG, 0, NativeMemory.POISON); // the native byte order, as the readers see it
        long filled = 8;
        while (filled < size) { // doubling copies: the pattern has period 8 and every copy starts at 0
            long n = Math.min(filled, size - filled);
            MemorySegment.copy(p, 0, p, filled, n);
            filled += n;
        }
    }

    private boolean closedVolatile() {
        return (int) CLOSED.getVolatile(this) != 0;
    }

    private void setClosedVolatile() {
        CLOSED.setVolatile(this, 1);
    }

    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(Quarantine.class, "closed", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
