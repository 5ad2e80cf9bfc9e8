package reclaim.offheap.map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Reclaimer;

/**
 * A reclaimer shared by the map and other retired objects: an action of another object that writes the map is not
 * refused when a write of the map is what runs it (a map's retire may run due actions on the retiring thread).
 */
class OffHeapMapReclaimActionWritesMapTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void anActionThatRemovesAKeyRunsWhileTheMapRetires(String scheme) {
        Queue<Throwable> thrown = new ConcurrentLinkedQueue<>();
        AtomicInteger removed = new AtomicInteger();
        try (Reclaimer r = Reclaimer.create(scheme);
                OffHeapMap<String, String> map = OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8())
                        .segments(1).initialBuckets(64).build()) {
            int n = 200;
            for (int i = 0; i < n; i++) map.put("victim" + i, "v");
            for (int i = 0; i < n; i++) {
                String victim = "victim" + i;
                r.retire(new Object(), o -> {
                    try {
                        if (map.remove(victim) != null) removed.incrementAndGet();
                    } catch (RuntimeException e) {
                        thrown.add(e);
                        throw e;
                    }
                });
            }
            for (int i = 0; i < 20_000; i++) map.put("k", "v" + i); // each replace retires the old entry
            long failed = r.stats().failed();
            int left = 0;
            for (int i = 0; i < n; i++) if (map.containsKey("victim" + i)) left++;
            int victimsLeft = left;
            assertAll(
                    () -> assertTrue(thrown.isEmpty(), "actions that wrote the map threw: " + thrown.peek()),
                    () -> assertEquals(0, failed, "failed actions"),
                    () -> assertEquals(n - removed.get(), victimsLeft, "victims left vs actions that removed one"));
        }
    }
}
