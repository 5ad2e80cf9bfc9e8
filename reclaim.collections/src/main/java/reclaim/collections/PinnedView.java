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
 * reads afresh and relies on nothing it read in an earlier call: under the schemes that protect per slot each
 * operation runs in a nested guard (below), whose slots the next operation's nested guard reuses (a scheme may
 * keep an inner guard's protections until then, or until the view closes: at most one level's slots).
 *
 * <p>Slots. A thread's guards are one object per thread and reclaimer, whatever the nesting: a guard the caller
 * opens after the view is the view's guard too, and an operation that protected in the view's guard's slots
 * would protect in that inner guard's slots, releasing what the caller protected there. So where the scheme
 * protects per slot ({@link Guard#slots()} is finite: hazard pointers, Crystalline), each operation runs in a
 * guard nested in whatever is open ({@link #begin}, {@link #end}), with slots of its own, as a per-operation
 * call does; it is opened from the view's guard ({@link Guard#nest()}), which spares the lookup of the thread's
 * guard that {@code enter()} makes. The other schemes protect everything until the outermost guard closes, and
 * their operations run in the view's guard itself.
 *
 * <p>Fields: {@code closed} is read and written only by the owner thread (every access checks the thread
 * first), so it is plain.
 */
abstract class PinnedView implements AutoCloseable {
    private final Reclaimer reclaimer;
    private final Guard guard;
    /** Whether each operation runs in a nested guard: the scheme protects per slot (see the class comment). */
    private final boolean nests;
    private final Thread owner;
    private boolean closed;

    PinnedView(Reclaimer reclaimer) {
        this.owner = Thread.currentThread();
        this.reclaimer = reclaimer;
        this.guard = reclaimer.enter();
        this.nests = guard.slots() != Integer.MAX_VALUE;
    }

    /**
     * Opens the guard of one operation on the owner thread: the view's own, or, where the scheme protects per slot,
     * a guard nested in whatever guard is open. The caller ends the operation with {@link #end}, in a
     * {@code finally}.
     *
     * @return the guard to run the operation in
     * @throws IllegalStateException if the view is closed or the caller is not the thread that opened it
     */
    final Guard begin() {
        checkOwner();
        return nests ? guard.nest() : guard;
    }

    /**
     * The view's own guard, on the owner thread (tests: what the view itself protects until it closes).
     *
     * @return the guard the view opened
     * @throws IllegalStateException if the view is closed or the caller is not the thread that opened it
     */
    final Guard guard() {
        checkOwner();
        return guard;
    }

    /** The misuse checks every operation starts with: the owner thread, a view not closed. */
    private void checkOwner() {
        Thread t = Thread.currentThread();
        if (t != owner) {
            throw new IllegalStateException(getClass().getCanonicalName() + " used from thread " + t.getName()
                    + ": it belongs to thread " + owner.getName() + ", which opened it");
        }
        if (closed) throw new IllegalStateException(getClass().getCanonicalName() + " used after close()");
    }

    /**
     * Ends the operation that {@link #begin} opened {@code g} for: closes it if it is a nested guard.
     *
     * @param g what {@link #begin} returned
     */
    final void end(Guard g) {
        if (nests) g.close();
    }

    /** Each view declares it, calling {@link #closeView()} (see there); it throws no checked exception. */
    @Override
    public abstract void close();

    /**
     * Closes the view and its guard, for the view's public {@code close()}: each view declares that method itself,
     * so that it is a public member of a public class (a {@code close()} inherited from this package-private class
     * would be unreachable to reflection and to method handles from outside the package).
     *
     * @throws IllegalStateException if the view is already closed, or the caller is not the thread that
     *     opened it
     */
    final void closeView() {
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
