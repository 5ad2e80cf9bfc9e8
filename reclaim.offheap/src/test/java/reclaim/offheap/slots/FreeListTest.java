package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The tagged Treiber free list on its own: order, counting, the tag, and pushes and pops from many threads. */
class FreeListTest {

    @Test
    void startsFullWithSlotZeroOnTopAndIsLastInFirstOut() {
        FreeList f = new FreeList(3, 0);
        assertEquals(3, f.available());
        assertEquals(0, f.pop());
        assertEquals(1, f.pop());
        f.push(0);
        assertEquals(0, f.pop(), "last in, first out");
        assertEquals(2, f.pop());
        assertEquals(FreeList.EMPTY, f.pop());
        assertEquals(0, f.available());
    }

    @Test
    void everySuccessfulPushAndPopAdvancesTheTagWhichWraps() {
        FreeList f = new FreeList(2, -2); // 0xFFFFFFFE
        assertEquals(-2, f.tag());
        int i = f.pop();
        assertEquals(-1, f.tag());
        f.push(i);
        assertEquals(0, f.tag(), "wrapped from 0xFFFFFFFF to 0");
        f.pop();
        f.pop();
        assertEquals(FreeList.EMPTY, f.pop());
        assertEquals(2, f.tag(), "a pop of an empty stack changes nothing");
    }

    @Test
    void concurrentPopsAndPushesLoseAndDuplicateNothing() throws InterruptedException {
        int capacity = 64;
        FreeList f = new FreeList(capacity, 0);
        int threads = 4;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            all.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                int[] held = new int[8];
                for (int round = 0; round < 20_000; round++) {
                    int n = 0;
                    while (n < held.length) {
                        int i = f.pop();
                        if (i == FreeList.EMPTY) break;
                        held[n++] = i;
                    }
                    for (int k = 0; k < n; k++) f.push(held[k]);
                }
            }));
        }
        start.countDown();
        for (Thread t : all) t.join();
        assertEquals(capacity, f.available());
        BitSet seen = new BitSet();
        for (int k = 0; k < capacity; k++) {
            int i = f.pop();
            assertTrue(i >= 0 && i < capacity && !seen.get(i), "slot " + i + " lost or duplicated");
            seen.set(i);
        }
        assertEquals(FreeList.EMPTY, f.pop());
    }
}
