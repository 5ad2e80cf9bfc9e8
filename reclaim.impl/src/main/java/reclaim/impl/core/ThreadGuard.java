package reclaim.impl.core;

import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The per-thread guard of a {@link Core}: one per (thread, reclaimer), found by {@link GuardLookup} and
 * reused by every {@code enter()} of that thread, so that entering allocates nothing. All fields are plain:
 * only the owning thread touches them.
 *
 * <p>It refers to the {@link Core}, and to the {@link Reclaimer} the user holds only weakly: the thread-local map
 * of every thread that used a reclaimer keeps this guard, and a strong path from it to the reclaimer (which owns
 * the thread local's key) would keep a dropped reclaimer reachable for as long as those threads live. A reclaimer
 * dropped while a guard of it is still open is finished by the last such guard to close (see {@code Closing}).
 *
 * <p>{@code protect} is a volatile load and nothing more: under EBR the announcement made by
 * {@code enter()} covers every object reachable during the guard, as long as the data structure reads its links
 * with at least acquire semantics and unlinks with a CAS or a volatile write (what {@code protect} and the
 * API's documentation ask of it).
 *
 * <p>The same class (the scheme's subclass, from {@link Policy#newGuard}) also serves an owned guard
 * ({@link OwnedGuardImpl}) with no thread ({@link #threadRef} null, {@link #threadId} 0): it belongs to no thread, leases a participant whose holder is
 * no thread, and its fields are touched by the thread in a call on the owned guard, which passes them on through
 * the owned guard's use word. {@link #checkInGuard()} then leaves the thread check to the owned guard.
 */
public class ThreadGuard implements Guard {
    /** The core this guard belongs to. */
    final Core core;
    /**
     * Whether the core runs the asymmetric barrier ({@link Barrier}): a scheme's guard then publishes hazards and
     * reservations with opaque stores, and the scanners pay the heavy barrier.
     */
    protected final boolean asymmetric;
    /**
     * The owning thread's id ({@link Thread#threadId()}), compared with the caller's on every call; 0 for the guard
     * behind an owned guard, which belongs to no thread (no thread has id 0).
     */
    final long threadId;
    /**
     * The owning thread, weakly (see {@link ThreadRef}: the core reaches this guard, and must not keep an ended thread
     * reachable); null for the guard behind an owned guard.
     */
    final ThreadRef threadRef;
    /** The reclaimer the user holds, for {@link #reclaimer()}; set once by the lookup. */
    WeakReference<Reclaimer> weakHandle;
    /**
     * What sweeping participants of ended threads detached while this thread was taking a participant of its
     * own: run once the thread's bookkeeping is complete (reclaim actions run only then). Null when empty.
     */
    ArrayList<Object> deferred;
    /** The record this thread holds while in a guard (leased or registered); null outside one unless registered. */
    Participant record;
    /** The record reserved by an explicit registration, or null. */
    Participant registered;
    /**
     * Counts the changes of {@link #registered}: a scheme that caches what belongs to the thread's own record
     * (HP's arrays) rebinds when it changed, since between two holds another thread may have held the record.
     */
    long ownership;
    /** Whether {@link #registered} was reserved implicitly (a sticky record of a platform thread). */
    boolean sticky;
    /**
     * The guard's nesting depth and the kind of its short path in one word, so that an outermost enter and its close
     * each test both with one load and one compare of a constant: the kind ({@link #fast()}) in the low byte, the
     * depth ({@link #depth()}) above it; only the outermost enter and close touch shared state. Plain: only the
     * guard's thread uses it (an owned guard's calls pass it on with the guard).
     *
     * <p>The kind is the path this thread's outermost guards take ({@code Core.openFast}, {@code Core.unpin},
     * {@link #close()}). A short one (positive) when the thread holds its own participant as its record and the
     * policy's {@code entered} ran on it since the thread took it: {@link #FAST_RESERVED} when it enters and leaves
     * through the policy's {@code enterReserved}/{@code exitReserved} (QSBR's registered executors, on the state
     * word), else {@link #OPEN_WORD} with the bits that say what the open word's enter and leave do: {@link #FENCED} (a
     * full fence follows the store: the fence strategy), {@link #ANNOUNCING} (the store is the policy's announcement
     * rather than the grace clock) and {@link #DETACHING} (the policy's {@code leaving} runs at the leave). What the
     * general path tests on every enter and close (a participant of its own, the word it announces in, the fence, the
     * record, the scheme's binding to the participant), and what the core's own flags say, is decided once by
     * {@code Core.decideFast}, on the first outermost enter after the thread's participant changed: {@link #own} sets
     * it back to {@link #UNDECIDED}. The bits are tested in a register, where the core's flags would each be a load.
     */
    int word;
    /** {@link #word}: one level of depth. */
    static final int DEPTH_ONE = 1 << 8;
    /** {@link #word}: the kind's bits. */
    static final int KIND = 0xff;
    /** {@link #fast()}: not decided since the thread's participant last changed. */
    static final byte UNDECIDED = 0;
    /** {@link #fast()}: the general path (a leased participant). */
    static final byte GENERAL = -1;
    /** {@link #fast()}: the short path, through the policy's enter and exit of a reserved participant. */
    static final byte FAST_RESERVED = 1;
    /** {@link #fast()}: the short path on the open word; every kind at or above it is one, with the bits below. */
    static final byte OPEN_WORD = 2;
    /** A bit of an {@link #OPEN_WORD} kind: a full fence follows the open word's store. */
    static final byte FENCED = 4;
    /** A bit of an {@link #OPEN_WORD} kind: the open word holds the policy's announcement, not the grace clock. */
    static final byte ANNOUNCING = 8;
    /**
     * A bit of an {@link #OPEN_WORD} kind: the leave asks the policy what to detach ({@code Policy.leaving}). The
     * highest bit, so that the kinds with it are those at or above it.
     */
    static final byte DETACHING = 32;
    /** {@link #fast()}: the open word holding the announcement, nothing to detach (EBR, QSBR; asymmetric barrier). */
    static final byte OPEN_ANNOUNCING = OPEN_WORD | ANNOUNCING;
    /** {@link #fast()}: the open word holding the grace clock, the policy's leave (HP, Crystalline; asymmetric). */
    static final byte OPEN_DETACHING = OPEN_WORD | DETACHING;
    /** {@link #fast()}: the open word holding the announcement, the policy's leave (Hyaline; asymmetric). */
    static final byte OPEN_ANNOUNCING_DETACHING = OPEN_WORD | ANNOUNCING | DETACHING;
    /** Scheme scratch for a registered thread (QSBR: the value it announced last, or 0 when offline). */
    long announced;
    /** Scheme scratch for a registered thread (QSBR: when it last tried to advance the clock). */
    long lastPass;
    /**
     * Levels of reclaim actions this guard's thread is running for the core: a retire's or an enter's collection, a
     * flush's, a registered thread's pass, the walk of what a close detached (nested where an action flushes). While it
     * is not 0, a collection that the thread's operations find due is not started ({@code Core.collectAt}) and a
     * close's detached lists wait for the outermost level ({@code Core.walkLeft}). Plain: only the guard's thread uses
     * it.
     */
    int collecting;
    /**
     * What leaves of this guard detached while {@link #collecting} was not 0, for the outermost level to walk
     * ({@code Core.walkLeft}); null until the first. Plain: only the guard's thread uses it.
     */
    private ArrayDeque<Object> queuedWalks;
    /**
     * Whether a reclaim action called {@code flush()} while {@link #collecting} was not 0: the outermost level flushes
     * again before it ends ({@code Core.endCollecting}). Plain: only the guard's thread uses it.
     */
    boolean flushAgain;
    /** Outermost guards this thread opens before it collects on enter again (see {@code Policy.collectDue}). */
    int pinsLeft;
    /**
     * The open word: non-zero while this thread has a guard open on its sticky participant, else 0 (see
     * {@link Participant}). It is the scheme's announcement (EBR's epoch under the asymmetric barrier), or else the
     * core's grace clock: a clock either way, so that a grace period tells this guard from the thread's later ones
     * ({@link GracePeriods}). Written by the owning thread only, read by {@code close()}, scanners and grace periods;
     * accessed through {@code OPEN}.
     * Beside {@link #depth}, which enter writes anyway: the word costs no other cache line.
     */
    private long open;
    /**
     * The bag word: 1 while this thread adds to the bag of its own participant without taking the participant BUSY
     * (a retire under the asymmetric barrier: {@code Core.claimBag}), else 0. Written by the owning thread only (an
     * opaque store of 1 before it reads the participant's state, a release store of 0 when it is done with the bag),
     * read with acquire by a thread that took the participant BUSY from another thread's idle state, after its heavy
     * barrier ({@code Core.bagInUse}); accessed through {@code BAG}. Beside {@link #open}: the owner's line.
     */
    private int bag;
    /**
     * The participant this thread's last lease took, tried first by the next lease (a participant never leaves the
     * registry, so it is always one of the core's); written only when a lease takes another one.
     */
    Participant lastLeased;
    /** Where this thread's last lease that scanned succeeded: where the next scan starts. */
    int hint;
    /** Checked mode's view of this guard, what its enter() returns ({@link CheckedGuard#of}); null until then. */
    CheckedGuard checked;

    /**
     * Returns whether the core runs the asymmetric barrier: the guard's own copy of it, one load from a guard the caller
     * holds (for a policy's enter and leave).
     *
     * @return true under the asymmetric barrier
     */
    public final boolean asymmetric() {
        return asymmetric;
    }

    /**
     * Returns the record reserved by this thread's registration.
     *
     * @return the record, or null if the thread is not registered
     */
    public Participant registered() {
        return registered;
    }

    /**
     * Returns whether {@link #registered()} is the thread's sticky participant rather than an explicit registration.
     *
     * @return true for a sticky participant
     */
    public final boolean stickyParticipant() {
        return sticky;
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
    final void own(Participant rec) {
        Participant old = registered;
        if (old != null && old.ownerAcquire() == this) old.setOwnerRelease(null);
        if (rec != null) rec.setOwnerRelease(this);
        registered = rec;
        fast(UNDECIDED); // decided again by the core (decideFast) at the next outermost enter
        ownership++;
        if (rec == null) participantGone();
    }

    /**
     * Called when the thread gives its own participant back (its registration ended): a scheme's guard drops what it
     * kept of that participant (HP's slot arrays), which the participant's next holder may replace and leave holding
     * old hazards. The guard binds its next participant at its next outermost enter, as after any change of
     * {@link #registered}. A guard of a thread that ends holding no participant stays in the lookup's cache until
     * another thread takes its slot (see {@link GuardLookup}): it must refer to no participant's arrays then.
     */
    protected void participantGone() {}

    /** Queues a detached list for the outermost level of {@link #collecting} to walk. */
    final void queueWalk(Object detached) {
        if (queuedWalks == null) queuedWalks = new ArrayDeque<>();
        queuedWalks.add(detached);
    }

    /** The next queued walk ({@link #queueWalk}), or null. */
    final Object takeQueuedWalk() {
        return queuedWalks == null ? null : queuedWalks.poll();
    }

    // ---- the bag word (a retire's claim of the thread's own bag, asymmetric barrier) ----

    /** The owner's side, before it reads the participant's state: the store of the store-load pair. */
    final void setBagOpaque(int value) {
        BAG.setOpaque(this, value);
    }

    /** The owner's side, done with the bag: hands its adds to a taker that reads 0 ({@link #bagAcquire}). */
    final void setBagRelease(int value) {
        BAG.setRelease(this, value);
    }

    /** A taker's side, after its heavy barrier. */
    final int bagAcquire() {
        return (int) BAG.getAcquire(this);
    }

    // ---- the open flag (sticky participants) ----

    final long openAcquire() {
        return (long) OPEN.getAcquire(this);
    }

    /**
     * Sets the word on the outermost enter (a clock value) and clears it on the outermost close (0): a release store,
     * so that a {@code close()} or a grace period whose acquire read sees the new value also sees what the guard, or
     * the previous one, did before (a closing guard counted its detached work in flight first).
     */
    final void setOpenRelease(long value) {
        OPEN.setRelease(this, value);
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
     * @param core the core
     * @param thread the owning thread, or null for the guard behind an owned guard
     */
    protected ThreadGuard(Core core, Thread thread) {
        this.core = core;
        this.asymmetric = core.barrier.asymmetric();
        this.threadRef = thread == null ? null : new ThreadRef(thread);
        this.threadId = thread == null ? 0 : thread.threadId();
        this.hint = (int) (threadId & 0x7fff_ffff);
    }

    /**
     * Returns the record this thread holds while in a guard.
     *
     * @return the record, or null outside a guard (unless registered)
     */
    public final Participant record() {
        return record;
    }

    /**
     * Returns the nesting depth (0 outside a guard).
     *
     * @return the depth
     */
    public final int depth() {
        return word >>> 8;
    }

    /**
     * Sets the nesting depth, keeping the kind.
     *
     * @param d the depth
     */
    final void depth(int d) {
        word = (d << 8) | (word & KIND);
    }

    /** @return the kind of this guard's short path, the low byte of {@link #word} */
    final byte fast() {
        return (byte) word;
    }

    /**
     * Sets the kind of this guard's short path, keeping the depth.
     *
     * @param kind the kind
     */
    final void fast(byte kind) {
        word = (word & ~KIND) | (kind & KIND);
    }

    /** One level deeper: a nested guard. */
    final void deeper() {
        int w = word;
        if (w > Integer.MAX_VALUE - DEPTH_ONE) throw Checks.nestedTooDeep(w >>> 8);
        word = w + DEPTH_ONE;
    }

    /**
     * Returns the thread this guard belongs to.
     *
     * @return the thread, or null for the guard behind an owned guard
     */
    public final Thread thread() {
        return threadRef == null ? null : threadRef.get();
    }

    /** @return whether the calling thread owns this guard (false for the guard behind an owned guard) */
    final boolean ownedByCaller() {
        return threadId == Thread.currentThread().threadId();
    }

    /** @return the exception for a call from a thread that does not own this guard */
    final IllegalStateException wrongThread() {
        return Checks.wrongThread(threadRef == null ? "none" : threadRef.name());
    }

    /**
     * Checks that the caller is the owning thread, inside a guard. The guard behind an owned guard has no owning
     * thread: its owned guard checked the caller before the call reached here.
     *
     * @throws IllegalStateException otherwise
     */
    protected final void checkInGuard() {
        long t = threadId;
        if (t != Thread.currentThread().threadId() && t != 0) throw wrongThread(); // 0 tested only off the fast path
        if (word < DEPTH_ONE) throw Checks.guardClosed(); // depth 0
    }

    /*
     * The protects of a guard whose section protects everything it reads. Through an AtomicReference the load comes
     * first, then the checks (a misused guard throws and the value read is dropped: AtomicReference.get() is final and
     * cannot throw), so that the checks' loads come after the load's acquire and the JIT may reuse them for the next
     * call on the guard (close() tests the same owner and word). Through a VarHandle the checks come first: the access
     * itself may throw (a holder of another class), and a misused guard must throw IllegalStateException.
     */

    @Override
    public <T> T protect(AtomicReference<T> ref) {
        T v = Objects.requireNonNull(ref, "ref").get();
        checkInGuard();
        return v;
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        T v = Objects.requireNonNull(ref, "ref").get();
        if (slot < 0 || slot == Integer.MAX_VALUE) Checks.slot(slot, Integer.MAX_VALUE);
        checkInGuard();
        return v;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T protect(VarHandle field, Object holder) {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(holder, "holder");
        checkInGuard(); // first: a holder of the wrong class must not make a misused guard throw something else
        return (T) field.getVolatile(holder);
    }

    @Override
    public <T> T protect(VarHandle field, Object holder, int slot) {
        if (slot < 0 || slot == Integer.MAX_VALUE) Checks.slot(slot, Integer.MAX_VALUE);
        return protect(field, holder);
    }

    /** The guard protects everything it reads: a key read inside it is already safe. */
    @Override
    public boolean reserve(long key, int slot) {
        if (slot < 0 || slot == Integer.MAX_VALUE) Checks.slot(slot, Integer.MAX_VALUE);
        checkInGuard();
        return true;
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        Objects.requireNonNull(object, "object");
        Objects.requireNonNull(action, "action");
        checkInGuard();
        core.retireInto(this, record, object, action);
    }

    /** EBR has no per-pointer slots: every non-negative slot is accepted and everything stays protected. */
    @Override
    public int slots() {
        return Integer.MAX_VALUE;
    }

    @Override
    public Reclaimer reclaimer() {
        WeakReference<Reclaimer> w = weakHandle;
        return w == null ? null : w.get(); // null only once the reclaimer was dropped and collected
    }

    /**
     * Leaves and enters again on this guard object if it is the outermost guard ({@code Core.refresh}); scheme guards
     * need nothing more, since at depth 1 leaving releases every level's slots.
     */
    @Override
    public boolean refresh() {
        checkInGuard();
        return core.refresh(this);
    }

    @Override
    public void close() {
        if (!ownedByCaller()) throw wrongThread();
        int w = word;
        // The outermost guard on the thread's own participant, the short paths of the open word under either barrier:
        // the depth and the kind in one compare (see Core.enter for the enter's kinds, and why a switch). EBR's two
        // cases store their kind back as constants (one case for both would compute it: an instruction more).
        switch (w) {
            case DEPTH_ONE + OPEN_ANNOUNCING -> { // EBR, QSBR: the open word's store alone
                word = OPEN_ANNOUNCING;
                core.leaveOpenWord(this);
                return;
            }
            case DEPTH_ONE + (OPEN_ANNOUNCING | FENCED) -> { // the same under fences
                word = OPEN_ANNOUNCING | FENCED;
                core.leaveOpenWord(this);
                return;
            }
            case DEPTH_ONE + OPEN_DETACHING, DEPTH_ONE + OPEN_ANNOUNCING_DETACHING, // HP, Crystalline, Hyaline
                    DEPTH_ONE + (OPEN_DETACHING | FENCED), DEPTH_ONE + (OPEN_ANNOUNCING_DETACHING | FENCED) -> {
                word = w - DEPTH_ONE;
                core.unpin(this, OPEN_DETACHING);
                return;
            }
            default -> { }
        }
        closeOther(w);
    }

    /** {@link #close()} for the other kinds, a nested guard, or a guard already closed. */
    private void closeOther(int w) {
        int d = w >>> 8;
        if (d == 0) throw new IllegalStateException("the guard is already closed");
        word = w - DEPTH_ONE;
        if (d != 1) return;
        byte f = (byte) w;
        // What the leave does depends on DETACHING alone, the highest bit.
        if (f >= DETACHING) core.unpin(this, OPEN_DETACHING); // the policy's leave, then the open word's store
        else if (f >= OPEN_WORD) core.leaveOpenWord(this); // the open word's store alone
        else if (f > 0) core.unpin(this, f);
        else core.unpin(this);
    }

    /**
     * A nested guard: this object one level deeper, as {@link Core#enter} opens one on a guard already open, without
     * the lookup of the thread's guard.
     */
    @Override
    public Guard nest() {
        checkInGuard();
        deeper();
        return this;
    }

    @Override
    public String toString() {
        return "ThreadGuard[" + (threadRef == null ? "owned" : threadRef.name()) + ", depth " + depth() + "]";
    }

    private static final VarHandle OPEN;
    private static final VarHandle BAG;

    static {
        try {
            OPEN = java.lang.invoke.MethodHandles.lookup().findVarHandle(ThreadGuard.class, "open", long.class);
            BAG = java.lang.invoke.MethodHandles.lookup().findVarHandle(ThreadGuard.class, "bag", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
