package reclaim.offheap.baseline;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import reclaim.offheap.slots.SlotMemory;

/**
 * A slot memory manager with a tagged Treiber free list (Treiber 1986) and a per-slot read-write lock, as the
 * baseline for benchmarks and the oracle of differential tests: the same slab and handles as
 * {@link SlotMemory} (store / read / free subset), a Treiber free list with a tagged head, and one
 * {@link ReentrantReadWriteLock} per slot. A read holds the slot's read lock; {@code free} takes the write
 * lock, so it waits for the slot's readers, and pushes the slot back at once. Not part of the public API: this
 * package is exported only to {@code reclaim.jmh}.
 */
public final class RwLockSlotMemory implements AutoCloseable {
    private static final int HEADER = 16;
    private static final int EMPTY = -1;

    private final int capacity;
    private final int payloadSize;
    private final long stride;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment slab;
    private final ReentrantReadWriteLock[] locks;
    /** Per slot: odd while allocated; guarded by the slot's lock. */
    private final int[] generations;
    private final int[] next;
    /** tag << 32 | index: the tag advances on every successful CAS, so a stale pop's CAS fails (no ABA). */
    private final AtomicLong head;
    private final AtomicInteger available;

    /**
     * Creates the slab and one lock per slot.
     *
     * @param capacity slots
     * @param payloadSize bytes per payload at most
     */
    public RwLockSlotMemory(int capacity, int payloadSize) {
        this.capacity = capacity;
        this.payloadSize = payloadSize;
        this.stride = HEADER + ((payloadSize + 7L) & ~7L);
        this.slab = arena.allocate(stride * capacity, 64);
        this.locks = new ReentrantReadWriteLock[capacity];
        this.generations = new int[capacity];
        this.next = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            locks[i] = new ReentrantReadWriteLock();
            next[i] = i + 1 < capacity ? i + 1 : EMPTY;
        }
        this.head = new AtomicLong(0);
        this.available = new AtomicInteger(capacity);
    }

    /**
     * Stores a payload.
     *
     * @param kind the message kind
     * @param payload the bytes
     * @return its handle, or {@link SlotMemory#NO_HANDLE} when full
     */
    public long tryStore(int kind, byte[] payload) {
        if (payload.length > payloadSize) throw new IllegalArgumentException("payload too long");
        int i = pop();
        if (i == EMPTY) return SlotMemory.NO_HANDLE;
        ReentrantReadWriteLock.WriteLock w = locks[i].writeLock();
        w.lock();
        try {
            long base = i * stride;
            MemorySegment.copy(payload, 0, slab, ValueLayout.JAVA_BYTE, base + HEADER, payload.length);
            slab.set(ValueLayout.JAVA_LONG, base, ((long) kind << 32) | payload.length);
            int g = ++generations[i];
            return ((long) g << 32) | i;
        } finally {
            w.unlock();
        }
    }

    /**
     * Opens a read: holds the slot's read lock until closed.
     *
     * @param handle a live handle
     * @return the read
     * @throws IllegalStateException if the handle is stale
     */
    public Read read(long handle) {
        int i = check(handle);
        ReentrantReadWriteLock.ReadLock r = locks[i].readLock();
        r.lock();
        if (generations[i] != SlotMemory.generation(handle)) {
            r.unlock();
            throw new IllegalStateException("stale handle " + Long.toHexString(handle));
        }
        return new Read(i * stride, r);
    }

    /**
     * Frees a slot: waits for its readers (write lock), then pushes it back.
     *
     * @param handle a live handle
     * @throws IllegalStateException if the handle is stale
     */
    public void free(long handle) {
        int i = check(handle);
        ReentrantReadWriteLock.WriteLock w = locks[i].writeLock();
        w.lock();
        try {
            if (generations[i] != SlotMemory.generation(handle)) {
                throw new IllegalStateException("stale handle " + Long.toHexString(handle));
            }
            generations[i]++;
        } finally {
            w.unlock();
        }
        push(i);
    }

    /**
     * Returns the free slots.
     *
     * @return the count
     */
    public int available() {
        return available.get();
    }

    private int check(long handle) {
        int i = SlotMemory.index(handle);
        if (i < 0 || i >= capacity || (SlotMemory.generation(handle) & 1) == 0) {
            throw new IllegalArgumentException("invalid handle " + Long.toHexString(handle));
        }
        return i;
    }

    private int pop() {
        while (true) {
            long h = head.get();
            int i = (int) h;
            if (i == EMPTY) return EMPTY;
            int n = next[i]; // racy read, made harmless by the tag: a stale value fails the CAS below
            if (head.compareAndSet(h, ((h >>> 32) + 1) << 32 | (n & 0xFFFF_FFFFL))) {
                available.decrementAndGet();
                return i;
            }
        }
    }

    private void push(int i) {
        while (true) {
            long h = head.get();
            next[i] = (int) h;
            if (head.compareAndSet(h, ((h >>> 32) + 1) << 32 | (i & 0xFFFF_FFFFL))) {
                available.incrementAndGet();
                return;
            }
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    /** A read access holding the slot's read lock. */
    public final class Read implements AutoCloseable {
        private final long base;
        private final ReentrantReadWriteLock.ReadLock lock;

        Read(long base, ReentrantReadWriteLock.ReadLock lock) {
            this.base = base;
            this.lock = lock;
        }

        /**
         * Returns the payload length.
         *
         * @return the length
         */
        public int length() {
            return (int) slab.get(ValueLayout.JAVA_LONG, base);
        }

        /**
         * Returns the message kind.
         *
         * @return the kind
         */
        public int kind() {
            return (int) (slab.get(ValueLayout.JAVA_LONG, base) >>> 32);
        }

        /**
         * Reads a long of the payload.
         *
         * @param offset the offset in the payload
         * @return the value
         */
        public long getLong(long offset) {
            return slab.get(ValueLayout.JAVA_LONG_UNALIGNED, base + HEADER + offset);
        }

        /**
         * Copies the payload.
         *
         * @return the bytes
         */
        public byte[] toArray() {
            byte[] out = new byte[length()];
            MemorySegment.copy(slab, ValueLayout.JAVA_BYTE, base + HEADER, out, 0, out.length);
            return out;
        }

        @Override
        public void close() {
            lock.unlock();
        }
    }
}
