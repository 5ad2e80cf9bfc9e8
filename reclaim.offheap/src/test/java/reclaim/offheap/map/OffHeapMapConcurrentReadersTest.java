package reclaim.offheap.map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Reclaimer;
import reclaim.offheap.NativeStats;

/** Lock-free readers of the off-heap map racing its writers, clear(), resizes, evictions and close(). */
@Timeout(60)
class OffHeapMapConcurrentReadersTest {

    private static byte[] key(int i) {
        return new byte[] {(byte) i, (byte) (i >>> 8), 1, 2, 3, 4, 5, 6};
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
