package reclaim.impl.core;

import java.lang.ref.WeakReference;

/**
 * A thread as the core keeps it: weakly where that is safe, with its id. What a core reaches must not keep a platform
 * thread that ended reachable: the JDK keeps a terminated thread's task, and a task that captured the reclaimer the
 * user dropped (a lambda that used it) would then keep that reclaimer reachable through the core's own cleaner
 * action, so its cleaner would never run and what it held would never be reclaimed. So the holder of a participant
 * ({@link Participant}), the sealer of a batch ({@link Batch#sealer()}) and a guard's thread ({@link ThreadGuard})
 * are held through this class, and owner checks compare ids.
 *
 * <p>A platform thread is a root while it lives, so a cleared reference to one means it ended. Reading a cleared
 * reference is not one of the JLS's synchronization actions, as {@link Thread#isAlive()} returning false is
 * (17.4.4). A sweeper that finds it cleared relies on the collection that cleared it for the order of the ended
 * thread's writes before its own claim of the participant (a CAS of the holder word, then a volatile read of the
 * state): that collection came after the thread's end and synchronized with every Java thread (on HotSpot, a
 * safepoint or a handshake of each). An implementation property, not the JMM's; it holds on every HotSpot collector.
 *
 * <p>A virtual thread is not a root: a parked one that nothing else references (with
 * {@code -Djdk.trackAllThreads=false}) can be collected, and even revived by a finalizer that held it, while it is
 * inside a guard. So a virtual thread is also held strongly here, and is judged ended only by {@code isAlive()}. A
 * virtual thread that ends while it holds a participant (inside a guard, or registered) therefore keeps what its
 * task captured reachable until a later call on the reclaimer sweeps it; one that closed its guards holds none.
 */
public final class ThreadRef extends WeakReference<Thread> {
    /** What a sealer records: one per thread (a reset of the thread's locals makes another, with the same id). */
    private static final ThreadLocal<ThreadRef> CURRENT =
            ThreadLocal.withInitial(() -> new ThreadRef(Thread.currentThread()));

    /** The thread's id ({@link Thread#threadId()}): never reused, compared instead of the thread. */
    final long id;
    /** The thread itself if it is virtual (see the class documentation), else null. */
    private final Thread strong;

    /**
     * Refers to {@code thread} weakly.
     *
     * @param thread the thread
     */
    ThreadRef(Thread thread) {
        super(thread);
        this.id = thread.threadId();
        this.strong = thread.isVirtual() ? thread : null;
    }

    /** A marker that refers to no thread (id 0: no thread has it). */
    private ThreadRef() {
        super(null);
        this.id = 0;
        this.strong = null;
    }

    /**
     * Returns a marker that refers to no thread, equal to nothing but itself.
     *
     * @return a new marker
     */
    static ThreadRef marker() {
        return new ThreadRef();
    }

    /**
     * Returns the calling thread's reference (a thread-local lookup).
     *
     * @return it
     */
    static ThreadRef current() {
        return CURRENT.get();
    }

    /** @return whether the thread ended (or was collected: only a platform thread can be, and only once it ended) */
    boolean ended() {
        Thread t = get();
        return t == null || !t.isAlive();
    }

    /** @return whether the calling thread is this thread */
    boolean isCurrent() {
        return id == Thread.currentThread().threadId();
    }

    /** @return the thread's name, for messages; its id once the thread was collected */
    String name() {
        Thread t = get();
        return t != null ? t.getName() : "#" + id + " (ended)";
    }
}
