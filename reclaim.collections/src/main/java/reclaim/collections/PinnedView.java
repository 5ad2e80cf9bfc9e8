package reclaim.collections;

import reclaim.api.Guard;

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
    private final Guard guard;
    /** Whether each operation runs in a nested guard: the scheme protects per slot (see the class comment). */
    private final boolean nests;
    private final Thread owner;
    private boolean closed;

    /**
     * Takes over a guard the subclass opened on the calling thread, which becomes the view's owner. Small on
     * purpose, as {@link #checkOwner} is.
     *
     * @param guard the view's guard, just opened by {@code enter()} on the structure's reclaimer
     */
    PinnedView(Guard guard) {
        this.owner = Thread.currentThread();
        this.guard = guard;
        this.nests = protectsPerSlot(guard);
    }

    /** Whether operations run in nested guards: the scheme protects per slot (see the class comment). */
    private static boolean protectsPerSlot(Guard guard) {
        return guard.slots() != Integer.MAX_VALUE;
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
        checkOwner("used");
        return nests ? guard.nest() : guard;
    }

    /**
     * The view's own guard, on the owner thread (tests: what the view itself protects until it closes).
     *
     * @return the guard the view opened
     * @throws IllegalStateException if the view is closed or the caller is not the thread that opened it
     */
    final Guard guard() {
        checkOwner("used");
        return guard;
    }

    /**
     * The misuse checks every operation and {@link #close} start with: the owner thread, a view not closed.
     *
     * <p>Small on purpose (within the 35 bytes of bytecode that C2 inlines at a call that is not yet hot), with
     * the message built in a static method that is not given the view. A call that is not inlined and receives
     * the view makes it escape, and the view is then allocated on the heap instead of being replaced by its
     * fields (escape analysis): a short-lived view makes no garbage only while its methods inline.
     *
     * @param what what the caller does, for the message: "used" or "closed"
     */
    private void checkOwner(String what) {
        if (Thread.currentThread() != owner || closed) throw misuse(getClass(), owner, what);
    }

    /**
     * The exception for a view used or closed from a thread other than its owner, or after it was closed.
     *
     * @param type the view's class
     * @param owner the thread that opened the view
     * @param what what the caller did ("used" or "closed")
     * @return the exception to throw
     */
    private static IllegalStateException misuse(Class<?> type, Thread owner, String what) {
        Thread t = Thread.currentThread();
        if (t != owner) {
            return new IllegalStateException(type.getCanonicalName() + " " + what + " from thread " + t.getName()
                    + ": it belongs to thread " + owner.getName() + ", which opened it");
        }
        return new IllegalStateException(
                type.getCanonicalName() + (what.equals("closed") ? " closed twice" : " used after close()"));
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
     * Closes the view and its guard: what its operations protected may be reclaimed again.
     *
     * @throws IllegalStateException if the view is already closed, or the caller is not the thread that
     *     opened it
     */
    @Override
    public final void close() {
        checkOwner("closed");
        closed = true;
        guard.close();
    }
}
