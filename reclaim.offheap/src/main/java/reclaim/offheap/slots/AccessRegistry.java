package reclaim.offheap.slots;

import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@link Accesses} records of the threads that used one {@link SlotMemory}: each thread's own, created on
 * its first use, and all of them for {@link SlotMemory#close()}, which counts the busy ones. Records of
 * threads that died idle are dropped as new threads register (when the count of records kept reaches a power
 * of two, so the work is amortized). Thread-safe and lock-free.
 */
final class AccessRegistry {

    private final ThreadLocal<Accesses> local = ThreadLocal.withInitial(this::register);
    /** Every registered record; dead idle ones are pruned as new ones register. */
    private final ConcurrentLinkedQueue<Accesses> all = new ConcurrentLinkedQueue<>();
    private final AtomicInteger registered = new AtomicInteger();

    /** The current thread's record, registered on its first call. */
    Accesses current() {
        return local.get();
    }

    /**
     * The threads whose busy count is not zero now: volatile loads, each after the caller's volatile store of
     * its closing state (close()'s half of Dekker's pattern with {@code SlotMemory.begin()}).
     */
    int busyThreads() {
        int busy = 0;
        for (Accesses a : all) {
            if (a.busyVolatile() != 0) busy++;
        }
        return busy;
    }

    private Accesses register() {
        Accesses a = new Accesses(Thread.currentThread());
        all.add(a);
        int n = registered.incrementAndGet();
        if (Integer.bitCount(n) == 1) prune(); // amortized: at every power of two
        return a;
    }

    /** Drops the records of threads that died idle (a dead thread cannot raise its count again). */
    private void prune() {
        for (Iterator<Accesses> it = all.iterator(); it.hasNext(); ) {
            Accesses a = it.next();
            if (!a.owner.isAlive() && a.busyVolatile() == 0) {
                it.remove();
                registered.decrementAndGet();
            }
        }
    }
}
