package reclaim.offheap.map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;
import reclaim.offheap.NativeStats;

/** A resize of the off-heap map: a malloc failure in the middle of it, and the eviction a resizing put runs. */
@Timeout(60)
class OffHeapMapResizeTest {

    /**
     * A reclaimer that delegates everything and can make the n-th later {@code era()} call throw: NativeMemory
     * reads the era just before each malloc, so this is exactly a malloc that fails at that allocation.
     */
    static final class FailingEra implements Reclaimer {
        final Reclaimer inner;
        final AtomicInteger countdown = new AtomicInteger(-1);

        FailingEra(Reclaimer inner) {
            this.inner = inner;
        }

        /** Lets {@code ok} more era() calls through, then throws once. */
        void failAfter(int ok) {
            countdown.set(ok);
        }

        @Override public Scheme scheme() { return inner.scheme(); }
        @Override public Guard enter() { return inner.enter(); }
        @Override public <T> void retire(T object, Consumer<? super T> action) { inner.retire(object, action); }
        @Override public void flush() { inner.flush(); }
        @Override public Stats stats() { return inner.stats(); }
        @Override public long pendingBound() { return inner.pendingBound(); }
        @Override public Registration register() { return inner.register(); }
        @Override public boolean isClosed() { return inner.isClosed(); }
        @Override public void close() { inner.close(); }

        @Override
        public long era() {
            if (countdown.get() >= 0 && countdown.getAndDecrement() == 0) {
                throw new OutOfMemoryError("injected: the C library returned NULL");
            }
            return inner.era();
        }
    }

    private static byte[] key(int i) {
        return new byte[] {(byte) i, (byte) (i >>> 8), 1, 2, 3, 4, 5, 6};
    }

    /**
     * malloc fails in the middle of a resize's copy (the put that triggered it has already linked its entry).
     * The failure must leave the old table current with its eviction list whole: were the list to hold only
     * the copies made so far, the next resize would copy from it and every entry not copied the first time
     * would vanish, and the new table and the copies would leak.
     */
    @Test
    void mallocFailureDuringResizeLosesNothing() {
        try (Reclaimer hp = Reclaimer.create("hp")) {
            FailingEra r = new FailingEra(hp);
            OffHeapMap<byte[], byte[]> map = OffHeapMap.builder(r, Serializer.bytes(), Serializer.bytes())
                    .segments(1).initialBuckets(4).capacityBytes(1 << 20).checked(true).build();
            for (int i = 1; i <= 3; i++) map.put(key(i), key(i));
            // the 4th insert passes 3/4 of 4 buckets: its entry, the new table, one copy succeed; the 2nd copy fails
            r.failAfter(3);
            try {
                map.put(key(4), key(4));
            } catch (OutOfMemoryError expected) {
                // the resize failed; the map must stay whole
            }
            for (int i = 5; i <= 40; i++) map.put(key(i), key(i));
            for (int i = 1; i <= 40; i++) {
                assertNotNull(map.get(key(i)), "key " + i + " lost after a failed resize");
            }
            assertEquals(40, map.size());
            map.close();
            hp.flush();
            NativeStats s = map.nativeStats();
            assertEquals(s.allocatedBlocks(), s.freedBlocks(), "blocks leaked by the failed resize: " + s);
            assertEquals(0, s.useAfterFree(), s.toString());
        }
    }

    /**
     * A put that both triggers a resize and passes the budget: the eviction must keep the entry just put, that
     * is its copy in the new table, not the original (frozen and retired by the resize); otherwise, once the
     * recently read entries had their second chance, the entry would be evicted by its own put.
     */
    @Test
    void putThatResizesKeepsItsOwnEntry() {
        try (Reclaimer r = Reclaimer.create("hp")) {
            // 8-byte keys and values: 64 bytes an entry; 48 fit, the 49th passes the budget and 3/4 of 64 buckets
            OffHeapMap<byte[], byte[]> map = OffHeapMap.builder(r, Serializer.bytes(), Serializer.bytes())
                    .segments(1).initialBuckets(64).capacityBytes(48 * 64 + 32).checked(true).build();
            for (int i = 1; i <= 48; i++) map.put(key(i), key(i));
            assertEquals(48 * 64, map.usedBytes());
            for (int i = 1; i <= 48; i++) assertNotNull(map.get(key(i))); // every entry recently read
            map.put(key(49), key(49));
            assertNotNull(map.get(key(49)), "the entry just put was evicted by its own put");
            map.close();
        }
    }
}
