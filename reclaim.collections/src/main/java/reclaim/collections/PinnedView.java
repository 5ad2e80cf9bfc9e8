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
 * first), so it is plain. The fields the views' {@code close()} reads are package-private for that method (see
 * {@link #close()}).
 */
abstract class PinnedView implements AutoCloseable {
    private final Reclaimer reclaimer;
    /** The view's guard; read by the views' {@code close()}; replaced by {@link #reopening()} (owner thread only). */
    Guard guard;
    /** Whether each operation runs in a nested guard: the scheme protects per slot (see the class comment). */
    private final boolean nests;
    /** The thread that opened the view; read by the views' {@code close()}. */
    final Thread owner;
    /** Whether the view is closed; written by the views' {@code close()}. */
    boolean closed;

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
     * Opens this closed view again on its owner thread: a new guard of the reclaimer, held until the view closes
     * again (the views' {@code reopen()}). The view is reopened only if every check passes and the guard opens.
     *
     * @throws IllegalStateException if the view is open, if the caller is not the thread that opened it, or if the
     *     reclaimer is closed (the view then stays closed)
     */
    final void reopening() {
        Thread t = Thread.currentThread();
        if (t != owner) {
            throw new IllegalStateException(getClass().getCanonicalName() + " reopened from thread " + t.getName()
                    + ": it belongs to thread " + owner.getName() + ", which opened it");
        }
        if (!closed) throw new IllegalStateException(getClass().getCanonicalName() + " reopened while open: close it first");
        guard = reclaimer.enter();
        closed = false;
    }

    /**
     * Ends the operation that {@link #begin} opened {@code g} for: closes it if it is a nested guard.
     *
     * @param g what {@link #begin} returned
     */
    final void end(Guard g) {
        if (nests) g.close();
    }

    /**
     * Closes the view and its guard. Each view declares this method itself, so that it is a public member of a
     * public class (a {@code close()} inherited from this package-private class would be unreachable to
     * reflection and to method handles from outside the package), and writes its body out in full:
     * <pre>{@code
     * Thread t = Thread.currentThread();
     * if (t != owner || closed) throw misuseOnClose(getClass(), t, owner);
     * closed = true;
     * guard.close();
     * }</pre>
     * No method receives the view: C2 may decline to inline a call it finds rare (its "low call site
     * frequency"), and a view passed to a call that is not inlined escapes, so escape analysis keeps its
     * allocation (a body split into a {@code closing()} helper allocated the view in about a third of JMH
     * forks). The exception is built by a static method from the view's class and the two threads.
     *
     * @throws IllegalStateException if the view is already closed, or the caller is not the thread that
     *     opened it
     */
    @Override
    public abstract void close();

    /**
     * The exception for a refused {@code close()}.
     *
     * @param view the view's class
     * @param caller the thread that called {@code close()}
     * @param owner the thread that opened the view
     * @return the exception: closed from another thread if {@code caller != owner}, else closed twice
     */
    static IllegalStateException misuseOnClose(Class<?> view, Thread caller, Thread owner) {
        if (caller != owner) {
            return new IllegalStateException(view.getCanonicalName() + " closed from thread " + caller.getName()
                    + ": it belongs to thread " + owner.getName() + ", which opened it");
        }
        return new IllegalStateException(view.getCanonicalName() + " closed twice");
    }
}
