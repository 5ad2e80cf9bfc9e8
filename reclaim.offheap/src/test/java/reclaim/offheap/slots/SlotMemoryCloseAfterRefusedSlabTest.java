package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.HookedReclaimer;

/**
 * SlotMemory.close(): "If the reclaimer is closing ... it refuses to take the slab: the manager is closed all the
 * same, the slab stays allocated ... a close() called again once the reclaimer has closed frees the slab." A
 * second close() that runs after the reclaimer closed, while the first close() is between the refusal and its
 * record of the refused slab, returns normally: the slab must then be freed (by one of the two calls), not left
 * for a third close() that nothing asks for.
 */
@Timeout(60)
class SlotMemoryCloseAfterRefusedSlabTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void aCloseThatReturnsAfterTheReclaimerClosedLeavesNoSlabAllocated(String scheme) throws Exception {
        HookedReclaimer r = new HookedReclaimer(Reclaimer.create(scheme));
        SlotMemory m = SlotMemory.create(r, 4, 8);
        CountDownLatch guardOpen = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().start(() -> {
            Guard g = r.inner.enter();
            try {
                guardOpen.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                g.close();
            }
        });
        guardOpen.await();
        AtomicReference<Throwable> refusedClose = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                r.inner.close();
            } catch (Throwable t) {
                refusedClose.set(t);
            }
        });
        closer.join();
        assertTrue(refusedClose.get() instanceof IllegalStateException, "the reclaimer's close was not refused");

        AtomicReference<Throwable> secondClose = new AtomicReference<>();
        // The first close's retire of a ticket is refused (closing); when it then asks isClosed() (false), the
        // reader leaves, the reclaimer closes, and another thread closes the manager again before the first
        // close records what was refused.
        r.beforeRetire.set(() -> r.afterIsClosed.set(() -> {
            release.countDown();
            try {
                reader.join();
                r.inner.close();
                Thread second = Thread.ofPlatform().start(() -> {
                    try {
                        m.close();
                    } catch (Throwable t) {
                        secondClose.set(t);
                    }
                });
                second.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }));
        try {
            m.close();
        } catch (IllegalStateException refusedSlab) {
            // the first close may report the refusal: it saw the reclaimer still closing
        }
        assertTrue(r.isClosed());
        assertNull(secondClose.get(), "the second close() threw");
        assertTrue(m.isSlabFreed(), "a close() returned normally after the reclaimer closed, and the slab is"
                + " still allocated");
        assertThrows(IllegalStateException.class, () -> m.store(new byte[] {1}));
    }
}
