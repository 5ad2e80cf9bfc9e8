package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;

/**
 * Concurrent stress under every reclaiming scheme: allocators store payloads that encode their own handle,
 * publish the handles, free them and store again (slots are reused constantly); readers open reads on
 * published handles, which may be stale by then, and check that a read either is refused as stale or sees
 * exactly the message of its handle, never another generation's. Each test is bounded by operation counts.
 */
class SlotMemoryConcurrentTest {
    private static final int PAYLOAD = 48;
    private static final int CAPACITY = 32;
    private static final int ALLOCATORS = 2, READERS = 2;
    private static final int ROUNDS = 20_000;
    /** Allocators keep churning past ROUNDS until every reader has completed this many reads. */
    private static final int MIN_READS_EACH = 500;

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#reclaiming")
    void readersNeverSeeAnotherGenerationAndAvailableStaysConsistent(String scheme) throws Exception {
        stress(scheme, 0, false);
    }

    /** The same churn with the free-list tag starting just below its wrap. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#hpAndEpoch")
    void churnAcrossTheTagWrap(String scheme) throws Exception {
        SlotMemory m = stress(scheme, 0xFFFF_FF00, false);
        assertTrue(Integer.compareUnsigned(m.tag(), 0xFFFF_FF00) < 0, "the tag wrapped: " + Integer.toHexString(m.tag()));
    }

    /** With in-place writers: a validated read is one whole version, and every version encodes the handle. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#hpAndEpoch")
    void inPlaceWritersAndValidatingReaders(String scheme) throws Exception {
        stress(scheme, 0, true);
    }

    private static SlotMemory stress(String scheme, int initialTag, boolean writers) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        SlotMemory m = new SlotMemory(r, CAPACITY, PAYLOAD, initialTag);
        // published handles; each allocator owns a region of CAPACITY / ALLOCATORS - 2 entries (so stores can
        // outpace reclamation a little without exhausting the manager for long)
        int region = CAPACITY / ALLOCATORS - 2;
        AtomicLongArray published = new AtomicLongArray(region * ALLOCATORS);
        // the run ends when every allocator is done; an allocator is done after ROUNDS and once every reader has
        // had MIN_READS_EACH successful reads (on a loaded machine the readers may not be scheduled before that)
        AtomicInteger allocating = new AtomicInteger(ALLOCATORS);
        CountDownLatch readersServed = new CountDownLatch(READERS);
        AtomicLong reads = new AtomicLong(), staleReads = new AtomicLong(), exhausted = new AtomicLong();
        List<Fixtures.Task> tasks = new ArrayList<>();
        for (int a = 0; a < ALLOCATORS; a++) {
            int from = a * region;
            tasks.add(() -> {
                SplittableRandom rnd = new SplittableRandom(from);
                try {
                    for (int i = 0; i < ROUNDS || readersServed.getCount() > 0; i++) {
                        int k = from + rnd.nextInt(region);
                        long old = published.getAndSet(k, SlotMemory.NO_HANDLE);
                        if (old != SlotMemory.NO_HANDLE) m.free(old);
                        // the payload encodes the handle, known only after the store: store a placeholder, then
                        // rewrite it in place before the handle is published
                        long h = m.tryStore(0, Fixtures.payload(0, PAYLOAD));
                        if (h == SlotMemory.NO_HANDLE) {
                            exhausted.incrementAndGet();
                            continue;
                        }
                        try (SlotWrite w = m.write(h)) { // not yet published: no other writer, no reader
                            w.copyFrom(Fixtures.payload(h, PAYLOAD));
                        }
                        published.set(k, h);
                    }
                } finally {
                    allocating.decrementAndGet();
                }
            });
        }
        if (writers) {
            tasks.add(() -> {
                SplittableRandom rnd = new SplittableRandom(99);
                while (allocating.get() > 0) {
                    long h = published.get(rnd.nextInt(published.length()));
                    if (h == SlotMemory.NO_HANDLE) continue;
                    try (SlotWrite w = m.tryWrite(h)) {
                        if (w == null) continue;
                        // rewrite the same message byte by byte: a torn read in between is caught by validate
                        byte[] p = Fixtures.payload(h, PAYLOAD);
                        for (int i = PAYLOAD - 1; i >= 0; i--) w.setByte(i, (byte) ~p[i]);
                        for (int i = 0; i < PAYLOAD; i++) w.setByte(i, p[i]);
                    } catch (IllegalStateException e) {
                        if (!Fixtures.isStale(e)) throw e;
                    }
                }
            });
        }
        for (int rd = 0; rd < READERS; rd++) {
            int seed = 1000 + rd;
            tasks.add(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                byte[] buf = new byte[PAYLOAD];
                int mine = 0;
                try {
                    while (allocating.get() > 0) {
                        long h = published.get(rnd.nextInt(published.length()));
                        if (h == SlotMemory.NO_HANDLE) continue;
                        try (SlotRead x = m.read(h)) {
                            assertEquals(PAYLOAD, x.length());
                            x.copyTo(buf);
                            String bad = Fixtures.mismatch(h, buf);
                            // a read that overlapped an in-place write may be torn: only a validated one must match
                            if (bad != null && x.validate()) {
                                throw new AssertionError("read of " + Long.toHexString(h) + " saw " + bad);
                            }
                            reads.incrementAndGet();
                            if (++mine == MIN_READS_EACH) readersServed.countDown();
                        } catch (IllegalStateException e) {
                            if (!Fixtures.isStale(e)) throw e;
                            staleReads.incrementAndGet();
                        }
                    }
                } finally {
                    if (mine < MIN_READS_EACH) readersServed.countDown(); // failed early: do not hold the allocators
                }
            });
        }
        Fixtures.runConcurrently(Duration.ofSeconds(60), tasks);
        assertTrue(reads.get() >= (long) READERS * MIN_READS_EACH, "every reader read " + MIN_READS_EACH + " times");
        // quiescence: available == capacity - live once the reclaimer has run every due action
        int live = 0;
        for (int k = 0; k < published.length(); k++) if (published.get(k) != SlotMemory.NO_HANDLE) live++;
        r.flush();
        assertEquals(CAPACITY - live, m.available(), () -> "available vs live at quiescence, " + r.stats());
        for (int k = 0; k < published.length(); k++) {
            long h = published.get(k);
            if (h != SlotMemory.NO_HANDLE) {
                String bad = Fixtures.mismatch(h, m.copy(h));
                assertEquals(null, bad);
                m.free(h);
            }
        }
        r.flush();
        assertEquals(CAPACITY, m.available());
        m.close();
        Fixtures.closeAndCheck(r);
        return m;
    }
}
