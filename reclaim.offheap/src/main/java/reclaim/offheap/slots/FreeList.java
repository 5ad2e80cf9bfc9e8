package reclaim.offheap.slots;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The free slots of a {@link SlotMemory}: a lock-free stack of slot indices (R. K. Treiber, "Systems
 * Programming: Coping with Parallelism", IBM Research Report RJ 5118, 1986) whose head carries a tag against
 * the ABA problem. It touches only heap memory (an {@code int} link per slot and the head), never the slab.
 *
 * <p>The head is one {@code long}: the top index in the low 32 bits ({@link #EMPTY} when the stack is empty)
 * and a tag in the high 32 bits that advances on every successful CAS, push and pop alike. A pop that read
 * head {@code (t, i)} and {@code next[i] = j} therefore cannot succeed after {@code i} was popped and pushed
 * back (the tag moved on). The tag wraps from {@code 0xFFFFFFFF} to {@code 0}; a wrong CAS would need exactly
 * 2<sup>32</sup> successful CASes between one pop's read and its CAS.
 *
 * <p>Push and pop are lock-free: a failed CAS means another thread's succeeded. {@link #available()} is
 * consistent with the stack at quiescence. Accesses follow the repository's {@code docs/memory-orderings.md}.
 */
final class FreeList {

    /** The index {@link #pop()} returns when the stack is empty, and the link at its bottom. */
    static final int EMPTY = -1;

    /** Links: {@code next[i]} is the slot below {@code i} on the stack ({@link #EMPTY} at the bottom). */
    private final int[] next;
    /** Slots on the stack (consistent with it at quiescence). */
    private final AtomicInteger available = new AtomicInteger();
    /** {@code tag << 32 | (index & 0xFFFFFFFF)}; only through {@link #headVolatile()} and {@link #casHead}. */
    @SuppressWarnings("unused") // read and written through HEAD
    private long head;

    /**
     * A stack holding every slot of {@code capacity}, slot 0 on top ({@code 0, 1, 2, ...}), its tag starting
     * at {@code initialTag} (tests start it near the wrap).
     */
    FreeList(int capacity, int initialTag) {
        this.next = new int[capacity];
        for (int i = 0; i < capacity; i++) next[i] = i + 1 < capacity ? i + 1 : EMPTY;
        available.set(capacity);
        // Published to other threads by the final-field freeze and the safe publication of the owner.
        setHeadRelease(pack(initialTag, 0));
    }

    /** Pops a free slot, or returns {@link #EMPTY}: Treiber's pop on the tagged head. */
    int pop() {
        while (true) {
            long h = headVolatile();
            int i = (int) h;
            if (i == EMPTY) return EMPTY;
            // Opaque: next[i] may be rewritten by a push racing after another pop took i; then the tag has moved
            // and our CAS fails. When it succeeds, the value read is the one the pushing CAS published.
            int n = nextOpaque(i);
            if (casHead(h, pack((int) (h >>> 32) + 1, n))) { // linearization point of pop; the tag wraps
                available.decrementAndGet();
                return i;
            }
        }
    }

    /** Pushes slot {@code i}, which is not on the stack: Treiber's push on the tagged head. */
    void push(int i) {
        while (true) {
            long h = headVolatile();
            setNextOpaque(i, (int) h); // published by the CAS below (volatile)
            if (casHead(h, pack((int) (h >>> 32) + 1, i))) { // linearization point of push
                available.incrementAndGet();
                return;
            }
        }
    }

    /** The slots on the stack (volatile read). */
    int available() {
        return available.get();
    }

    /** The head's tag now. */
    int tag() {
        return (int) (headVolatile() >>> 32);
    }

    private static long pack(int tag, int index) {
        return ((long) tag << 32) | (index & 0xFFFF_FFFFL);
    }

    // ---- shared accesses (names per docs/memory-orderings.md) and their VarHandles ----

    private long headVolatile() {
        return (long) HEAD.getVolatile(this);
    }

    private void setHeadRelease(long h) {
        HEAD.setRelease(this, h);
    }

    private boolean casHead(long expected, long update) {
        return HEAD.compareAndSet(this, expected, update);
    }

    private int nextOpaque(int i) {
        return (int) NEXT.getOpaque(next, i);
    }

    private void setNextOpaque(int i, int v) {
        NEXT.setOpaque(next, i, v);
    }

    private static final VarHandle HEAD;
    private static final VarHandle NEXT = MethodHandles.arrayElementVarHandle(int[].class);

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(FreeList.class, "head", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
