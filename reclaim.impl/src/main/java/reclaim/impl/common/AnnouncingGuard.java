package reclaim.impl.common;

import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The per-thread guard of an {@link AnnouncingReclaimer}: one per (thread, reclaimer), kept in a thread local and
 * reused by every {@code enter()} of that thread, so that entering allocates nothing. All fields are plain:
 * only the owning thread touches them.
 *
 * <p>{@code protect} is a volatile load and nothing more: under EBR the announcement made by
 * {@code enter()} covers every object reachable during the guard (ALGORITHMS.md R5: the data structure reads
 * its links with at least acquire semantics, and unlinks with a CAS or volatile write).
 */
public class AnnouncingGuard implements Guard {
    final AnnouncingReclaimer reclaimer;
    final Thread thread;
    /** The record this thread holds while in a guard (leased or registered); null outside one unless registered. */
    AnnouncementRecord record;
    /** The record reserved by an explicit registration, or null. */
    AnnouncementRecord registered;
    /**
     * Counts the changes of {@link #registered}: a scheme that caches what belongs to the thread's own record
     * (HP's arrays) rebinds when it changed, since between two holds another thread may have held the record.
     */
    long ownership;
    /** Whether {@link #registered} was reserved implicitly (a sticky record of a platform thread). */
    boolean sticky;
    /** Scheme scratch for a registered thread (QSBR: the value it announced last, or 0 when offline). */
    long announced;
    /** Scheme scratch for a registered thread (QSBR: when it last tried to advance the clock). */
    long lastPass;
    /** Nesting depth; only the outermost enter and close touch shared state. */
    int depth;
    /** Where this thread's last lease succeeded: the first record it tries next time. */
    int hint;

    /**
     * Returns the record reserved by this thread's registration.
     *
     * @return the record, or null if the thread is not registered
     */
    public AnnouncementRecord registered() {
        return registered;
    }

    /**
     * Returns the count of changes of the thread's own record ({@link #registered()}): equal counts mean the
     * thread held its record without a break in between.
     *
     * @return the count
     */
    public final long ownership() {
        return ownership;
    }

    /** Sets the thread's own record (or null), counting the change. */
    final void own(AnnouncementRecord rec) {
        AnnouncementRecord old = registered;
        if (old != null && old.owner == this) old.owner = null;
        if (rec != null) rec.owner = this;
        registered = rec;
        ownership++;
    }

    /**
     * Returns the scheme's scratch value for a registered thread.
     *
     * @return the value
     */
    public long announced() {
        return announced;
    }

    /**
     * Sets the scheme's scratch value for a registered thread.
     *
     * @param value the value
     */
    public void announced(long value) {
        announced = value;
    }

    /**
     * Returns when the registered thread last tried to advance the clock.
     *
     * @return a {@link System#nanoTime()} value
     */
    public long lastPass() {
        return lastPass;
    }

    /**
     * Records when the registered thread last tried to advance the clock.
     *
     * @param nanos a {@link System#nanoTime()} value
     */
    public void lastPass(long nanos) {
        lastPass = nanos;
    }

    /**
     * Creates the guard of {@code thread}.
     *
     * @param reclaimer the reclaimer
     * @param thread the owning thread
     */
    protected AnnouncingGuard(AnnouncingReclaimer reclaimer, Thread thread) {
        this.reclaimer = reclaimer;
        this.thread = thread;
        this.hint = (int) (thread.threadId() & 0x7fff_ffff);
    }

    /**
     * Returns the record this thread holds while in a guard.
     *
     * @return the record, or null outside a guard (unless registered)
     */
    public final AnnouncementRecord record() {
        return record;
    }

    /**
     * Returns the nesting depth (0 outside a guard).
     *
     * @return the depth
     */
    public final int depth() {
        return depth;
    }

    /**
     * Returns the thread this guard belongs to.
     *
     * @return the thread
     */
    public final Thread thread() {
        return thread;
    }

    /**
     * Checks that the caller is the owning thread, inside a guard.
     *
     * @throws IllegalStateException otherwise
     */
    protected final void checkInGuard() {
        if (thread != Thread.currentThread()) throw Checks.wrongThread(thread);
        if (depth == 0) throw Checks.guardClosed();
    }

    @Override
    public <T> T protect(AtomicReference<T> ref) {
        Objects.requireNonNull(ref, "ref");
        checkInGuard();
        return ref.get();
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        Objects.requireNonNull(ref, "ref");
        if (slot < 0) Checks.slot(slot, Integer.MAX_VALUE);
        checkInGuard();
        return ref.get();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T protect(VarHandle field, Object holder) {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(holder, "holder");
        checkInGuard();
        return (T) field.getVolatile(holder);
    }

    @Override
    public <T> T protect(VarHandle field, Object holder, int slot) {
        if (slot < 0) Checks.slot(slot, Integer.MAX_VALUE);
        return protect(field, holder);
    }

    /** The guard protects everything it reads: a key read inside it is already safe. */
    @Override
    public boolean reserve(long key, int slot) {
        if (slot < 0) Checks.slot(slot, Integer.MAX_VALUE);
        checkInGuard();
        return true;
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        Objects.requireNonNull(object, "object");
        Objects.requireNonNull(action, "action");
        checkInGuard();
        reclaimer.retireInto(this, record, object, action);
    }

    /** EBR has no per-pointer slots: every non-negative slot is accepted and everything stays protected. */
    @Override
    public int slots() {
        return Integer.MAX_VALUE;
    }

    @Override
    public Reclaimer reclaimer() {
        return reclaimer;
    }

    @Override
    public void close() {
        if (thread != Thread.currentThread()) throw Checks.wrongThread(thread);
        if (depth == 0) throw new IllegalStateException("the guard is already closed");
        if (--depth == 0) reclaimer.unpin(this);
    }

    @Override
    public String toString() {
        return "AnnouncingGuard[" + thread.getName() + ", depth " + depth + "]";
    }
}
