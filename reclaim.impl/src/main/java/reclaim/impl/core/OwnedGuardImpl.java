package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;

/**
 * The {@link OwnedGuard} of a {@link Core}: the scheme's own guard, created with no thread, open on a participant
 * leased for the owned guard's lifetime, behind a word that names the thread in a call on it.
 *
 * <h2>A participant of its own</h2>
 * An owned guard never uses its thread's participant. That participant belongs to the thread's guards: under the
 * sticky schemes (hazard pointers, Crystalline, Crystalline-W) it holds the hazard slots or reservations of the
 * thread's guards, and under QSBR a registered thread's quiescent states move its announcement; a guard that left
 * the thread would share those with guards it knows nothing of. So {@link #open} creates the scheme's guard with no
 * thread ({@link Policy#newGuard}) and leases a FREE participant for it, as the outermost guard of a virtual
 * thread does: a CAS to the scheme's announcement (EBR's epoch, QSBR's grace period, "in a guard" for the others),
 * then the scheme's {@link Policy#entered} (Hyaline activates the slot, hazard pointers and Crystalline bind the
 * participant's slots or reservations). Everything else is the scheme's guard unchanged: {@code protect},
 * {@code reserve} and {@code retire} are its methods, and close is {@link Core#unpin} (the scheme detaches what the
 * guard held, the participant is released with a release store, and what was detached is walked after).
 *
 * <p>Under QSBR the owned guard is therefore what an unregistered thread's guard is: online from open to close, its
 * announcement held in its own participant; no thread's quiescent state or {@code offline()} touches it, and the
 * collector's scan holds reclamation back for it until it closes (and reports it as stalled when that is long). Under
 * EBR it holds the epoch, under the robust schemes only what it protected, as any guard.
 *
 * <p>The participant's holder word stays null. A sweep frees the participant of a thread that ended, and an owned
 * guard outlives the threads that used it: with no holder, no sweep ever takes it; only {@link #close()} gives it
 * back. What was retired through the guard is in the participant's bag, which stays with the participant when it is
 * released (FREE participants' bags are sealed by the next holder, a flush or close): nothing is lost.
 * {@code Reclaimer.close()} sees the participant announced (or, for the sticky schemes, its slots in use) and counts
 * the guard as open, after its usual wait, since the participant's holder is not the closing thread.
 *
 * <h2>The use word</h2>
 * {@link #user} is null while no call is in progress, else the thread in the call. Every call CASes it from null to
 * the calling thread (a volatile read-modify-write) and ends with a release store of null. So two calls never run at
 * once: the second one finds the word taken and throws before touching anything; and the fields of this object, of
 * the scheme's guard and of the participant (its bag), which are plain, pass from one caller to the next with a
 * happens-before edge (the release store that ended a call, read by the CAS that begins the next), whether or not the
 * caller's own hand-over ordered the two threads. The scheme's guard sees no thread of its own and does not check
 * the caller: the check is here.
 *
 * <p>Reclaim actions that a call runs (a collection after a retire, the walk of what close detached, Crystalline's
 * protect walking a slot's old list) run with the word still taken: an action that calls this guard is refused.
 */
final class OwnedGuardImpl implements OwnedGuard {
    private final Core core;
    /** The scheme's guard, with no thread; its fields and its participant's are touched only inside a call. */
    private final ThreadGuard guard;
    /** The thread in a call on this guard, or null; accessed through {@code USER}. */
    private Thread user;
    /**
     * Checked mode: what this guard read, and where (the check of {@link CheckedGuard}, for a retire through this
     * guard); null otherwise. Touched only inside a call (plain: the use word orders the calls).
     */
    private final CheckedGuard.Sources checked;

    private OwnedGuardImpl(Core core, ThreadGuard guard) {
        this.core = core;
        this.guard = guard;
        this.checked = core.check != null ? new CheckedGuard.Sources() : null;
    }

    /**
     * Opens an owned guard of {@code core} on the calling thread.
     *
     * @param core the core
     * @param handle the reclaimer the user holds, weakly, for {@link #reclaimer()}
     * @return the open guard
     * @throws IllegalStateException if the core is not open
     */
    static OwnedGuard open(Core core, WeakReference<Reclaimer> handle) {
        ThreadGuard g = core.newGuard(null);
        g.weakHandle = handle;
        // Where the lease starts looking: spread by the opening thread, so that owned guards opened on different
        // threads do not all try the same participant first (the hint of a thread's own guard is its id).
        g.hint = (int) ((Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L) >>> 33);
        core.pinOwned(g);
        // Published to other threads only by the caller's hand-over, which orders these plain writes before them.
        return new OwnedGuardImpl(core, g);
    }

