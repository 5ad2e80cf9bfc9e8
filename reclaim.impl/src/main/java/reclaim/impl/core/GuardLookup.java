package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;

import reclaim.api.Reclaimer;

/**
 * Finds the calling thread's guard of one core: a cache indexed by thread id in front of a thread local.
 *
 * <p>The cache holds platform threads' guards by thread id modulo its length, so that finding the caller's guard
 * is an array load, a compare of the id and a load of the referent instead of a thread-local probe. Thread ids are
 * never reused, so an entry with the caller's id holds the caller's guard, which the caller's thread local (and
 * its sticky participant, if it holds one) keeps strongly reachable while the thread lives. Entries are weak: a
 * thread that ended leaves nothing reachable here (its guard, its {@code Thread}, the thread's task and context
 * class loader are collected as if the cache were not there). The slots are read and written without ordering:
 * an entry's id is final, so a racing reader sees it initialised (the referent is not final, but another thread
 * reads it only to decide whether the slot is vacated: a stale answer costs that slot, nothing else), and a lost
 * install only costs a thread-local lookup. Virtual threads are not cached (there are too many; they keep the
 * thread-local path).
 *
 * <p>It belongs to the {@link Reclaimer} the user holds, not to the core: {@link ReclaimerHandle} extends it (so
 * that finding the guard costs no hop from the handle to another object), and the thread local's values (guards)
 * refer to the core only, so a reclaimer dropped without {@code close()} leaves its key weakly reachable and the
 * threads' maps let go of its guards (see {@link ThreadGuard}).
 *
 * <p>If a thread's thread locals are reset while it lives (the common pool's workers are, whenever they go
 * idle), the thread finds its guard again through the participant it reserved (sticky, or an explicit
 * registration) instead of leaking the participant: it is still registered, and its guard is still the one
 * its registration enters.
 */
abstract class GuardLookup {
    private static final int SIZE = 256;

    /** The core whose guards this finds. */
    final Core core;
    /** The reclaimer that extends this lookup, weakly: what its guards return from {@code reclaimer()}. */
    final WeakReference<Reclaimer> handle;
    private final ThreadLocal<ThreadGuard> guards = ThreadLocal.withInitial(this::initialGuard);
    /** The cache; replaced by {@link #clear()} only. Read and written through {@code CACHE} (opaque). */
    private CachedGuard[] cache = new CachedGuard[SIZE];

    /**
     * Creates the lookup of {@code core}'s guards for the reclaimer that extends it.
     *
     * @param core the core
     */
    GuardLookup(Core core) {
        this.core = core;
        this.handle = new WeakReference<>((Reclaimer) this);
    }

    /**
     * Returns the calling thread's guard: from the cache, else from the thread local (and then cached).
     *
     * @return the guard
     */
    ThreadGuard guard() {
        Thread t = Thread.currentThread();
        long id = t.threadId();
        int i = (int) id & (SIZE - 1);
        CachedGuard c = cacheOpaque()[i];
        if (c != null && c.threadId == id) {
            ThreadGuard g = c.get();
            if (g != null) return g; // the thread local's guard, which a reset of it carries over (initialGuard)
        }
        return miss(t, i, c);
    }

    private ThreadGuard miss(Thread t, int i, CachedGuard cached) {
        ThreadGuard g = guards.get();
        if (!t.isVirtual() && (cached == null || cached.vacated())) cacheOpaque()[i] = new CachedGuard(g, t.threadId());
        return g;
    }

    /** Drops the calling thread's guard and the cache (after close: no guard of a closed core is kept). */
    void clear() {
        guards.remove();
        CACHE.setOpaque(this, new CachedGuard[SIZE]);
    }

    /**
     * The thread local's initial value: the guard of the participant the thread reserved, sticky or registered,
     * if it has one, else a new guard. One pass over the participants, once per thread (and per reset). A
     * registered thread stays registered across a reset, as the API says a thread is until its registration is
     * closed: whoever registered keeps the {@code Registration} where a reset does not lose it (the coroutine
     * bridge does), and a second {@code register()} is refused as on any registered thread.
     */
    private ThreadGuard initialGuard() {
        Thread t = Thread.currentThread();
        ThreadGuard g = t.isVirtual() ? null : core.reservedGuardOf(t);
        if (g == null) {
            g = core.newGuard(t);
            g.weakHandle = handle;
        }
        return g;
    }

    /** The cache array, read without ordering: replaced only by clear(), after which a stale one is harmless. */
    private CachedGuard[] cacheOpaque() {
        return (CachedGuard[]) CACHE.getOpaque(this);
    }

    /** A weak cache entry: the guard and its thread's id. */
    private static final class CachedGuard extends WeakReference<ThreadGuard> {
        final long threadId;

        CachedGuard(ThreadGuard g, long threadId) {
            super(g);
            this.threadId = threadId;
        }

        /** Whether the slot may be taken: the guard was collected or its thread ended. */
        boolean vacated() {
            ThreadGuard g = get();
            return g == null || g.threadRef.ended();
        }
    }

    private static final VarHandle CACHE;

    static {
        try {
            CACHE = MethodHandles.lookup().findVarHandle(GuardLookup.class, "cache", CachedGuard[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
