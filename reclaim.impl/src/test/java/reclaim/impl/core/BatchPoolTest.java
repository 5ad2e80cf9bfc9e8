package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The core's pool of batches: a batch comes back cleared (it pins nothing it held), is handed to one taker only,
 * the pool keeps at most its {@linkplain BatchPool#slots() slots} (the batches of {@link BatchPool#OBJECTS} objects, within
 * bounds); and under every scheme, with batches reused by seals, every
 * retired object's action runs exactly once and the pooled batches hold nothing (racing threads, flushes), and a
 * steady retiring thread stops allocating batches (under bursts the pool overflows by design: it is bounded).
 */
class BatchPoolTest {
    private static final Consumer<Object> NOTHING = o -> {};

    @Test
    void aGivenBatchIsClearedAndHandedOutOnce() {
        BatchPool pool = new BatchPool(4);
        Batch b = new Batch(4);
        b.add(new Object(), NOTHING);
        b.add(new Object(), NOTHING);
        b.sealedBy(ThreadRef.current());
        b.link(new Batch(4));
        pool.give(b);
        assertTrue(pool.keeps(b));
        assertTrue(pool.keptHoldNothing(), "a pooled batch still refers to what it held");
        assertEquals(0, b.size());
        assertNull(b.sealer());
        assertNull(b.next());
        assertSame(b, pool.take());
        assertFalse(pool.keeps(b));
        assertNotSame(b, pool.take(), "a batch was handed out twice");
        assertEquals(1, pool.created());
    }

    @Test
    void thePoolKeepsAtMostItsSlotsAndNoBatchOfAnotherSize() {
        BatchPool pool = new BatchPool(4);
        pool.give(new Batch(5));
        assertEquals(0, pool.kept());
        for (int i = 0; i < pool.slots() + 5; i++) pool.give(new Batch(4));
        assertEquals(pool.slots(), pool.kept());
        assertEquals(pool.slots(), BatchPool.slotsFor(4));
    }

    @Test
    void thePoolKeepsTheBatchesOfItsObjectsWithinBounds() {
        assertEquals(BatchPool.OBJECTS / 64, BatchPool.slotsFor(64));
        assertEquals(BatchPool.OBJECTS / 128, BatchPool.slotsFor(100)); // rounded down to a power of two: 512
        assertEquals(BatchPool.MAX_SLOTS, BatchPool.slotsFor(1));
        assertEquals(BatchPool.MIN_SLOTS, BatchPool.slotsFor(reclaim.api.Scheme.MAX_BATCH_SIZE));
        assertEquals(BatchPool.MIN_SLOTS, new BatchPool(reclaim.api.Scheme.MAX_BATCH_SIZE).slots());
    }

    @Test
    void anEmptyPoolAllocatesAndAFullOneDrops() {
        BatchPool pool = new BatchPool(4);
        List<Batch> taken = new ArrayList<>();
        for (int i = 0; i < pool.slots(); i++) taken.add(pool.take());
        assertEquals(pool.slots(), pool.created());
        for (Batch b : taken) pool.give(b);
        assertEquals(pool.slots(), pool.kept());
        Batch extra = new Batch(4);
        pool.give(extra);
        assertFalse(pool.keeps(extra), "a full pool kept a batch above its slots");
        for (int i = 0; i < pool.slots(); i++) assertTrue(taken.contains(pool.take()), "a take allocated while the pool kept batches");
        assertEquals(pool.slots(), pool.created());
        assertEquals(0, pool.kept());
        pool.take();
        assertEquals(pool.slots() + 1, pool.created());
    }

    /**
     * Racing takes and gives can leave the cursor above or below where the batches are; the next take and give still
     * find what the pool holds anywhere in its cells (a pool that probed only near the cursor allocated a batch while
     * it kept one, and dropped one while it had a free cell).
     */
    @Test
    void aTakeAndAGiveFindTheirCellWhereverTheCursorWasLeft() {
        BatchPool pool = new BatchPool(4);
        Batch kept = new Batch(4);
        pool.give(kept); // cell 0
        pool.cursorForTest(pool.slots() - 8); // far above it, as a racing give's late cursor store can leave it
        assertSame(kept, pool.take(), "the take allocated while the pool kept a batch");
        assertEquals(0, pool.created());

        for (int i = 0; i < pool.slots(); i++) pool.give(new Batch(4));
        assertEquals(pool.slots(), pool.kept());
        Batch taken = pool.take(); // frees the top cell
        pool.cursorForTest(0); // far below the free cell
        pool.give(taken);
        assertEquals(pool.slots(), pool.kept(), "the give dropped its batch while the pool had a free cell");
        assertTrue(pool.keeps(taken));
    }

