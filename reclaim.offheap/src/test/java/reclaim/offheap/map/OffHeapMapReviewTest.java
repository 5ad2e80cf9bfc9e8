package reclaim.offheap.map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;
import reclaim.offheap.NativeStats;

/** Review findings on the off-heap map: error paths and eviction around a resize. */
@Timeout(60)
class OffHeapMapReviewTest {

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
     * Before the fix, the segment's eviction list held only the copies made so far while the old table stayed
     * current: the next resize copied from that list, so every entry not copied the first time vanished, and
     * the new table and the copies leaked.
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
     * A put that both triggers a resize and passes the budget: the eviction must keep the entry just put.
     * Before the fix, eviction ran after the resize with the original (now frozen and retired) entry as the one
     * to keep, so the entry's copy had no protection and, once the recently read entries had their second
     * chance, was evicted by its own put.
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

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    /**
     * Lock-free readers against clear(), resizes, evictions, and finally close(), in checked mode (a freed entry
     * or table read by a reader throws UseAfterFreeException, and poison in a value is seen): no reader may touch
     * freed memory, a value always belongs to its key, and every block comes back.
     */
    @ParameterizedTest
    @MethodSource("schemes")
    void readersRaceClearResizeEvictAndClose(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        OffHeapMap<byte[], byte[]> map = OffHeapMap.builder(r, Serializer.bytes(), Serializer.bytes())
                .segments(2).initialBuckets(2).capacityBytes(2 * 8 * 1024).checked(true).build();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger reads = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> readers = new ArrayList<>();
        CountDownLatch reading = new CountDownLatch(3);
        for (int q = 0; q < 3; q++) {
            int id = q;
            readers.add(Thread.ofPlatform().start(() -> {
                int i = id;
                boolean first = true;
                try {
                    while (!stop.get()) {
                        i = (i * 31 + 7) & 511;
                        int k = i;
                        Boolean ok;
                        try {
                            ok = map.read(key(k), s -> {
                                for (long j = 0; j < s.byteSize(); j++) {
                                    if (s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, j) != key(k)[(int) (j & 7)]) {
                                        return false;
                                    }
                                }
                                return true;
                            });
                        } catch (IllegalStateException closed) {
                            if (!map.toString().isEmpty() && closed.getMessage().contains("closed")) return;
                            throw closed;
                        }
                        if (ok != null && !ok) throw new AssertionError("value of another key under " + k);
                        reads.incrementAndGet();
                        if (first) reading.countDown();
                        first = false;
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        // every reader is in its loop before the writes start (an unscheduled reader would race nothing)
        assertTrue(reading.await(60, TimeUnit.SECONDS), "readers did not start: " + errors);
        for (int round = 0; round < 60; round++) {
            for (int i = 0; i < 512; i++) {
                byte[] v = new byte[8 * (1 + (i % 5))];
                for (int j = 0; j < v.length; j++) v[j] = key(i)[j & 7];
                if ((i + round) % 7 == 0) map.remove(key(i));
                else map.put(key(i), v);
            }
            if (round % 3 == 0) map.clear();
        }
        map.close(); // readers still running: they must stop with "closed", never touch freed memory
        stop.set(true);
        for (Thread t : readers) t.join(30_000);
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " reader(s) failed: " + errors.peek());
            errors.forEach(e::addSuppressed);
            throw e;
        }
        assertTrue(reads.get() > 0);
        r.close();
        NativeStats s = map.nativeStats();
        assertEquals(0, s.useAfterFree(), s.toString());
        assertEquals(s.allocatedBlocks(), s.freedBlocks(), s.toString());
    }
}
