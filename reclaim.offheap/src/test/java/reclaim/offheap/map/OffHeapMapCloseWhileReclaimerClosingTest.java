package reclaim.offheap.map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.NativeMemory;
import reclaim.offheap.NativeStats;

/**
 * OffHeapMap.close() while a refused {@code close()} leaves the reclaimer closing: "Retires every entry and table
 * and refuses later use (idempotent). The bytes return to the allocator once the reclaimer reclaims them". The
 * map's unlink path frees at once only once the reclaimer {@code isClosed()}; while it is closing, the first retire
 * is refused, after the segment was marked dead and emptied: what it held is neither retired nor freed, ever.
 */
@Timeout(60)
class OffHeapMapCloseWhileReclaimerClosingTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aMapClosedWhileItsReclaimerIsClosingReturnsEveryBlockOnceTheReclaimerHasClosed(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        NativeMemory memory = NativeMemory.builder(r).build();
        OffHeapMap<Long, String> map = OffHeapMap.builder(r, Serializer.int64(), Serializer.utf8())
                .capacityBytes(1 << 16).segments(2).initialBuckets(4).memory(memory).build();
        for (long k = 0; k < 20; k++) map.put(k, "v" + k);
        try (Guard g = r.enter()) {
            assertThrows(IllegalStateException.class, r::close, "close() with this thread's guard open: " + g);
        }
        assertFalse(r.isClosed(), "the refused close left the reclaimer closing");
        Throwable first = null;
        try {
            map.close();
        } catch (IllegalStateException refused) {
            first = refused; // the reclaimer refuses to retire while closing: reporting it is fine
        }
        r.close(); // completes: no guard open
        assertTrue(r.isClosed());
        map.close(); // again, now that the reclaimer has closed (idempotent)
        NativeStats s = memory.stats();
        memory.close();
        assertEquals(0, s.liveBlocks(), scheme + ": blocks of the map never freed (the first close() threw "
                + first + "): " + s);
    }
}
