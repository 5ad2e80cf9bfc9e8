package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;
import reclaim.offheap.baseline.RwLockSlotMemory;

/**
 * {@link SlotMemory} against the same manager with a per-slot read-write lock, {@link RwLockSlotMemory}, on
 * the same random sequence of stores, reads, frees and stale uses: the same answers (contents, kinds,
 * refusals, exhaustion, free counts).
 */
class SlotMemoryDifferentialTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#reclaiming")
    void sameAnswersAsTheRwLockBaseline(String scheme) {
        int capacity = 8, size = 24;
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, capacity, size);
                RwLockSlotMemory oracle = new RwLockSlotMemory(capacity, size)) {
            long[] mine = new long[capacity + 2];
            long[] theirs = new long[capacity + 2];
            long[] stamps = new long[capacity + 2];
            long[] staleMine = new long[capacity + 2];
            long[] staleTheirs = new long[capacity + 2];
            SplittableRandom rnd = new SplittableRandom(7);
            for (int step = 0; step < 5_000; step++) {
                int k = rnd.nextInt(mine.length);
                switch (rnd.nextInt(4)) {
                    case 0 -> { // store into logical key k when free
                        if (mine[k] != 0) break;
                        long stamp = step * 1_000L + k;
                        int kind = rnd.nextInt(5);
                        long a = m.tryStore(kind, Fixtures.payload(stamp, size));
                        long b = oracle.tryStore(kind, Fixtures.payload(stamp, size));
                        assertEquals(b == SlotMemory.NO_HANDLE, a == SlotMemory.NO_HANDLE, "exhaustion agrees");
                        mine[k] = a;
                        theirs[k] = b;
                        stamps[k] = stamp;
                    }
                    case 1 -> { // read
                        if (mine[k] == 0) break;
                        byte[] a;
                        int kindA;
                        try (SlotRead x = m.read(mine[k])) {
                            a = x.toArray();
                            kindA = x.kind();
                        }
                        try (RwLockSlotMemory.Read y = oracle.read(theirs[k])) {
                            assertArrayEquals(y.toArray(), a);
                            assertEquals(y.kind(), kindA);
                        }
                        assertArrayEquals(Fixtures.payload(stamps[k], size), a);
                    }
                    case 2 -> { // free, then flush so that reuse is as immediate as the baseline's
                        if (mine[k] == 0) break;
                        m.free(mine[k]);
                        oracle.free(theirs[k]);
                        staleMine[k] = mine[k];
                        staleTheirs[k] = theirs[k];
                        mine[k] = theirs[k] = 0;
                        r.flush();
                        assertEquals(oracle.available(), m.available());
                    }
                    default -> { // a stale handle: both refuse
                        if (staleMine[k] == 0) break;
                        long sa = staleMine[k], sb = staleTheirs[k];
                        assertThrows(IllegalStateException.class, () -> m.read(sa).close());
                        assertThrows(IllegalStateException.class, () -> oracle.read(sb).close());
                        assertThrows(IllegalStateException.class, () -> m.free(sa));
                        assertThrows(IllegalStateException.class, () -> oracle.free(sb));
                    }
                }
            }
            for (int k = 0; k < mine.length; k++) {
                if (mine[k] != 0) {
                    m.free(mine[k]);
                    oracle.free(theirs[k]);
                }
            }
            r.flush();
            assertEquals(capacity, m.available());
            assertEquals(capacity, oracle.available());
        }
        Fixtures.closeAndCheck(r);
    }
}