    @Test
    void racingTakersNeverShareABatch() throws Exception {
        BatchPool pool = new BatchPool(2);
        int threads = 4;
        int rounds = 50_000;
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                Object mine = new Object();
                for (int i = 0; i < rounds && errors.isEmpty(); i++) {
                    Batch b = pool.take();
                    if (b.size() != 0) errors.add("a taken batch was not empty");
                    b.add(mine, NOTHING);
                    Thread.yield();
                    if (b.size() != 1 || b.object(0) != mine) errors.add("another taker wrote into our batch");
                    pool.give(b);
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) th.join();
        assertTrue(errors.isEmpty(), () -> errors.peek());
        assertTrue(pool.keptHoldNothing());
    }

    @ParameterizedTest
    @ValueSource(strings = {"qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w"})
    void recycledBatchesReclaimEveryObjectOnceAndPinNothing(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        Core core = ReclaimerHandle.coreOf(r);
        int threads = 3;
        int per = 30_000;
        AtomicIntegerArray runs = new AtomicIntegerArray(threads * per);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t * per;
            Thread th = new Thread(() -> {
                for (int i = 0; i < per; i++) {
                    int id = base + i;
                    try (Guard g = r.enter()) {
                        g.retire(id, x -> runs.incrementAndGet(x));
                    }
                    if (i % 5000 == 0) r.flush();
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) th.join();
        r.flush();
        assertTrue(core.pool().kept() > 0, "no batch came back to the pool");
        assertTrue(core.pool().keptHoldNothing(), "a pooled batch still refers to a reclaimed object");
        r.close();
        for (int i = 0; i < threads * per; i++) assertEquals(1, runs.get(i), "object " + i + " ran " + runs.get(i) + " times");
    }

    @ParameterizedTest
    @ValueSource(strings = {"qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w"})
    void aSteadyRetiringThreadStopsAllocatingBatches(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Core core = ReclaimerHandle.coreOf(r);
        int rounds = 200_000;
        for (int i = 0; i < rounds; i++) { // warm-up: the pending bags and the pool reach their steady size
            try (Guard g = r.enter()) {
                g.retire(new Object(), NOTHING);
            }
        }
        long before = core.pool().created();
        for (int i = 0; i < rounds; i++) {
            try (Guard g = r.enter()) {
                g.retire(new Object(), NOTHING);
            }
        }
        long after = core.pool().created();
        assertTrue(after - before <= rounds / core.batchSize() / 100,
                "a steady thread allocated " + (after - before) + " batches for " + rounds / core.batchSize() + " bags");
        r.close();
    }

    /**
     * A guard held open on another thread holds reclamation back, so that the objects a thread retires meanwhile wait
     * (a peak: 24,000 objects, 375 bags at the default size, as two threads on a queue under EBR reach); once it is
     * released and everything reclaimed, the batches of the peak are kept, and a second peak of the same size
     * allocates none (a pool of 256 batches dropped 119 of them and allocated them again at each peak).
     */
    @ParameterizedTest
    @ValueSource(strings = {"qsbr", "ebr", "hyaline"}) // schemes where a guard that protects nothing holds every retire
    @SuppressWarnings("try") // the holder's guard is open for the block; the block does not use it
    void theBatchesOfAPeakAreKeptForTheNextPeak(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Core core = ReclaimerHandle.coreOf(r);
        int peak = 24_000;
        long[] created = new long[2];
        for (int round = 0; round < 2; round++) {
            long before = core.pool().created();
            try (GuardHolder holder = GuardHolder.open(r)) {
                for (int i = 0; i < peak; i++) {
                    try (Guard g = r.enter()) {
                        g.retire(new Object(), NOTHING);
                    }
                }
                assertTrue(r.stats().pending() >= peak / 2, scheme + ": the open guard did not hold reclamation back: "
                        + r.stats().pending() + " pending");
            }
            r.flush();
            created[round] = core.pool().created() - before;
        }
        assertTrue(created[0] >= peak / 2 / core.batchSize(), scheme + ": the first peak allocated only " + created[0] + " batches");
        assertTrue(created[1] <= created[0] / 100, scheme + ": the second peak allocated " + created[1]
                + " batches again (the first " + created[0] + ")");
        r.close();
    }
}
