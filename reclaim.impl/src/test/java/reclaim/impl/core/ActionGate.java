package reclaim.impl.core;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A gate for reclaim actions in tests that hold a collection, a walk or a trickle at its first action: once armed, the
 * first action that passes it (on the armed thread, if one was named) waits there until the test releases it, so that
 * the test can act while that work holds what it took. Each wait is bounded (30 s), so a test that never releases
 * fails by its assertions rather than hanging.
 */
final class ActionGate {
    private final AtomicBoolean armed = new AtomicBoolean();
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    /** The thread whose action is held, or null for any; written before arming, read after the armed flag. */
    private volatile Thread only;

    /** Arms the gate for the next action on any thread. */
    void arm() {
        armed.set(true);
    }

    /**
     * Arms the gate for the next action that {@code t} runs.
     *
     * @param t the thread
     */
    void armFor(Thread t) {
        only = t;
        armed.set(true);
    }

    /** Called by every action of the test: holds the first one after arming until {@link #release()}. */
    void pass() {
        Thread o = only;
        if ((o == null || o == Thread.currentThread()) && armed.compareAndSet(true, false)) {
            held.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Waits until an action is held.
     *
     * @return false if none was within 30 s
     * @throws InterruptedException if interrupted
     */
    boolean awaitHeld() throws InterruptedException {
        return held.await(30, TimeUnit.SECONDS);
    }

    /** @return whether an action was held (or is) */
    boolean wasHeld() {
        return held.getCount() == 0;
    }

    /** Lets the held action go on. */
    void release() {
        release.countDown();
    }
}