    // ---- the use word ----

    /** Takes the guard for one call by the current thread, or throws if another call is in progress. */
    private void begin() {
        Thread me = Thread.currentThread();
        // Volatile CAS: reads the release store that ended the previous call, so what that call wrote happens-before
        // this one. On failure it returns the thread in the call, for the message.
        Thread in = compareAndExchangeUser(null, me);
        if (in != null) throw inUse(in, me);
    }

    /** Gives the guard back at the end of a call: a release store, which the next call's CAS reads. */
    private void end() {
        setUserRelease(null);
    }

    private static IllegalStateException inUse(Thread in, Thread me) {
        if (in == me) {
            return new IllegalStateException("the owned guard was used by a reclaim action that a call on it is running"
                    + " (on thread '" + me.getName() + "'): an action must not use the guard whose call runs it");
        }
        return new IllegalStateException("the owned guard is in use by thread '" + in.getName() + "' (a call on it is in"
                + " progress), not usable from '" + me.getName() + "' at the same time: an owned guard serves one"
                + " thread at a time; hand it over once that thread is done with it");
    }

    // ---- Guard ----

    @Override
    public <T> T protect(AtomicReference<T> ref) {
        begin();
        try {
            T v = guard.protect(ref);
            if (checked != null) checked.remember(ref, null, v);
            return v;
        } finally {
            end();
        }
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        begin();
        try {
            T v = guard.protect(ref, slot);
            if (checked != null) checked.remember(ref, null, v);
            return v;
        } finally {
            end();
        }
    }

    @Override
    public <T> T protect(VarHandle field, Object holder) {
        begin();
        try {
            T v = guard.protect(field, holder);
            if (checked != null) checked.remember(holder, field, v);
            return v;
        } finally {
            end();
        }
    }

    @Override
    public <T> T protect(VarHandle field, Object holder, int slot) {
        begin();
        try {
            T v = guard.protect(field, holder, slot);
            if (checked != null) checked.remember(holder, field, v);
            return v;
        } finally {
            end();
        }
    }

    @Override
    public boolean reserve(long key, int slot) {
        begin();
        try {
            return guard.reserve(key, slot);
        } finally {
            end();
        }
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        begin();
        try {
            if (checked != null && object != null && action != null && guard.depth() != 0) {
                checked.checkUnlinked(object, core.check);
            }
            guard.retire(object, action);
        } finally {
            end();
        }
    }

    /** The scheme's slots; a final property of its guard, so no call is taken. */
    @Override
    public int slots() {
        return guard.slots();
    }

    /** Set before the guard was handed over; no call is taken. */
    @Override
    public Reclaimer reclaimer() {
        return guard.reclaimer();
    }

    /**
     * An owned guard does not nest (a guard nested in it would belong to a thread, and it may move): the calling
     * thread's guard is opened, as {@code enter()} opens it, once this guard is checked to be open and held here.
     */
    @Override
    public Guard nest() {
        begin();
        try {
            if (guard.depth() == 0) throw Checks.guardClosed();
        } finally {
            end();
        }
        return OwnedGuard.super.nest(); // the thread's guard, as enter() opens it
    }

    /**
     * Leaves and enters again ({@code Core.refresh}): the participant is released and a new one leased, inside one
     * call, so no other thread sees the guard closed meanwhile.
     */
    @Override
    public boolean refresh() {
        begin();
        try {
            if (guard.depth() == 0) throw new IllegalStateException("refresh() of an owned guard that is already closed");
            boolean done = core.refresh(guard);
            if (done && checked != null) checked.forget(); // what it read before is no longer held
            return done;
        } finally {
            end();
        }
    }

    @Override
    public void close() {
        begin();
        try {
            if (guard.depth() == 0) throw new IllegalStateException("the owned guard is already closed");
            guard.depth(0);
            if (checked != null) checked.forget();
            core.unpin(guard); // detaches, releases the participant, then walks (reclaim actions run last)
        } finally {
            end();
        }
    }

    @Override
    public String toString() {
        return "OwnedGuard[" + core.name + "]";
    }

    // ---- accessors of the use word ----

    private Thread compareAndExchangeUser(Thread expected, Thread update) {
        return (Thread) USER.compareAndExchange(this, expected, update);
    }

    private void setUserRelease(Thread value) {
        USER.setRelease(this, value);
    }

    private static final VarHandle USER;

    static {
        try {
            USER = MethodHandles.lookup().findVarHandle(OwnedGuardImpl.class, "user", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
