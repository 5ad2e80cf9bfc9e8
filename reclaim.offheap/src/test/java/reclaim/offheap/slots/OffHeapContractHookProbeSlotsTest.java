package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Reclaimer;
import reclaim.offheap.HookedReclaimer;

/**
 * Outside-in probes of {@link SlotMemory}'s close and replace when the reclaimer refuses or closes in the middle of
 * the call, the window opened by a {@link HookedReclaimer} (a delegating reclaimer whose {@code retire} runs a hook
 * first). Whether the slab was freed is read through the package's test hook {@code isSlabFreed()}: a client sees
 * only that {@code close()} returned.
 *
 * <p>What these probes found, kept as the test of its fix:
 * {@link #aCloseThatTheReclaimerRefusesIsReportedAndALaterCloseFreesTheSlab} &mdash; {@code close()} while the
 * reclaimer refused retires (closing: guards still open) returned normally, marked the manager closed, and the slab
 * was never freed, not even by a {@code close()} called again once the reclaimer had closed.
 */
class OffHeapContractHookProbeSlotsTest {

    /**
     * SlotMemory.close(): "Frees the slab and closes the manager; idempotent", "the slab is freed through the
     * reclaimer once no guard can still read it, at once if the reclaimer's close has completed". Its siblings report
     * a refused retire and free what they kept once the reclaimer has closed ({@code free}: "@throws
     * IllegalStateException ... if the reclaimer refused the retire"; OffHeapMap.close: "a close() called again
     * once the reclaimer has closed frees them"). A close refused by a closing reclaimer must be reported, or leave
     * a later close() to free the slab. The same happens with a built-in reclaimer whose {@code close()} was refused
     * because another thread holds a guard (it then refuses retires until a later close completes); the hook makes
     * the refusal immediate. The window is SlotMemory's own, the same under every scheme.
     */
    @Test
    void aCloseThatTheReclaimerRefusesIsReportedAndALaterCloseFreesTheSlab() {
        String scheme = "ebr";
        HookedReclaimer r = new HookedReclaimer(Reclaimer.create(scheme));
        SlotMemory m = SlotMemory.create(r, 4, 8);
        long h = m.store(new byte[] {1});
        m.free(h);
        r.beforeRetire.set(() -> {
            throw new IllegalStateException("the reclaimer is closing (guards are still open)"); // what close() refuses with
        });
        IllegalStateException reported = null;
        try {
            m.close();
        } catch (IllegalStateException e) {
            reported = e;
        }
        r.close(); // the reclaimer's close completes: no guard can be open any more
        try {
            m.close(); // as OffHeapMap asks: called again once the reclaimer has closed
        } catch (IllegalStateException stillRefused) {
            // reported below through the slab's state
        }
        assertTrue(m.isSlabFreed(), scheme + ": the first close() " + (reported == null ? "returned normally"
                : "threw " + reported) + ", and the slab was never freed, not even by close() after the reclaimer"
                + " closed");
    }

    /**
     * SlotMemory.replace: "if its close begins during the call, the old message is freed all the same, as free
     * describes (its handle stale; its slot back on the free list if the close had completed ...), and the new one
     * is taken back", with IllegalStateException. The hook completes the reclaimer's close inside the replace's
     * retire of the old slot.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aReplaceDuringWhichTheReclaimerClosesFreesTheOldMessageAndTakesBackTheNew(String scheme) {
        HookedReclaimer r = new HookedReclaimer(Reclaimer.create(scheme));
        try (SlotMemory m = SlotMemory.create(r, 3, 16)) {
            long old = m.store(1, new byte[] {1, 2});
            r.beforeRetire.set(r.inner::close);
            assertThrows(IllegalStateException.class, () -> m.replace(old, 2, new byte[] {3}));
            assertTrue(r.isClosed());
            assertFalse(m.isLive(old), "the old message is freed all the same");
            assertEquals(3, m.available(), "both slots back: the old one (the close completed), the new one taken back");
            long again = m.store(new byte[] {4});
            assertTrue(m.isLive(again));
            m.free(again); // refused by the closed reclaimer, but the slot comes back at once
        } catch (IllegalStateException closedReclaimer) {
            // the last free: "the slot is back on the free list at once when the reclaimer's close has completed"
        }
    }

    /**
     * SlotMemory.close(): "called ... while ... an operation ({@code store}, {@code free}, ...) is in progress on any
     * thread, it throws IllegalStateException and refuses new ones, and a later close() completes". The hook runs
     * the close on another thread in the middle of a store (after it took a slot, before it publishes it).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aCloseDuringAStoreIsRefusedAndALaterCloseCompletes(String scheme) throws Exception {
        HookedReclaimer r = new HookedReclaimer(Reclaimer.create(scheme));
        SlotMemory m = SlotMemory.create(r, 2, 8);
        AtomicReference<Throwable> closeOutcome = new AtomicReference<>();
        r.onEra.set(() -> {
            Thread t = new Thread(() -> {
                try {
                    m.close();
                } catch (Throwable x) {
                    closeOutcome.set(x);
                }
            });
            t.start();
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        long h = m.store(new byte[] {5});
        assertTrue(h != SlotMemory.NO_HANDLE);
        assertInstanceOf(IllegalStateException.class, closeOutcome.get(), "refused: a store was in progress");
        assertFalse(m.isClosed());
        assertThrows(IllegalStateException.class, () -> m.store(new byte[] {6}), "new operations are refused");
        m.close();
        assertTrue(m.isClosed());
        Fixtures.closeAndCheck(r.inner);
    }
}
