package reclaim.collections;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * What the guard-scoped views ({@link RecyclingHashMap.Pinned}, {@link RecyclingListSet.Pinned},
 * {@link RecyclingQueue.Pinned}) share: one guard of the structure's reclaimer, opened when the view is
 * created and closed with it, the thread that owns it, and the misuse checks every operation starts with.
 *
 * <p>The structures' operations are written once, as private methods that take the guard to work in; the
 * per-operation API opens a guard for each call, a view passes its own. Every operation protects what it
 * reads afresh and keeps nothing between calls, so under hazard pointers it reuses the same few slots:
 * a view holds at most as many hazards as one operation does, the nodes the last operation left in its
 * slots, until the next operation overwrites them or the view closes.
 *
 * <p>Fields: {@code closed} is read and written only by the owner thread (every access checks the thread
 * first), so it is plain.
 */
abstract class PinnedView implements AutoCloseable {
    private final Guard guard;
    private final Thread owner;
    private boolean closed;

    PinnedView(Reclaimer reclaimer) {
        this.owner = Thread.currentThread();
        this.guard = reclaimer.enter();
    }

    /**
     * The view's guard, for one operation on the owner thread.
     *
     * @throws IllegalStateException if the view is closed or the caller is not the thread that opened it
     */
    final Guard guard() {
        Thread t = Thread.currentThread();
        if (t != owner) {
            throw new IllegalStateException(getClass().getCanonicalName() + " used from thread " + t.getName()
                    + ": it belongs to thread " + owner.getName() + ", which opened it");
        }
        if (closed) throw new IllegalStateException(getClass().getCanonicalName() + " used after close()");
        return guard;
    }

    /**
     * Closes the view and its guard: what its operations protected may be reclaimed again.
     *
     * @throws IllegalStateException if the view is already closed, or the caller is not the thread that
     *     opened it
     */
    @Override
    public final void close() {
        Thread t = Thread.currentThread();
        if (t != owner) {
            throw new IllegalStateException(getClass().getCanonicalName() + " closed from thread " + t.getName()
                    + ": it belongs to thread " + owner.getName() + ", which opened it");
        }
        if (closed) throw new IllegalStateException(getClass().getCanonicalName() + " closed twice");
        closed = true;
        guard.close();
    }
}
