package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;

/**
 * A view's operation runs in a guard nested in whatever is open (under the schemes that protect per slot) or in the
 * view's own guard: whatever it throws, and however views nest, the thread's guards are as the caller left them once
 * the views close (synchronize(), refused inside a guard, then runs; close() completes and reclaims everything).
 */
class ViewOperationsLeaveTheGuardNestingAsTheyFoundItTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void operationsThatThrowInNestedViewsLeaveNoGuardOpen(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r, 4, 8);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        RecyclingListSet<Integer> set = new RecyclingListSet<>(r);
        try (RecyclingHashMap.Pinned<Integer, Integer> outer = map.pin()) {
            for (int i = 0; i < 20; i++) outer.put(i, i);
            assertThrows(NullPointerException.class, () -> outer.put(1, null));
            assertThrows(NullPointerException.class, () -> outer.get(null));
            assertThrows(NullPointerException.class, () -> outer.replace(1, 1, null));
            try (RecyclingQueue.Pinned<Integer> inner = queue.pin()) {
                assertThrows(NullPointerException.class, () -> inner.offer(null));
                for (int i = 0; i < 20; i++) inner.offer(i);
                try (RecyclingListSet.Pinned<Integer> innermost = set.pin()) {
                    assertThrows(NullPointerException.class, () -> innermost.add(null));
                    for (int i = 0; i < 20; i++) {
                        assertTrue(innermost.add(outer.remove(i)));
                        assertEquals(i, inner.poll());
                    }
                }
                assertThrows(IllegalStateException.class, () -> r.synchronize(Duration.ZERO), "inside the outer views");
            }
            assertEquals(0, map.size());
        }
        assertTrue(r.synchronize(Duration.ofSeconds(10)), "no guard of this thread is left open");
        assertEquals(20, set.size());
        Schemes.closeAndCheck(r);
    }
}
