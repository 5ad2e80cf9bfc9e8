package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/** Single-thread semantics, errors, close, the tag wrap, and the deterministic no-reuse-under-a-reader test. */
class SlotMemoryTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void storeReadPeekFree(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 4, 40)) {
            assertEquals(4, m.capacity());
            assertEquals(40, m.payloadSize());
            assertEquals(56, m.slotStride());
            byte[] p = Fixtures.payload(42, 40);
            long h = m.store(7, p);
            assertNotEquals(SlotMemory.NO_HANDLE, h);
            assertEquals(1, SlotMemory.generation(h) & 1, "live generations are odd");
            assertEquals(3, m.available());
            assertTrue(m.isLive(h));
            assertEquals(new SlotHeader(h, 40, 7), m.header(h));
            try (SlotRead rd = m.read(h)) {
                assertEquals(h, rd.handle());
                assertEquals(40, rd.length());
                assertEquals(7, rd.kind());
                assertEquals(42L, rd.getLong(0));
                assertEquals(42L, rd.getLong(32));
                assertEquals(Fixtures.fill(42, 9), rd.getByte(9));
                assertEquals(MemorySegment.ofArray(p).get(ValueLayout.JAVA_INT_UNALIGNED, 11), rd.getInt(11));
                assertArrayEquals(p, rd.toArray());
                assertTrue(rd.validate());
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment dst = a.allocate(8);
                    rd.copyTo(32, dst, 0, 8);
                    assertEquals(42L, dst.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                }
                assertThrows(IndexOutOfBoundsException.class, () -> rd.getLong(33));
                assertThrows(IndexOutOfBoundsException.class, () -> rd.getByte(-1));
                assertThrows(IndexOutOfBoundsException.class, () -> rd.copyTo(new byte[39]));
            }
            assertArrayEquals(p, m.copy(h));
            byte[] dst = new byte[64];
            assertEquals(40, m.copy(h, dst));
            // a MemorySegment source, shorter than the slot; kind 0 by default for byte[]
            long h2 = m.store(3, MemorySegment.ofArray(new byte[] {1, 2, 3}));
            assertEquals(new SlotHeader(h2, 3, 3), m.header(h2));
            long h3 = m.store(new byte[0]);
            assertEquals(new SlotHeader(h3, 0, 0), m.header(h3));
            m.free(h);
            m.free(h2);
            m.free(h3);
            assertFalse(m.isLive(h));
        }
        Fixtures.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#reclaiming")
    void staleHandlesAreRefusedAndNeverReadTheNextOccupant(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 1, 16)) {
            long h = m.store(Fixtures.payload(1, 16));
            m.free(h);
            java.util.List<java.util.function.LongConsumer> ops = java.util.List.of(
                    x -> m.read(x).close(), m::header, m::free, x -> m.write(x).close(), m::copy);
            for (java.util.function.LongConsumer f : ops) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.accept(h));
                assertTrue(Fixtures.isStale(e), e.getMessage());
                assertTrue(e.getMessage().contains("generation " + SlotMemory.generation(h)), e.getMessage());
            }
            long h2 = m.store(Fixtures.payload(2, 16)); // the only slot, reused (store flushes the reclaimer)
            assertEquals(SlotMemory.index(h), SlotMemory.index(h2));
            assertEquals(SlotMemory.generation(h) + 2, SlotMemory.generation(h2));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.read(h));
            assertTrue(e.getMessage().contains("reused"), e.getMessage());
            assertFalse(m.isLive(h));
            assertTrue(m.isLive(h2));
            assertArrayEquals(Fixtures.payload(2, 16), m.copy(h2));
            m.free(h2);
        }
        Fixtures.closeAndCheck(r);
    }

    /**
     * A handle shaped like a real one (slot in range, odd generation) whose generation the slot has not reached was
     * never returned by a store: every use of it is an IllegalArgumentException, not a stale handle's
     * IllegalStateException, and replace refuses it before storing (not as a full manager).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aHandleOfAGenerationTheSlotHasNotReachedWasNeverValid(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 1, 8)) {
            long h = m.store(new byte[] {42}); // the only slot, generation 1: the manager is full
            int index = SlotMemory.index(h);
            for (int generation : new int[] {3, 0x7FFF_FFFF, 0xFFFF_FFFF}) {
                long ahead = ((long) generation << 32) | index;
                String what = "generation " + Integer.toUnsignedString(generation);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.copy(ahead), what);
                assertTrue(e.getMessage().contains("has not reached"), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> m.read(ahead), what);
                assertThrows(IllegalArgumentException.class, () -> m.header(ahead), what);
                assertThrows(IllegalArgumentException.class, () -> m.write(ahead), what);
                assertThrows(IllegalArgumentException.class, () -> m.tryWrite(ahead), what);
                assertThrows(IllegalArgumentException.class, () -> m.free(ahead), what);
                assertThrows(IllegalArgumentException.class, () -> m.replace(ahead, 0, new byte[] {1}), what);
                assertFalse(m.isLive(ahead), what);
            }
            assertArrayEquals(new byte[] {42}, m.copy(h), "the live message is untouched");
            m.free(h);
            IllegalStateException stale = assertThrows(IllegalStateException.class, () -> m.copy(h));
            assertTrue(stale.getMessage().contains("stale"), stale.getMessage());
            assertThrows(IllegalStateException.class, () -> m.replace(h, 0, new byte[] {1}), "a stale handle");
        }
        Fixtures.closeAndCheck(r);
    }

    @Test
    void badHandlesAndPayloads() {
        Reclaimer r = Reclaimer.create("ebr");
        try (SlotMemory m = SlotMemory.create(r, 2, 8)) {
            long h = m.store(new byte[8]);
            long outOfRange = (1L << 32) | 2;
            long evenGeneration = (2L << 32);
            for (long bad : new long[] {SlotMemory.NO_HANDLE, outOfRange, evenGeneration, -1L}) {
                assertThrows(IllegalArgumentException.class, () -> m.read(bad));
                assertThrows(IllegalArgumentException.class, () -> m.free(bad));
                assertThrows(IllegalArgumentException.class, () -> m.header(bad));
                assertThrows(IllegalArgumentException.class, () -> m.write(bad));
                assertFalse(m.isLive(bad));
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.store(new byte[9]));
            assertTrue(e.getMessage().contains("8"), e.getMessage());
            assertThrows(NullPointerException.class, () -> m.store((byte[]) null));
            assertThrows(IllegalArgumentException.class, () -> SlotMemory.create(r, 0, 8));
            assertThrows(IllegalArgumentException.class, () -> SlotMemory.create(r, Integer.MAX_VALUE, 0));
            assertThrows(IllegalArgumentException.class, () -> SlotMemory.create(r, 1, -1));
            assertThrows(NullPointerException.class, () -> SlotMemory.create(null, 1, 1));
            m.free(h);
        }
        Fixtures.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void exhaustionIsAClearResultAndRecovers(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 8, 16)) {
            long[] hs = new long[8];
            for (int i = 0; i < 8; i++) hs[i] = m.store(Fixtures.payload(i, 16));
            assertEquals(0, m.available());
            assertEquals(SlotMemory.NO_HANDLE, m.tryStore(0, new byte[1]));
            SlotsExhaustedException e = assertThrows(SlotsExhaustedException.class, () -> m.store(new byte[1]));
            assertEquals(8, e.capacity());
            assertTrue(e.getMessage().contains("8 slots"), e.getMessage());
            m.free(hs[3]);
            if (!scheme.equals("none")) { // none reclaims nothing before close: the slot stays pending
                long h = m.store(Fixtures.payload(99, 16)); // store flushes once before giving up
                assertEquals(SlotMemory.index(hs[3]), SlotMemory.index(h));
                hs[3] = h;
            } else {
                assertEquals(SlotMemory.NO_HANDLE, m.tryStore(0, new byte[1]));
                hs[3] = SlotMemory.NO_HANDLE;
            }
            for (long h : hs) if (h != SlotMemory.NO_HANDLE) m.free(h);
        }
        Fixtures.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void accessMisuseIsRefused(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 4, 16)) {
            long a = m.store(Fixtures.payload(1, 16));
            long b = m.store(Fixtures.payload(2, 16));
            SlotRead ra = m.read(a);
            // another thread may neither use nor close it
            AtomicReference<Throwable> seen = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    ra.getLong(0);
                } catch (Throwable x) {
                    seen.set(x);
                }
            });
            t.start();
            t.join();
            assertTrue(seen.get() instanceof IllegalStateException, String.valueOf(seen.get()));
            // freeing a slot this thread holds
            IllegalStateException held = assertThrows(IllegalStateException.class, () -> m.free(a));
            assertTrue(held.getMessage().contains("still holds"), held.getMessage());
            assertThrows(IllegalStateException.class, () -> m.replace(a, 0, new byte[1]));
            assertTrue(m.isLive(a), "a refused free frees nothing");
            // out-of-order close
            SlotRead rb = m.read(b);
            IllegalStateException order = assertThrows(IllegalStateException.class, ra::close);
            assertTrue(order.getMessage().contains("reverse order"), order.getMessage());
            rb.close();
            ra.close();
            // use and close after close
            assertThrows(IllegalStateException.class, () -> ra.getLong(0));
            assertThrows(IllegalStateException.class, ra::toArray);
            assertThrows(IllegalStateException.class, ra::validate);
            assertThrows(IllegalStateException.class, ra::close);
            assertFalse(ra.isOpen());
            m.free(a);
            m.free(b);
            assertThrows(IllegalStateException.class, () -> m.free(b), "double free");
        }
        Fixtures.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void inPlaceWritesAreExclusiveAndSeenByValidate(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 2, 32)) {
            long h = m.store(5, Fixtures.payload(1, 32));
            SlotRead before = m.read(h);
            try (SlotWrite w = m.write(h)) {
                assertNull(m.tryWrite(h), "one writer per slot");
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.write(h));
                assertTrue(e.getMessage().contains("being written"), e.getMessage());
                // a read opened during the write sees it in progress
                try (SlotRead during = m.read(h)) {
                    assertFalse(during.validate());
                }
                w.copyFrom(Fixtures.payload(2, 24));
                w.setKind(9);
                w.setInt(24, 0x01020304);
                assertEquals(24, w.length());
                assertEquals(2L, w.getLong(0));
                assertThrows(IndexOutOfBoundsException.class, () -> w.setLong(25, 1));
                assertThrows(IllegalArgumentException.class, () -> w.setLength(33));
                assertThrows(IllegalArgumentException.class, () -> w.copyFrom(new byte[33]));
                w.setLength(28);
            }
            // the reader opened before the write is told its reads may be torn (opened inside `before`)
            // (closing order: `before` was opened first, so the writer had to close first: it did)
            assertFalse(before.validate());
            before.close();
            assertEquals(new SlotHeader(h, 28, 9), m.header(h));
            try (SlotRead after = m.read(h)) {
                assertEquals(2L, after.getLong(0));
                assertEquals(0x01020304, after.getInt(24));
                assertTrue(after.validate());
            }
            try (SlotWrite w = m.tryWrite(h)) {
                assertTrue(w != null, "the slot is writable again");
            }
            m.free(h);
        }
        Fixtures.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#reclaiming")
    void replaceIsCopyOnWrite(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 2, 16)) {
            long h = m.store(Fixtures.payload(1, 16));
            long h2;
            try (SlotRead old = m.read(h)) {
                h2 = runOnOtherThread(() -> m.replace(h, 4, Fixtures.payload(2, 16)));
                assertNotEquals(SlotMemory.index(h), SlotMemory.index(h2));
                assertArrayEquals(Fixtures.payload(1, 16), old.toArray(), "the old reader sees the old message whole");
                assertTrue(old.validate());
            }
            assertFalse(m.isLive(h));
            assertEquals(new SlotHeader(h2, 16, 4), m.header(h2));
            assertArrayEquals(Fixtures.payload(2, 16), m.copy(h2));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.replace(h, 0, new byte[1]));
            assertTrue(Fixtures.isStale(e));
            r.flush();
            assertEquals(1, m.available(), "a refused replace keeps no new slot");
            m.free(h2);
        }
        Fixtures.closeAndCheck(r);
    }

    /** A slot freed while a reader on another thread holds it is not handed out until the reader closes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#reclaiming")
    void freedSlotIsNotReusedWhileAReaderHoldsIt(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 1, 32)) { // one slot: any reuse would be that one
            long h = m.store(Fixtures.payload(11, 32));
            CountDownLatch opened = new CountDownLatch(1);
            CountDownLatch freed = new CountDownLatch(1);
            CountDownLatch checked = new CountDownLatch(1);
            CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
                try (SlotRead rd = m.read(h)) {
                    opened.countDown();
                    await(freed);
                    String bad = Fixtures.mismatch(11, rd.toArray()); // after the free: still the same message
                    await(checked);
                    return bad == null ? Fixtures.mismatch(11, rd.toArray()) : bad;
                }
            }, THREADS);
            assertTrue(opened.await(10, TimeUnit.SECONDS));
            m.free(h);
            freed.countDown();
            r.flush();
            assertEquals(SlotMemory.NO_HANDLE, m.tryStore(0, new byte[1]), "reused under an open reader");
            assertEquals(0, m.available());
            assertThrows(SlotsExhaustedException.class, () -> m.store(new byte[1]));
            checked.countDown();
            assertNull(reader.get(10, TimeUnit.SECONDS));
            long h2 = m.store(Fixtures.payload(12, 32)); // reader closed: store's flush reclaims the slot
            assertEquals(SlotMemory.index(h), SlotMemory.index(h2));
            m.free(h2);
        }
        Fixtures.closeAndCheck(r);
    }

    /** The free-list tag wraps from 0xFFFFFFFF to 0 without harm. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#hpAndEpoch")
    void tagWrapsSafely(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = new SlotMemory(r, 4, 16, 0xFFFF_FFF0)) {
            assertEquals(0xFFFF_FFF0, m.tag());
            long[] live = new long[4];
            for (int round = 0; round < 64; round++) {
                for (int i = 0; i < 4; i++) live[i] = m.store(Fixtures.payload(round * 4L + i, 16));
                assertEquals(SlotMemory.NO_HANDLE, m.tryStore(0, new byte[1]));
                for (int i = 0; i < 4; i++) {
                    assertArrayEquals(Fixtures.payload(round * 4L + i, 16), m.copy(live[i]));
                    m.free(live[i]);
                }
                r.flush();
                assertEquals(4, m.available());
            }
            int tag = m.tag();
            assertTrue(Integer.compareUnsigned(tag, 0xFFFF_FFF0) < 0, "the tag wrapped: " + Integer.toHexString(tag));
            // every slot still distinct and reachable after the wrap
            java.util.Set<Integer> slots = new java.util.HashSet<>();
            for (int i = 0; i < 4; i++) slots.add(SlotMemory.index(live[i] = m.store(new byte[1])));
            assertEquals(4, slots.size());
            for (long h : live) m.free(h);
        }
        Fixtures.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void closeRefusesWhileAccessesAreOpenAndThenEverything(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        SlotMemory m = SlotMemory.create(r, 2, 16);
        long h = m.store(Fixtures.payload(1, 16));
        SlotRead rd = m.read(h);
        IllegalStateException e = assertThrows(IllegalStateException.class, m::close);
        assertTrue(e.getMessage().contains("still hold"), e.getMessage());
        assertFalse(m.isClosed());
        assertThrows(IllegalStateException.class, () -> m.read(h), "closing: new accesses refused");
        assertThrows(IllegalStateException.class, () -> m.store(new byte[1]));
        assertEquals(1L, rd.getLong(0), "the open access still works");
        rd.close();
        m.close();
        assertTrue(m.isClosed());
        m.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> m.read(h));
        assertThrows(IllegalStateException.class, () -> m.store(new byte[1]));
        assertThrows(IllegalStateException.class, () -> m.tryStore(0, new byte[1]));
        assertThrows(IllegalStateException.class, () -> m.free(h));
        assertThrows(IllegalStateException.class, () -> m.header(h));
        assertThrows(IllegalStateException.class, () -> m.isLive(h));
        assertThrows(IllegalStateException.class, () -> rd.getLong(0));
        Fixtures.closeAndCheck(r);
    }

    /** Reclaim actions still pending when the manager closes run later without touching the freed slab. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void actionsPendingAtCloseAreHarmless(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        SlotMemory m = SlotMemory.create(r, 4, 16);
        long h = m.store(Fixtures.payload(1, 16));
        CountDownLatch reserved = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // a plain guard of the reclaimer on another thread, reserving the slot's key: the ticket stays pending
        Thread t = new Thread(() -> {
            try (Guard g = r.enter()) {
                while (!g.reserve(SlotMemory.index(h) + 1L, 0)) Thread.onSpinWait();
                reserved.countDown();
                await(release);
            }
        });
        t.start();
        assertTrue(reserved.await(10, TimeUnit.SECONDS));
        m.free(h);
        r.flush();
        assertEquals(3, m.available(), "the ticket is pending behind the guard");
        m.close(); // no access of the manager is open: the slab goes now
        release.countDown();
        t.join();
        Fixtures.closeAndCheck(r); // runs the pending action after the slab was freed: no failure
        assertEquals(4, m.available(), "the action only pushed the slot on the (heap) free list");
    }

    @Test
    void availableMatchesLiveAtQuiescence() {
        Reclaimer r = Reclaimer.create("ebr");
        try (SlotMemory m = SlotMemory.create(r, 16, 8)) {
            java.util.ArrayDeque<Long> live = new java.util.ArrayDeque<>();
            java.util.Random rnd = new java.util.Random(1);
            for (int i = 0; i < 2000; i++) {
                if (live.size() < 16 && (live.isEmpty() || rnd.nextBoolean())) live.add(m.store(new byte[8]));
                else m.free(live.poll());
                if (i % 97 == 0) {
                    r.flush();
                    assertEquals(16 - live.size(), m.available());
                }
            }
            for (long h : live) m.free(h);
        }
        Fixtures.closeAndCheck(r);
    }

    /** Runs each task on a new daemon thread. */
    private static final java.util.concurrent.Executor THREADS = task -> {
        Thread t = new Thread(task);
        t.setDaemon(true);
        t.start();
    };

    private static void await(CountDownLatch l) {
        try {
            if (!l.await(10, TimeUnit.SECONDS)) throw new AssertionError("latch timed out");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static long runOnOtherThread(java.util.function.LongSupplier s) {
        try {
            return CompletableFuture.supplyAsync(s::getAsLong, THREADS).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
