package reclaim.impl.core;

import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * What {@code enter()} returns in checked mode ({@link reclaim.api.Options#checked()}): the thread's
 * {@link ThreadGuard}, seen through a view that remembers where the guard read what it protected, so that a retire
 * of an object still held by its source is refused. One view per thread guard, created on first use and reused by
 * every enter, like the guard itself; every field is plain, touched only by the owning thread.
 *
 * <h2>What it detects</h2>
 * Each {@code protect} of an {@link AtomicReference} or of a field ({@link VarHandle} and holder) that returns an
 * object is remembered with its source, the last {@link #REMEMBERED} of them, for as long as the outermost guard is
 * open. A retire inside the guard ({@link Guard#retire}, or {@link Reclaimer#retire} while the thread's guard is
 * open) looks the object up among them. It is refused, with {@link IllegalStateException} and before anything is
 * recorded (nothing is retired, the action never runs for that call), when
 * <ol>
 *   <li>this guard read it, and <em>every</em> source it read it from still holds it now (a volatile read of
 *       each), and</li>
 *   <li>no other object among those remembered is retired and not yet reclaimed.</li>
 * </ol>
 * A source does not say whether it is itself still reachable: it may be a field of a node that was unlinked,
 * whose links still point where they did. The two conditions keep such retires from being refused. "Every source":
 * an object read from a queue's head, which then moved on, and from the next field of the old head, which still
 * points to it, is unlinked. "No other object retired": a Harris list unlinks a node and its marker (the node's
 * next) by one CAS on the predecessor, retires the node and then the marker, which only the unlinked node's field
 * still holds; the node, retired first, stands for the source's owner. So what is refused is a retire of an object
 * still held where it was read, in a guard that has retired nothing it read: typically a CAS whose failure was
 * ignored, or an unlink that was forgotten.
 *
 * <h2>What it does not detect</h2>
 * An object this guard did not read with {@code protect} (or read more than {@link #REMEMBERED} protects ago); a
 * retire outside any guard; an object still reachable through some other path than the sources this guard read
 * it from; any retire after one of the objects it read was retired; a key read with {@code reserve}. It can refuse
 * a correct retire only when every source the guard read the object from is a field of a node that was unlinked
 * but is not retired yet (retire the node first, then what only it still points to).
 */
final class CheckedGuard implements Guard {
    /** How many protects of the outermost guard are remembered (a ring). */
    static final int REMEMBERED = 8;

    private final ThreadGuard inner;
    /** What this guard read, and where. */
    private final Sources sources = new Sources();

    private CheckedGuard(ThreadGuard inner) {
        this.inner = inner;
    }

    /**
     * Returns the checked view of {@code g}, created on first use (by its owning thread).
     *
     * @param g the calling thread's guard
     * @return the view
     */
    static CheckedGuard of(ThreadGuard g) {
        CheckedGuard c = g.checked;
        if (c == null) g.checked = c = new CheckedGuard(g);
        return c;
    }

    private void remember(Object source, VarHandle field, Object value) {
        sources.remember(source, field, value);
    }

    private void forget() {
        sources.forget();
    }

    /**
     * Refuses a retire of {@code object} if this guard read it, every source it read it from still holds it, and no
     * other object it read is retired and pending (see the class documentation).
     *
     * @param object the object about to be retired
     * @throws IllegalStateException if so
     */
    void checkUnlinked(Object object) {
        sources.checkUnlinked(object, inner.core.check);
    }

    /**
     * The last {@link #REMEMBERED} protects of one guard, with their sources, and the check a retire makes against
     * them (see the class documentation): the state of a {@link CheckedGuard}, and of a checked
     * {@link OwnedGuardImpl}. Plain fields: touched by one thread at a time (the thread guard's owner; the owned
     * guard's current user, inside its calls, which pass the guard from one thread to the next with a
     * happens-before edge).
     */
    static final class Sources {
        /** The source of each remembered protect: an AtomicReference, or a field's holder. */
        private final Object[] sources = new Object[REMEMBERED];
        /** The field of each remembered protect, or null for an AtomicReference. */
        private final VarHandle[] fields = new VarHandle[REMEMBERED];
        /** The value each remembered protect returned. */
        private final Object[] values = new Object[REMEMBERED];
        /** Where the next protect is remembered. */
        private int next;

        /** Remembers that a protect read {@code value} from {@code source} (and {@code field}, or null). */
        void remember(Object source, VarHandle field, Object value) {
            if (value == null) return;
            int i = next;
            sources[i] = source;
            fields[i] = field;
            values[i] = value;
            next = (i + 1) & (REMEMBERED - 1);
        }

        /** Forgets every source: the guard is closing or refreshed, so what it read is no longer held (nor pinned here). */
        void forget() {
            java.util.Arrays.fill(sources, null);
            java.util.Arrays.fill(fields, null);
            java.util.Arrays.fill(values, null);
            next = 0;
        }

        /**
         * Refuses a retire of {@code object} if the guard read it, every source it read it from still holds it, and
         * no other object it read is pending in {@code pending} (see the class documentation).
         *
         * @throws IllegalStateException if so
         */
        void checkUnlinked(Object object, RetireCheck pending) {
            int last = -1;
            for (int i = 0; i < REMEMBERED; i++) {
                if (values[i] != object) continue;
                if (current(i) != object) return; // one source moved on: it was unlinked there
                last = i;
            }
            if (last < 0) return;
            for (int i = 0; i < REMEMBERED; i++) {
                Object v = values[i];
                // Another object this guard read is retired already: the sources may be its fields, unlinked with it.
                if (v != null && v != object && pending.isPending(v)) return;
            }
            throw new IllegalStateException("retire of an object still linked (checked mode): "
                    + RetireCheck.describe(object) + " is still held by " + describeSource(last) + ", where this guard"
                    + " read it with protect(); unlink it (a CAS or a volatile write that replaces it) before retiring"
                    + " it. This retire is refused");
        }

        /** The current value of source {@code i}: a volatile read, after this thread's own unlink in program order. */
        private Object current(int i) {
            VarHandle f = fields[i];
            return f == null ? ((AtomicReference<?>) sources[i]).get() : (Object) f.getVolatile(sources[i]);
        }

        private String describeSource(int i) {
            Object s = sources[i];
            String id = s.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(s));
            return fields[i] == null ? "the AtomicReference " + id : "a field (" + fields[i] + ") of " + id;
        }
    }

    @Override
    public <T> T protect(AtomicReference<T> ref) {
        T v = inner.protect(ref);
        remember(ref, null, v);
        return v;
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        T v = inner.protect(ref, slot);
        remember(ref, null, v);
        return v;
    }

    @Override
    public <T> T protect(VarHandle field, Object holder) {
        T v = inner.protect(field, holder);
        remember(holder, field, v);
        return v;
    }

    @Override
    public <T> T protect(VarHandle field, Object holder, int slot) {
        T v = inner.protect(field, holder, slot);
        remember(holder, field, v);
        return v;
    }

    @Override
    public boolean reserve(long key, int slot) {
        return inner.reserve(key, slot);
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        Objects.requireNonNull(object, "object");
        Objects.requireNonNull(action, "action");
        inner.checkInGuard();
        checkUnlinked(object);
        inner.retire(object, action);
    }

    @Override
    public int slots() {
        return inner.slots();
    }

    @Override
    public Reclaimer reclaimer() {
        return inner.reclaimer();
    }

    /** The thread's checked guard, one level deeper (what {@code enter()} returns on this thread now). */
    @Override
    public Guard nest() {
        inner.nest();
        return this;
    }

    @Override
    public boolean refresh() {
        inner.checkInGuard();
        // As for the outermost close: what the guard read before is no longer held, but only if the refresh
        // happened (a nested guard, or a closing reclaimer, refreshes nothing and keeps what it read). Forgetting
        // after the refresh, not before, only keeps the check stricter while the refresh runs.
        boolean done = inner.refresh();
        if (done && inner.depth() == 1) forget();
        return done;
    }

    @Override
    public void close() {
        // Before the close: the outermost one may run reclaim actions, which may open guards of their own.
        if (inner.ownedByCaller() && inner.depth() == 1) forget();
        inner.close();
    }

    @Override
    public String toString() {
        return inner + " (checked)";
    }
}
