package reclaim.offheap;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * Tests' helper: a reclaimer that delegates everything to a built-in one and runs a one-shot hook at the start of
 * {@code retire} ({@link #beforeRetire}) or of {@code era} ({@link #onEra}), or at the end of {@code isClosed}, after its
 * answer was read ({@link #afterIsClosed}: the answer is then stale), to open a race window at a known
 * point of the code under test. {@link Reclaimer} is a public interface open to other implementations, so the
 * structures of this module must work with it as with the built-in one. A hook may throw: a retire hook that
 * throws {@link IllegalStateException} is a refusal, as a closing reclaimer's.
 */
public final class HookedReclaimer implements Reclaimer {
    /** The reclaimer everything is delegated to. */
    public final Reclaimer inner;
    /** Runs once, at the start of the next {@code retire}. */
    public final AtomicReference<Runnable> beforeRetire = new AtomicReference<>();
    /** Runs once, at the start of the next {@code era}. */
    public final AtomicReference<Runnable> onEra = new AtomicReference<>();
    /** Runs once, in the next {@code isClosed}, after the answer was read from the inner reclaimer. */
    public final AtomicReference<Runnable> afterIsClosed = new AtomicReference<>();

    /**
     * Wraps {@code inner}.
     *
     * @param inner the reclaimer to delegate to
     */
    public HookedReclaimer(Reclaimer inner) {
        this.inner = inner;
    }

    private static void fire(AtomicReference<Runnable> hook) {
        Runnable h = hook.getAndSet(null);
        if (h != null) h.run();
    }

    @Override
    public Scheme scheme() {
        return inner.scheme();
    }

    @Override
    public Guard enter() {
        return inner.enter();
    }

    @Override
    public OwnedGuard enterOwned() {
        return inner.enterOwned();
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        fire(beforeRetire);
        inner.retire(object, action);
    }

    @Override
    public void flush() {
        inner.flush();
    }

    @Override
    public void synchronize() {
        inner.synchronize();
    }

    @Override
    public boolean synchronize(Duration timeout) {
        return inner.synchronize(timeout);
    }

    @Override
    public Stats stats() {
        return inner.stats();
    }

    @Override
    public long pendingBound() {
        return inner.pendingBound();
    }

    @Override
    public long era() {
        fire(onEra);
        return inner.era();
    }

    @Override
    public Registration register() {
        return inner.register();
    }

    @Override
    public boolean isClosed() {
        boolean closed = inner.isClosed();
        fire(afterIsClosed);
        return closed;
    }

    @Override
    public List<String> pendingAtClose() {
        return inner.pendingAtClose();
    }

    @Override
    public void close() {
        inner.close();
    }
}
