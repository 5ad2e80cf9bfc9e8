package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * replace() when its retire of the old slot is refused after the replace's own {@code isClosed()} check passed: the
 * old message is freed all the same, as free() describes, and the new one taken back, with no slot lost and no freed
 * handle coming back. Two interleavings that a real schedule allows, made deterministic by a reclaimer that runs a
 * step of another party just before it retires (as if that party's thread ran then):
 * <ul>
 *   <li>the reclaimer's close completes between replace's check and its free's retire (the guard that held a
 *       refused close back is closed and close() called again): the refusal finds the reclaimer closed, so the old
 *       slot goes back to the free list (no guard can hold it), and so does the new one;</li>
 *   <li>another thread looks at the old handle after the free's generation CAS, before the refusal: it is told the
 *       handle is stale, and it stays stale ("every later use of the old handle is refused").</li>
 * </ul>
 */
@Timeout(60)
class SlotMemoryReplaceRefusedWindowTest {

    /** Delegates; runs {@code beforeRetire} once, on the retiring thread, just before the next retire. */
    static final class StepBeforeRetire implements Reclaimer {
        final Reclaimer inner;
        final AtomicReference<Runnable> beforeRetire = new AtomicReference<>();

        StepBeforeRetire(Reclaimer inner) {
            this.inner = inner;
        }

        @Override public Scheme scheme() { return inner.scheme(); }
        @Override public Guard enter() { return inner.enter(); }
        @Override public void flush() { inner.flush(); }
        @Override public Stats stats() { return inner.stats(); }
        @Override public long pendingBound() { return inner.pendingBound(); }
        @Override public long era() { return inner.era(); }
        @Override public Registration register() { return inner.register(); }
        @Override public boolean isClosed() { return inner.isClosed(); }
        @Override public void close() { inner.close(); }

        @Override
        public <T> void retire(T object, Consumer<? super T> action) {
            Runnable step = beforeRetire.getAndSet(null);
            if (step != null) step.run();
            inner.retire(object, action);
        }
    }

    /** Runs {@code step} on a thread of its own and waits for it (another party's step, in order). */
    private static void onAnotherThread(Runnable step) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                step.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "other-party");
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        if (failure.get() != null) throw new AssertionError("the other party's step failed", failure.get());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aReplaceWhoseReclaimerFinishesClosingBeforeItsRetireFreesTheOldAndTakesTheNewBack(String scheme) {
        Reclaimer inner = Reclaimer.create(scheme);
        StepBeforeRetire r = new StepBeforeRetire(inner);
        try (SlotMemory m = SlotMemory.create(r, 3, 16)) {
            long live = m.store(1, Fixtures.payload(1, 16));
            int before = m.available();
            try (Guard g = inner.enter()) {
                assertThrows(IllegalStateException.class, inner::close, "close() with this thread's guard open: " + g);
            }
            assertFalse(inner.isClosed(), "the refused close left the reclaimer closing");
            // replace's isClosed() check has passed when the retire comes: the close completes just before it.
            r.beforeRetire.set(() -> onAnotherThread(inner::close));
            IllegalStateException refused =
                    assertThrows(IllegalStateException.class, () -> m.replace(live, 0, Fixtures.payload(2, 16)));
            assertTrue(inner.isClosed(), "the close completed during the replace");
            assertAll(
                    () -> assertFalse(m.isLive(live), scheme + ": replace threw (" + refused.getMessage()
                            + "): the old handle is freed, as free() is when its retire is refused"),
                    () -> assertEquals(before + 1, m.available(), scheme + ": both slots back on the free list"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aHandleSeenStaleDuringARefusedReplaceStaysStale(String scheme) {
        Reclaimer inner = Reclaimer.create(scheme);
        StepBeforeRetire r = new StepBeforeRetire(inner);
        try (SlotMemory m = SlotMemory.create(r, 3, 16)) {
            long live = m.store(1, Fixtures.payload(1, 16));
            try (Guard g = inner.enter()) {
                assertThrows(IllegalStateException.class, inner::close, "close() with this thread's guard open: " + g);
            }
            assertFalse(inner.isClosed(), "the refused close left the reclaimer closing");
            // Another thread looks at the old handle after the free's generation CAS, before its refused retire.
            AtomicBoolean seenLive = new AtomicBoolean(true);
            r.beforeRetire.set(() -> onAnotherThread(() -> seenLive.set(m.isLive(live))));
            assertThrows(IllegalStateException.class, () -> m.replace(live, 0, Fixtures.payload(2, 16)));
            boolean liveAfter = m.isLive(live);
            inner.close(); // completes: no guard open
            assertTrue(!liveAfter || seenLive.get(), scheme + ": another thread was told the old handle was stale"
                    + " (freed) during the replace, and afterwards the same handle is live again");
        }
    }
}
