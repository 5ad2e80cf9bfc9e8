package reclaim.offheap.map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.HookedReclaimer;
import reclaim.offheap.NativeMemory;
import reclaim.offheap.NativeStats;

/**
 * A write retires what it unlinked after it released the segment's lock; the map's {@code close()} on another
 * thread must not return before those retires are done. Otherwise, a reclaimer that starts closing (a refused
 * {@code close()}) after the map's close() returned normally refuses the writer's retire, and the block is kept
 * for a later close() of the map that nobody has a reason to call: it is never freed.
 */
@Timeout(60)
class OffHeapMapCloseRacingAWriterTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aBlockUnlinkedByAWriteThatPrecededCloseIsFreedOnceTheReclaimerHasClosed(String scheme) throws Exception {
        HookedReclaimer r = new HookedReclaimer(Reclaimer.create(scheme));
        NativeMemory memory = NativeMemory.builder(r).build();
        OffHeapMap<Long, String> map = OffHeapMap.builder(r, Serializer.int64(), Serializer.utf8())
                .capacityBytes(1 << 16).segments(1).initialBuckets(64).memory(memory).build();
        for (long k = 0; k < 4; k++) map.put(k, "v" + k);
        AtomicReference<Thread> closer = new AtomicReference<>();
        AtomicReference<Throwable> closeThrew = new AtomicReference<>();
        // The remove's retire, after the unlock, asks isClosed() (false); then, before it retires: another
        // thread closes the map, and the reclaimer starts closing (a close() refused for an open guard).
        r.afterIsClosed.set(() -> {
            Thread c = Thread.ofPlatform().start(() -> {
                try {
                    map.close();
                } catch (Throwable t) {
                    closeThrew.set(t);
                }
            });
            closer.set(c);
            // the map's close() either returns or waits for this thread's retire
            while (c.isAlive() && c.getState() != Thread.State.WAITING) Thread.onSpinWait();
            try (Guard g = r.enter()) {
                assertThrows(IllegalStateException.class, r::close, "close() with a guard open: " + g);
            }
        });
        assertEquals("v1", map.remove(1L));
        Thread c = closer.get();
        assertNotNull(c, "the remove's retire asked isClosed()");
        c.join();
        assertFalse(r.isClosed(), "the refused close left the reclaimer closing");
        r.close(); // completes: no guard open
        if (closeThrew.get() != null) map.close(); // the documented remedy when the map's close() threw
        NativeStats s = memory.stats();
        memory.close();
        assertEquals(0, s.liveBlocks(), scheme + ": blocks never freed (the map's close() "
                + (closeThrew.get() == null ? "returned normally" : "threw " + closeThrew.get()) + "): " + s);
    }
}
