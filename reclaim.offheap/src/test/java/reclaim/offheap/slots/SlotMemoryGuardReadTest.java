package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/** The guard-scoped reads (getLong/getInt/copy under a caller's guard) and the reclaimer-based close. */
class SlotMemoryGuardReadTest {

    private static final int SIZE = 32;

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void readsValidatesAndRefuses(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Reclaimer other = Reclaimer.create(scheme);
        SlotMemory m = SlotMemory.create(r, 4, SIZE);
        long h = m.store(7, Fixtures.payload(0x1234, SIZE));
        byte[] dst = new byte[SIZE];
        try (Guard g = r.enter()) {
            assertEquals(0x1234L, m.getLong(g, h, 0));
            assertEquals(0x1234L, m.getLong(g, h, SIZE - 8));
            assertEquals(0x1234, m.getInt(g, h, 0)); // little- or big-endian: the stamp's low or high half
            assertEquals(SIZE, m.copy(g, h, dst));
            assertNull(Fixtures.mismatch(0x1234, dst));
            assertThrows(IndexOutOfBoundsException.class, () -> m.getLong(g, h, SIZE - 7));
            assertThrows(IndexOutOfBoundsException.class, () -> m.getInt(g, h, -1));
            assertThrows(IndexOutOfBoundsException.class, () -> m.copy(g, h, new byte[SIZE - 1]));
            assertThrows(IllegalArgumentException.class, () -> m.getLong(g, 0L, 0), "never a handle");
            try (Guard og = other.enter()) {
                assertThrows(IllegalArgumentException.class, () -> m.getLong(og, h, 0), "another reclaimer's guard");
            }
        }
        m.free(h);
        try (Guard g = r.enter()) {
            IllegalStateException stale = assertThrows(IllegalStateException.class, () -> m.getLong(g, h, 0));
            assertTrue(Fixtures.isStale(stale), stale.getMessage());
            assertThrows(IllegalStateException.class, () -> m.getInt(g, h, 0));
            assertThrows(IllegalStateException.class, () -> m.copy(g, h, dst));
        }
        long h2 = m.store(Fixtures.payload(5, SIZE));
        Guard closed = r.enter();
        closed.close();
        assertThrows(IllegalStateException.class, () -> m.getLong(closed, h2, 0), "a closed guard");
        m.close();
        try (Guard g = r.enter()) {
            assertThrows(IllegalStateException.class, () -> m.getLong(g, h2, 0), "closed manager");
        }
        Fixtures.closeAndCheck(r);
        other.close();
        assertTrue(m.isSlabFreed());
    }

