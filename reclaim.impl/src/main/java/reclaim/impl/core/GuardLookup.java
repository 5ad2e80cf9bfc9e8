package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;

import reclaim.api.Reclaimer;

/**
 * Finds the calling thread's guard of one core: a cache indexed by thread id in front of a thread local.
 *
 * <p>The cache holds platform threads' guards by thread id modulo its length, so that finding the caller's guard
 * is an array load and a compare of the guard's id instead of a thread-local probe. Thread ids are never reused, so
 * a guard in the caller's slot with the caller's id is the caller's guard, which the caller's thread local (and its
 * sticky participant, if it holds one) keeps strongly reachable while the thread lives. The slots hold guards
 * strongly: a weak slot costs a referent load, G1's check of it and a cast on every {@code enter()}, about a
 * nanosecond of four (docs/benchmarks.md). So what a guard refers to must not outlive its thread through the cache:
 * <ul>
 *   <li>a guard refers to its thread weakly ({@link ThreadRef}) and to the reclaimer weakly, so the thread, its task
 *       and its context class loader are collected as if the cache were not there;</li>
 *   <li>a thread that ends holding a participant (inside a guard, or keeping a sticky or registered one) is found
 *       by the next sweep of that participant, which {@linkplain #evict evicts} its guard from its slot: what the
 *       guard still refers to (a checked view's memory of what it protected, HP's slot arrays, which the
 *       participant's next holder may replace and leave with old hazards) goes with it;</li>
 *   <li>a thread that ends holding none keeps its slot until a thread whose id maps there enters (at most 256
 *       guards per reclaimer); such a guard refers to no participant's arrays ({@link ThreadGuard#participantGone} drops
 *       them when a registration ends) and remembers no protect (a checked view forgets them when its outermost
 *       guard closes).</li>
 * </ul>
 * A hit reads its slot, and an install writes it, without ordering: a guard's id and thread are final fields and a
 * guard is cached only once constructed, so a racing reader sees them initialised (another thread reads them only to
 * decide whether the slot is its own or vacated: a stale answer costs that slot, nothing else), and a lost install
 * only costs a thread-local lookup. Virtual threads are not cached (there are too many; they keep the thread-local
 * path), and a core that is closing or closed caches nothing more (an install that races close() is taken back, see
 * {@link #miss}; eviction is a compare-and-set).
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
    /**
     * The cache: slot {@code i} holds a guard of a thread whose id is {@code i} modulo {@link #SIZE}, or null.
     * Replaced by {@link #clear()} only (a release store); read through {@code CACHE}, opaque on a hit and acquire
     * before an install.
     */
    private ThreadGuard[] cache = new ThreadGuard[SIZE];

    /**
     * Creates the lookup of {@code core}'s guards for the reclaimer that extends it.
     *
     * @param core the core
     */
    GuardLookup(Core core) {
        this.core = core;
        this.handle = new WeakReference<>((Reclaimer) this);
        core.attachLookup(this);
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
        ThreadGuard c = cacheOpaque()[i];
        if (c != null && c.threadId == id) return c;
        return miss(t, i, c);
    }

    private ThreadGuard miss(Thread t, int i, ThreadGuard cached) {
        ThreadGuard g = guards.get();
        if (!t.isVirtual() && (cached == null || cached.threadRef.ended()) && core.stateOpaque() == Lifecycle.OPEN) {
            ThreadGuard[] c = (ThreadGuard[]) CACHE.getAcquire(this); // acquire: pairs with clear()'s release
            SLOT.setOpaque(c, i, g);
            // A close() that began since the check above may have replaced the cache already: if c is its new array,
            // the acquire load above sees the state it set, and the install is undone (nothing sweeps after close).
            if (core.stateOpaque() != Lifecycle.OPEN) SLOT.compareAndSet(c, i, g, null);
        }
        return g;
    }

    /**
     * Empties the slot of the thread with id {@code threadId} if it holds that thread's guard: called by the sweep of
     * a participant whose holder ended ({@link Participants#sweep}), so that the ended thread's guard is not kept
     * reachable here. A compare-and-set, so that a guard another thread installed meanwhile stays.
     *
     * @param threadId the id of a thread that ended
     */
    void evict(long threadId) {
        ThreadGuard[] c = cacheOpaque();
        int i = (int) threadId & (SIZE - 1);
        ThreadGuard g = (ThreadGuard) SLOT.getOpaque(c, i);
        if (g != null && g.threadId == threadId) SLOT.compareAndSet(c, i, g, null);
    }

    /**
     * Drops the calling thread's guard and the cache (after close: no guard of a closed core is kept). The new array
     * is published with a release store, after the core's state left OPEN: an install that reads it sees that state
     * ({@link #miss}).
     */
    void clear() {
        guards.remove();
        CACHE.setRelease(this, new ThreadGuard[SIZE]);
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

    /** The cache array for a hit, unordered: replaced only by clear(), after which a stale one is harmless. */
    private ThreadGuard[] cacheOpaque() {
        return (ThreadGuard[]) CACHE.getOpaque(this);
    }

    private static final VarHandle CACHE;
    /** The cache's slots, for {@link #evict}. */
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(ThreadGuard[].class);

    static {
        try {
            CACHE = MethodHandles.lookup().findVarHandle(GuardLookup.class, "cache", ThreadGuard[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
