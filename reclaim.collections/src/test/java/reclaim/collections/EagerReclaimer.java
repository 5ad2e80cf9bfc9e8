package reclaim.collections;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * A deliberately broken reclaimer for negative controls: {@code retire} runs the action at once, whatever
 * guards are open. A safety test that passes with it is not looking. Public for the Lincheck tests of
 * {@code reclaim.collections.lincheck}.
 */
public final class EagerReclaimer implements Reclaimer {
    private final AtomicLong retired = new AtomicLong();
    private final Guard guard = new EagerGuard();

    /** Creates a reclaimer that reclaims at once. */
    public EagerReclaimer() {
    }

    @Override
    public Scheme scheme() {
        return new Scheme.None();
    }

    @Override
    public Guard enter() {
        return guard;
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        retired.incrementAndGet();
        action.accept(object); // the bug: no wait for readers
    }

    @Override
    public void flush() {
    }

    @Override
    public Stats stats() {
        long n = retired.get();
        return new Stats("eager", n, n, 0, 0, 0);
    }

    @Override
    public long era() {
        return 1;
    }

    @Override
    public Registration register() {
        return () -> { };
    }

    @Override
    public boolean isClosed() {
        return false;
    }

    @Override
    public void close() {
    }

    private final class EagerGuard implements Guard {
        @Override
        public <T> T protect(AtomicReference<T> ref) {
            return ref.get();
        }

        @Override
        public <T> T protect(AtomicReference<T> ref, int slot) {
            return ref.get();
        }

        @Override
        public <T> T protect(VarHandle field, Object holder) {
            @SuppressWarnings("unchecked")
            T t = (T) field.getVolatile(holder);
            return t;
        }

        @Override
        public <T> T protect(VarHandle field, Object holder, int slot) {
            return protect(field, holder);
        }

        @Override
        public boolean reserve(long key, int slot) {
            return true;
        }

        @Override
        public <T> void retire(T object, Consumer<? super T> action) {
            EagerReclaimer.this.retire(object, action);
        }

        @Override
        public int slots() {
            return MIN_SLOTS;
        }

        @Override
        public Reclaimer reclaimer() {
            return EagerReclaimer.this;
        }

        @Override
        public void close() {
        }
    }
}