    /** Guard-scoped reads retry while an in-place write is open (seqlock) and see the write once it closes. */
    @Test
    void readsRetryAcrossAnInPlaceWrite() throws Exception {
        Reclaimer r = Reclaimer.create("ebr");
        SlotMemory m = SlotMemory.create(r, 2, SIZE);
        long h = m.store(Fixtures.payload(1, SIZE));
        SlotWrite w = m.write(h);
        w.copyFrom(Fixtures.payload(2, SIZE));
        AtomicReference<byte[]> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            byte[] b = new byte[SIZE];
            try (Guard g = r.enter()) {
                m.copy(g, h, b); // spins until the write closes
            }
            seen.set(b);
        });
        t.start();
        t.join(200);
        assertTrue(t.isAlive(), "the reader waits out the open write");
        w.close();
        t.join(10_000);
        assertNull(Fixtures.mismatch(2, seen.get()));
        m.close();
        Fixtures.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#hpAndEpoch")
    void aSlotFreedUnderAGuardScopedReaderIsNotReusedUntilTheGuardCloses(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        SlotMemory m = SlotMemory.create(r, 2, SIZE);
        long h = m.store(Fixtures.payload(1, SIZE));
        CountDownLatch read = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong after = new AtomicLong();
        Thread t = new Thread(() -> {
            try (Guard g = r.enter()) {
                after.set(m.getLong(g, h, 0));
                read.countDown();
                await(release);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.getLong(g, h, 0));
                assertTrue(Fixtures.isStale(e), e.getMessage());
            }
        });
        t.start();
        assertTrue(read.await(10, TimeUnit.SECONDS));
        assertEquals(1L, after.get());
        m.free(h);
        for (int k = 0; k < 4; k++) r.flush();
        long other = m.store(Fixtures.payload(2, SIZE));
        assertNotEquals(SlotMemory.index(h), SlotMemory.index(other), "the held slot is not handed out");
        assertEquals(SlotMemory.NO_HANDLE, m.tryStore(0, new byte[1]), "the held slot stays pending");
        release.countDown();
        t.join(10_000);
        assertFalse(t.isAlive());
        long again = SlotMemory.NO_HANDLE;
        for (int k = 0; k < 100 && again == SlotMemory.NO_HANDLE; k++) {
            r.flush();
            again = m.tryStore(0, Fixtures.payload(3, SIZE));
        }
        assertEquals(SlotMemory.index(h), SlotMemory.index(again), "reused once the guard closed");
        m.close();
        Fixtures.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#reclaiming")
    void closeWhileAReaderHoldsAGuardFreesTheSlabOnlyAfterTheGuardCloses(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        SlotMemory m = SlotMemory.create(r, 8, SIZE);
        long h = m.store(Fixtures.payload(9, SIZE));
        CountDownLatch read = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        CountDownLatch refused = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (Guard g = r.enter()) {
                assertEquals(9L, m.getLong(g, h, 0));
                read.countDown();
                await(closed);
                assertThrows(IllegalStateException.class, () -> m.getLong(g, h, 0), "closed: refused");
                assertThrows(IllegalStateException.class, () -> m.copy(g, h, new byte[SIZE]));
                refused.countDown();
                await(release);
            } catch (Throwable e) {
                failure.set(e);
                refused.countDown();
            }
        });
        t.start();
        assertTrue(read.await(10, TimeUnit.SECONDS));
        m.close(); // guard-scoped readers are not accesses: the close completes
        assertTrue(m.isClosed());
        assertFalse(m.isSlabFreed(), "a guard that read before the close is open");
        closed.countDown();
        assertTrue(refused.await(10, TimeUnit.SECONDS));
        for (int k = 0; k < 8; k++) r.flush();
        assertFalse(m.isSlabFreed(), "still open: the slab stays");
        release.countDown();
        t.join(10_000);
        assertNull(failure.get());
        for (int k = 0; k < 1000 && !m.isSlabFreed(); k++) r.flush();
        assertTrue(m.isSlabFreed(), "freed once the guard closed");
        Fixtures.closeAndCheck(r);
    }

    /** A SlotRead open on another thread does not hold the close back; it keeps the slab until it closes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#reclaiming")
    void closeWithAReadOpenOnAnotherThreadDefersTheSlab(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        SlotMemory m = SlotMemory.create(r, 4, SIZE);
        long h = m.store(Fixtures.payload(4, SIZE));
        CountDownLatch opened = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (SlotRead rd = m.read(h)) {
                opened.countDown();
                await(closed);
                assertEquals(4L, rd.getLong(0), "the open read still works after the close");
                assertEquals(4L, rd.getLong(SIZE - 8));
                assertTrue(rd.validate());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        assertTrue(opened.await(10, TimeUnit.SECONDS));
        m.close();
        assertTrue(m.isClosed());
        assertThrows(IllegalStateException.class, () -> m.read(h), "new reads refused");
        for (int k = 0; k < 8; k++) r.flush();
        assertFalse(m.isSlabFreed(), "the open read holds the slab");
        closed.countDown();
        t.join(10_000);
        assertNull(failure.get());
        for (int k = 0; k < 1000 && !m.isSlabFreed(); k++) r.flush();
        assertTrue(m.isSlabFreed(), "freed once the read closed");
        Fixtures.closeAndCheck(r);
    }

    @Test
    void closeAfterTheReclaimerClosedFreesAtOnceAndNoneFreesAtTheReclaimersClose() {
        Reclaimer r = Reclaimer.create("ebr");
        SlotMemory m = SlotMemory.create(r, 4, SIZE);
        m.store(Fixtures.payload(1, SIZE));
        r.close();
        m.close();
        assertTrue(m.isSlabFreed());
        if (Reclaimer.availableSchemes().contains("none")) {
            Reclaimer none = Reclaimer.create("none");
            SlotMemory n = SlotMemory.create(none, 4, SIZE);
            n.close();
            assertTrue(n.isClosed());
            Fixtures.closeAndCheck(none);
            assertTrue(n.isSlabFreed());
        }
    }

    /** Readers scan under one guard (copy and getLong) while writers store, replace, write in place and free. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#reclaiming")
    void concurrentGuardScopedReadersAgainstWriters(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        int messages = 64;
        SlotMemory m = SlotMemory.create(r, 4 * messages, SIZE);
        AtomicLongArray handles = new AtomicLongArray(messages);
        AtomicLong stamps = new AtomicLong(1);
        for (int i = 0; i < messages; i++) handles.set(i, m.store(Fixtures.payload(stamps.getAndIncrement(), SIZE)));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        int readers = 2, minReadsEach = 2_000;
        CountDownLatch readersServed = new CountDownLatch(readers);
        List<Fixtures.Task> tasks = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            tasks.add(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
                // past the deadline, go on until every reader has read enough (it may not have been scheduled yet)
                while (System.nanoTime() < deadline || readersServed.getCount() > 0) {
                    int i = rnd.nextInt(messages);
                    long old = handles.get(i);
                    if (old == SlotMemory.NO_HANDLE) continue; // another writer is re-storing it
                    int op = rnd.nextInt(3);
                    try {
                        if (op == 0) { // copy-on-write replace
                            long h = m.tryStore(0, Fixtures.payload(stamps.getAndIncrement(), SIZE));
                            if (h == SlotMemory.NO_HANDLE) {
                                r.flush();
                                continue;
                            }
                            boolean won = handles.compareAndSet(i, old, h);
                            m.free(won ? old : h);
                        } else if (op == 1) { // in place
                            SlotWrite w0 = m.tryWrite(old);
                            if (w0 != null) {
                                try (SlotWrite wr = w0) {
                                    wr.copyFrom(Fixtures.payload(stamps.getAndIncrement(), SIZE));
                                }
                            }
                        } else { // free and store anew
                            if (handles.compareAndSet(i, old, SlotMemory.NO_HANDLE)) {
                                m.free(old);
                                long h = SlotMemory.NO_HANDLE;
                                while (h == SlotMemory.NO_HANDLE) {
                                    h = m.tryStore(0, Fixtures.payload(stamps.getAndIncrement(), SIZE));
                                    if (h == SlotMemory.NO_HANDLE) r.flush();
                                }
                                handles.set(i, h);
                            }
                        }
                    } catch (IllegalStateException e) {
                        if (!Fixtures.isStale(e)) throw e; // raced with another writer's free
                    }
                }
                stop.set(true);
            });
        }
        for (int rd = 0; rd < readers; rd++) {
            tasks.add(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                byte[] b = new byte[SIZE];
                int mine = 0;
                try {
                    while (!stop.get()) {
                        try (Guard g = r.enter()) {
                            for (int k = 0; k < 16; k++) {
                                long h = handles.get(rnd.nextInt(messages));
                                if (h == SlotMemory.NO_HANDLE) continue;
                                try {
                                    assertEquals(SIZE, m.copy(g, h, b));
                                    long stamp = m.getLong(g, h, 0); // per call consistent; may be a later write
                                    String bad = Fixtures.mismatch(
                                            java.lang.foreign.MemorySegment.ofArray(b).get(
                                                    java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0), b);
                                    assertNull(bad, bad);
                                    assertTrue(stamp > 0 && stamp < stamps.get(), "a stamp of this run: " + stamp);
                                    m.getInt(g, h, SIZE - 4);
                                    reads.incrementAndGet();
                                    if (++mine == minReadsEach) readersServed.countDown();
                                } catch (IllegalStateException e) {
                                    if (!Fixtures.isStale(e)) throw e;
                                }
                            }
                        }
                    }
                } finally {
                    if (mine < minReadsEach) readersServed.countDown(); // failed early: do not hold the writers
                }
            });
        }
        Fixtures.runConcurrently(Duration.ofSeconds(60), tasks);
        assertTrue(reads.get() >= (long) readers * minReadsEach, "reads: " + reads.get());
        m.close();
        Fixtures.closeAndCheck(r);
        assertTrue(m.isSlabFreed());
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) throw new AssertionError("timed out");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
