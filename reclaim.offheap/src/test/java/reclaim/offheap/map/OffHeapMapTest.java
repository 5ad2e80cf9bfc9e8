package reclaim.offheap.map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.NativeMemory;
import reclaim.offheap.NativeStats;

/** The off-heap map's contract, alone and under concurrency, for every scheme. */
@Timeout(120)
class OffHeapMapTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    private static OffHeapMap<String, String> strings(Reclaimer r, boolean checked) {
        return OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8()).checked(checked).segments(4)
                .initialBuckets(2).build();
    }

    /** Allocated blocks all freed, live bytes 0: checked once the reclaimer is closed. */
    private static void assertAllFreed(NativeStats s) {
        assertEquals(s.allocatedBlocks(), s.freedBlocks(), "blocks allocated vs freed: " + s);
        assertEquals(0, s.liveBytes(), "live bytes after close: " + s);
        assertEquals(0, s.useAfterFree(), "use-after-free detected: " + s);
    }

    /**
     * Once its reclaimer has closed, the map's guarded reads throw the reclaimer's IllegalStateException, its writes
     * still work and free what they unlink at once (checked memory would catch a use after free), and close() frees
     * everything.
     */
    @ParameterizedTest
    @MethodSource("schemes")
    void afterTheReclaimerClosedReadsThrowAndWritesFreeAtOnce(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        OffHeapMap<String, String> map = strings(r, true);
        map.put("a", "1");
        map.put("b", "2");
        r.close();
        assertThrows(IllegalStateException.class, () -> map.get("a"));
        assertThrows(IllegalStateException.class, () -> map.read("a", v -> v.byteSize()));
        assertThrows(IllegalStateException.class, () -> map.containsKey("a"));
        long freedBefore = map.nativeStats().freedBlocks();
        assertEquals("1", map.put("a", "3"), "a write still works and returns the old value");
        assertTrue(map.nativeStats().freedBlocks() > freedBefore, "the replaced entry was freed at once");
        assertEquals("2", map.remove("b"));
        assertEquals(1, map.size());
        map.close();
        assertAllFreed(map.nativeStats());
    }

    /** Random single-threaded operations against a HashMap: every result agrees; keys and values 0..3000 bytes. */
    @ParameterizedTest
    @MethodSource("schemes")
    void agreesWithAHashMap(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        OffHeapMap<byte[], byte[]> map = OffHeapMap.builder(r, Serializer.bytes(), Serializer.bytes())
                .capacityBytes(1L << 30).segments(2).initialBuckets(2).checked(true).build();
        Map<ByteBuffer, byte[]> oracle = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(7);
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < 300; i++) keys.add(bytes(rnd, rnd.nextInt(0, i % 10 == 0 ? 3000 : 40)));
        for (int op = 0; op < 20_000; op++) {
            byte[] k = keys.get(rnd.nextInt(keys.size()));
            ByteBuffer bk = ByteBuffer.wrap(k);
            byte[] v = bytes(rnd, rnd.nextInt(0, op % 50 == 0 ? 3000 : 64));
            switch (rnd.nextInt(8)) {
                case 0 -> assertSame(oracle.put(bk, v), map.put(k, v));
                case 1 -> assertSame(oracle.putIfAbsent(bk, v), map.putIfAbsent(k, v));
                case 2 -> assertSame(oracle.remove(bk), map.remove(k));
                case 3 -> assertSame(oracle.replace(bk, v), map.replace(k, v));
                case 4 -> {
                    byte[] cur = oracle.get(bk);
                    byte[] expected = cur != null && rnd.nextBoolean() ? cur.clone() : v;
                    boolean o = cur != null && java.util.Arrays.equals(cur, expected);
                    if (o) oracle.put(bk, v);
                    assertEquals(o, map.replace(k, expected, v));
                }
                case 5 -> {
                    byte[] cur = oracle.get(bk);
                    byte[] expected = cur != null && rnd.nextBoolean() ? cur.clone() : v;
                    boolean o = cur != null && java.util.Arrays.equals(cur, expected);
                    if (o) oracle.remove(bk);
                    assertEquals(o, map.remove(k, expected));
                }
                case 6 -> assertEquals(oracle.containsKey(bk), map.containsKey(k));
                default -> assertSame(oracle.get(bk), map.get(k));
            }
            if (op % 1000 == 0) assertEquals(oracle.size(), map.size());
        }
        assertEquals(oracle.size(), map.size());
        int seen = 0;
        for (Map.Entry<byte[], byte[]> e : map.entrySet()) {
            assertArrayEquals(oracle.get(ByteBuffer.wrap(e.getKey())), e.getValue());
            seen++;
        }
        assertEquals(oracle.size(), seen);
        assertEquals(0, map.evictions());
        map.close();
        r.close();
        assertAllFreed(map.nativeStats());
    }

    private static void assertSame(byte[] expected, byte[] actual) {
        assertArrayEquals(expected, actual);
    }

    private static byte[] bytes(SplittableRandom rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    /** The ConcurrentMap defaults built on the primitives (compute, merge, getOrDefault) and the views work. */
    @Test
    void defaultMethodsAndViews() {
        try (Reclaimer r = Reclaimer.create("ebr"); OffHeapMap<String, String> map = strings(r, true)) {
            assertNull(map.put("a", "1"));
            assertEquals("1", map.put("a", "2"));
            assertEquals("2x", map.compute("a", (k, v) -> v + "x"));
            assertEquals("y", map.computeIfAbsent("b", k -> "y"));
            assertEquals("y", map.computeIfAbsent("b", k -> "z"));
            assertEquals("y+1", map.merge("b", "1", (a, b) -> a + "+" + b));
            assertEquals("dflt", map.getOrDefault("none", "dflt"));
            assertNull(map.computeIfPresent("a", (k, v) -> null));
            assertFalse(map.containsKey("a"));
            map.set("c", "3");
            assertEquals("3", map.get("c"));
            assertEquals(2, map.size());
            assertEquals(Map.of("b", "y+1", "c", "3"), new HashMap<>(map));
            Iterator<Map.Entry<String, String>> it = map.entrySet().iterator();
            it.next();
            it.remove();
            assertThrows(IllegalStateException.class, it::remove);
            assertEquals(1, map.size());
            assertEquals(Integer.valueOf(1), map.read(map.keySet().iterator().next(), s -> (int) s.byteSize()));
            map.clear();
            assertTrue(map.isEmpty());
            assertNull(map.read("c", s -> s));
        }
    }

    /** A segment starting with 2 buckets grows to hold 20,000 entries, every one still found. */
    @Test
    void resizesAndFindsEverything() {
        try (Reclaimer r = Reclaimer.create("hp")) {
            OffHeapMap<Long, Long> map = OffHeapMap.builder(r, Serializer.int64(), Serializer.int64()).segments(1)
                    .initialBuckets(2).capacityBytes(1L << 30).build();
            for (long i = 0; i < 20_000; i++) assertNull(map.put(i, i * 3));
            for (long i = 0; i < 20_000; i++) assertEquals(i * 3, map.get(i));
            assertEquals(20_000, map.size());
            map.close();
            r.flush();
            assertAllFreed(map.nativeStats());
        }
    }

    /** Capacity in bytes: the map evicts the oldest unread entries first and never holds more than the bound. */
    @Test
    void evictsWithinCapacityGivingReadEntriesASecondChance() {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            int entry = OffHeapMap.HEADER + 8 + 100;
            OffHeapMap<Long, byte[]> map = OffHeapMap.builder(r, Serializer.int64(), Serializer.bytes()).segments(1)
                    .capacityBytes(100L * entry).build();
            for (long i = 0; i < 100; i++) map.put(i, new byte[100]);
            assertEquals(0, map.evictions());
            assertEquals(100L * entry, map.usedBytes());
            assertTrue(map.get(0L) != null); // read: a second chance
            for (long i = 100; i < 150; i++) map.put(i, new byte[100]);
            assertEquals(50, map.evictions());
            assertTrue(map.usedBytes() <= map.capacityBytes());
            assertTrue(map.containsKey(0L), "a read entry got a second chance");
            assertFalse(map.containsKey(1L), "the oldest unread entry went first");
            for (long i = 100; i < 150; i++) assertTrue(map.containsKey(i), "new entry " + i);
            map.close();
            r.flush();
            assertAllFreed(map.nativeStats());
        }
    }

    /** Bad input gets a clear exception and loses nothing. */
    @Test
    void badInputIsRefusedClearlyAndLosesNothing() {
        try (Reclaimer r = Reclaimer.create("crystalline")) {
            OffHeapMap<String, byte[]> map = OffHeapMap.builder(r, Serializer.utf8(), Serializer.bytes()).segments(2)
                    .capacityBytes(4096).build();
            map.put("k", new byte[10]);
            assertThrows(NullPointerException.class, () -> map.put(null, new byte[1]));
            assertThrows(NullPointerException.class, () -> map.put("k", null));
            assertThrows(NullPointerException.class, () -> map.get(null));
            IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> map.put("k", new byte[5000]));
            assertTrue(big.getMessage().contains("exceeds a segment's capacity"), big.getMessage());
            assertEquals(10, map.get("k").length, "the old value survives a refused write");
            assertEquals(1, map.size());
            Serializer<String> negative = new Serializer<>() {
                @Override
                public int size(String value) {
                    return -5;
                }

                @Override
                public void write(String value, java.lang.foreign.MemorySegment target) {}

                @Override
                public String read(java.lang.foreign.MemorySegment source) {
                    return "";
                }
            };
            OffHeapMap<String, String> bad = OffHeapMap.builder(r, Serializer.utf8(), negative).segments(2).build();
            IllegalArgumentException neg = assertThrows(IllegalArgumentException.class, () -> bad.put("k", "v"));
            assertTrue(neg.getMessage().contains("negative size, -5"), neg.getMessage());
            assertTrue(bad.isEmpty());
            bad.close();
            assertThrows(IllegalArgumentException.class,
                    () -> OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8()).segments(3));
            assertThrows(IllegalArgumentException.class,
                    () -> OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8()).capacityBytes(-1));
            assertThrows(IllegalArgumentException.class,
                    () -> OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8()).segments(16).capacityBytes(1000).build());
            try (Reclaimer other = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.create(other)) {
                assertThrows(IllegalArgumentException.class,
                        () -> OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8()).memory(m));
            }
            map.close();
            map.close(); // idempotent
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> map.get("k"));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            assertThrows(IllegalStateException.class, () -> map.put("k", new byte[1]));
            assertThrows(IllegalStateException.class, map::clear);
            r.flush();
            assertAllFreed(map.nativeStats());
        }
    }

    /**
     * Two writers and two readers under checked mode: values always belong to their key, no use-after-free,
     * resizes and evictions under way, and every byte back after close.
     */
    @ParameterizedTest
    @MethodSource("schemes")
    void concurrentReadersAndWritersUnderCheckedMode(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        OffHeapMap<Long, byte[]> map = OffHeapMap.builder(r, Serializer.int64(), Serializer.bytes()).segments(4)
                .initialBuckets(2).capacityBytes(4 * 24 * 1024).checked(true).build();
        int writers = 2;
        int readers = 2;
        int ops = 40_000;
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong bad = new AtomicLong();
        AtomicLong hits = new AtomicLong();
        int minHitsEach = 200;
        // writers go on past ops until every reader has found minHitsEach values (readers may be scheduled late)
        CountDownLatch readersServed = new CountDownLatch(readers);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CyclicBarrier start = new CyclicBarrier(writers + readers);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int id = w;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    SplittableRandom rnd = new SplittableRandom(id);
                    for (int i = 0; i < ops || readersServed.getCount() > 0; i++) {
                        long k = rnd.nextLong(2_000);
                        switch (rnd.nextInt(4)) {
                            case 0 -> map.remove(k);
                            case 1 -> map.putIfAbsent(k, value(k, rnd.nextInt(1, 300)));
                            default -> map.put(k, value(k, rnd.nextInt(1, 300)));
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        for (int q = 0; q < readers; q++) {
            int id = q;
            threads.add(Thread.ofPlatform().start(() -> {
                int mine = 0;
                try {
                    start.await();
                    SplittableRandom rnd = new SplittableRandom(100 + id);
                    while (!done.get()) {
                        long k = rnd.nextLong(2_000);
                        Boolean ok = map.read(k, s -> {
                            long n = s.byteSize();
                            if (n < 8) return false;
                            for (long i = 0; i + 8 <= n; i += 8) {
                                if (s.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != k) return false;
                            }
                            return true;
                        });
                        if (ok != null) {
                            hits.incrementAndGet();
                            if (++mine == minHitsEach) readersServed.countDown();
                            if (!ok) bad.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                } finally {
                    if (mine < minHitsEach) readersServed.countDown(); // failed early: do not hold the writers
                }
            }));
        }
        for (int i = 0; i < writers; i++) threads.get(i).join(TimeUnit.SECONDS.toMillis(100));
        done.set(true);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(100));
            assertFalse(t.isAlive());
        }
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " thread(s) failed: " + errors.peek());
            errors.forEach(e::addSuppressed);
            throw e;
        }
        assertEquals(0, bad.get(), "a reader saw bytes that were not its key's value");
        assertTrue(hits.get() >= (long) readers * minHitsEach, "readers found too little: " + hits.get());
        assertTrue(map.usedBytes() <= map.capacityBytes());
        map.close();
        r.close();
        assertAllFreed(map.nativeStats());
    }

    /** A value of whole 8-byte words, each the key: a reader can tell a value that belongs to another key. */
    private static byte[] value(long key, int words) {
        ByteBuffer b = ByteBuffer.allocate(words * 8).order(java.nio.ByteOrder.nativeOrder());
        for (int i = 0; i < words; i++) b.putLong(key);
        return b.array();
    }

    /** Conditional writes are atomic: concurrent merges of +1 lose no increment; one putIfAbsent wins. */
    @ParameterizedTest
    @MethodSource("schemes")
    void conditionalWritesAreAtomic(String scheme) throws Exception {
        try (Reclaimer r = Reclaimer.create(scheme)) {
            OffHeapMap<String, Long> map = OffHeapMap.builder(r, Serializer.utf8(), Serializer.int64()).segments(2)
                    .build();
            int threads = 4;
            int each = 2_000;
            AtomicInteger winners = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long id = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        if (map.putIfAbsent("once", id) == null) winners.incrementAndGet();
                        for (int i = 0; i < each; i++) map.merge("count", 1L, Long::sum);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            go.countDown();
            for (Thread t : ts) t.join();
            assertEquals(1, winners.get());
            assertEquals((long) threads * each, map.get("count"));
            map.close();
        }
    }

    /** An entry replaced while a guard is open is freed only after the guard closes (EBR: the guard holds all). */
    @Test
    void aReplacedEntryIsFreedOnlyAfterTheGuardsThatMayHoldItClose() throws Exception {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            OffHeapMap<String, String> map = strings(r, true);
            map.put("k", "old");
            long freedBefore;
            try (Guard g = r.enter()) {
                assertEquals("old", map.get("k")); // a nested guard: the outer one keeps what it read alive
                freedBefore = map.nativeStats().freedBlocks();
                Thread w = Thread.ofPlatform().start(() -> {
                    map.put("k", "new");
                    r.flush();
                });
                w.join();
                assertEquals("new", map.get("k"));
                assertEquals(freedBefore, map.nativeStats().freedBlocks(), "freed while a guard was open");
                assertTrue(g.slots() >= 3);
            }
            r.flush();
            assertEquals(freedBefore + 1, map.nativeStats().freedBlocks(), "the old entry, once the guard closed");
            map.close();
            r.flush();
            assertAllFreed(map.nativeStats());
        }
    }

    /** A map closed after its reclaimer frees everything at once (no guard can be open any more). */
    @Test
    void closingAfterTheReclaimerFreesEverything() {
        Reclaimer r = Reclaimer.create("hp");
        OffHeapMap<Long, Long> map = OffHeapMap.builder(r, Serializer.int64(), Serializer.int64()).segments(2)
                .initialBuckets(2).build();
        for (long i = 0; i < 1_000; i++) map.put(i, i);
        r.close();
        map.close();
        assertAllFreed(map.nativeStats());
        assertThrows(IllegalStateException.class, () -> map.get(1L));
    }
}
