package reclaim.impl.core;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A guard held open on a platform thread of its own until released: what a test needs to make {@code close()} refuse
 * (another thread's guard is open) while it looks at what an enter on its own thread does then.
 */
@SuppressWarnings("try")
public final class GuardHolder implements AutoCloseable {
    private final CountDownLatch open = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;

    private GuardHolder(Reclaimer r) {
        thread = Thread.ofPlatform().name("guard-holder").daemon(true).unstarted(() -> {
            try (Guard ignored = r.enter()) {
                open.countDown();
                DeferredSweepCloseTest.await(release);
            } catch (Throwable t) {
                failure.set(t);
                open.countDown();
            }
        });
    }

    /**
     * Opens a guard of {@code r} on a new thread and returns once it is open.
     *
     * @param r the reclaimer
     * @return the holder, whose {@link #close()} releases the guard
     */
    public static GuardHolder open(Reclaimer r) {
        GuardHolder h = new GuardHolder(r);
        h.thread.start();
        DeferredSweepCloseTest.await(h.open);
        if (h.failure.get() != null) throw new AssertionError("the holder could not open its guard", h.failure.get());
        return h;
    }

    /** Closes the guard, waits for its thread to end, and fails if the thread failed. */
    @Override
    public void close() {
        release.countDown();
        try {
            if (!thread.join(java.time.Duration.ofSeconds(60))) throw new AssertionError("the holder did not end");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        if (failure.get() != null) throw new AssertionError("the holder", failure.get());
    }
}
