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
 * {@link RecyclingListSet#gcTwin}): {@code enter} returns one shared stateless guard, {@code protect} is the
 * plain volatile load, and {@code retire} drops the object without running its action, so the node is left
 * to the GC and never recycled (the twins' pools have capacity 0 and allocate a node per insertion). This
 * is safe only because a twin's reclaim action does nothing but recycle: the GC frees a dropped node once no
 * thread refers to it, and no node is ever reused. It is not a {@link Reclaimer} for anything else, and it
 * is not exported: only the twins use it.
 */
final class GcBaseline implements Reclaimer {

    static final GcBaseline INSTANCE = new GcBaseline();

    private final Guard guard = new GcGuard();

    private GcBaseline() {
    }

    @Override
    public Scheme scheme() {
        return new Scheme.None(); // the closest sealed record; stats() says "gc"
    }

    @Override
    public Guard enter() {
        return guard;
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        Objects.requireNonNull(object, "object");
        Objects.requireNonNull(action, "action");
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
        return false;
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "GcBaseline";
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
