package reclaim.collections;

import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * The garbage collector as the "reclaimer" of the GC-allocating twins ({@link RecyclingHashMap#gcTwin},
 * {@link RecyclingListSet#gcTwin}, {@link RecyclingQueue#gcTwin}, {@link RecyclingStack#gcTwin}), one per twin:
 * {@code enter} returns one stateless guard, {@code protect} is the
 * plain volatile load, and {@code retire} drops the object without running its action, so the node is left
 * to the GC and never recycled (the twins' pools have capacity 0 and allocate a node per insertion). This
 * is safe only because a twin's reclaim action does nothing but recycle: the GC frees a dropped node once no
 * thread refers to it, and no node is ever reused. It is not a {@link Reclaimer} for anything else, and it
 * is not exported: only the twins use it.
 *
 * <p>Closing. {@link #close()} marks it closed, so that the twin's operations then throw
 * {@link IllegalStateException} as every collection's do once its reclaimer is closed; it has nothing to reclaim,
 * and it does not count guards, so it neither waits for open guards nor refuses while one is open. The flag is
 * read and written with volatile semantics: a close on one thread is seen by the next {@code enter} on any other.
 */
final class GcBaseline implements Reclaimer {

    private final Guard guard = new GcGuard();
    /** Set once by {@link #close()}; volatile (see the class comment). */
    private volatile boolean closed;

    GcBaseline() {
    }

    @Override
    public Scheme scheme() {
        return new Scheme.None(); // the closest sealed record; stats() says "gc"
    }

    @Override
    public Guard enter() {
        checkOpen();
        return guard;
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        Objects.requireNonNull(object, "object");
        Objects.requireNonNull(action, "action");
        checkOpen();
        // dropped: the GC frees it, the action (a recycler) never runs
    }

    @Override
    public void flush() {
    }

    @Override
    public Stats stats() {
        return new Stats("gc", 0, 0, 0, 0, 0);
    }

    @Override
    public long era() {
        return 1;
    }

    @Override
    public Registration register() {
        throw new UnsupportedOperationException("the GC baseline has no registration");
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the GC baseline of this twin is closed");
    }

    @Override
    public String toString() {
        return "GcBaseline[gc]";
    }

    /** The guard: every read is a plain volatile load, every retire a drop. */
    private final class GcGuard implements Guard {
        @Override
        public <T> T protect(AtomicReference<T> ref) {
            return ref.get();
        }

        @Override
        public <T> T protect(AtomicReference<T> ref, int slot) {
            return ref.get();
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T protect(VarHandle field, Object holder) {
            return (T) field.getVolatile(holder);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T protect(VarHandle field, Object holder, int slot) {
            return (T) field.getVolatile(holder);
        }

        @Override
        public boolean reserve(long key, int slot) {
            return true;
        }

        @Override
        public <T> void retire(T object, Consumer<? super T> action) {
        }

        @Override
        public int slots() {
            return MIN_SLOTS;
        }

        @Override
        public Reclaimer reclaimer() {
            return GcBaseline.this;
        }

        @Override
        public void close() {
        }
    }
}
