package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Stats;

/**
 * Exactly once: every retired object's action runs exactly once, by the time {@code close()} returns, also
 * when objects are retired from many threads and when actions retire further objects.
 */
interface ExactlyOnceConformance extends SchemeUnderTest {

    /**
     * Objects retired from many threads, inside and outside guards, are each reclaimed exactly once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void everyRetiredObjectIsReclaimedExactlyOnce() throws Exception {
        int threads = 4;
        int perThread = 20_000 * scaleFactor();
        AtomicIntegerArray runs = new AtomicIntegerArray(threads * perThread);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t * perThread;
            ts.add(start("retirer-" + t, () -> {
                start.await();
                for (int i = 0; i < perThread; i++) {
                    Integer id = base + i;
                    if ((i & 1) == 0) {
                        reclaimer().retire(id, runs::incrementAndGet);
                    } else {
                        try (Guard g = reclaimer().enter()) {
                            g.retire(id, runs::incrementAndGet);
                        }
                    }
                    if (i % 5000 == 0) reclaimer().flush();
                }
            }, errors));
        }
        join(ts);
        assertNoErrors(errors);
        reclaimer().close();
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "object " + i + " reclaimed " + runs.get(i) + " times");
        Stats s = reclaimer().stats();
        assertEquals(threads * (long) perThread, s.retired());
        assertEquals(s.retired(), s.reclaimed());
        assertEquals(0, s.pending());
        assertEquals(0, s.failed());
    }

    /** A reclaim action may retire further objects (freeing a tree): nothing is lost, also during close(). */
    @Test
    default void actionsThatRetireMoreLoseNothing() {
        AtomicInteger ran = new AtomicInteger();
        int depth = 300;
        reclaimer().retire(depth, chain(ran));
        reclaimer().close();
        assertEquals(depth + 1, ran.get());
        Stats s = reclaimer().stats();
        assertEquals(depth + 1, s.retired());
        assertEquals(s.retired(), s.reclaimed());
    }

    private Consumer<Integer> chain(AtomicInteger ran) {
        AtomicReference<Consumer<Integer>> self = new AtomicReference<>();
        self.set(n -> {
            ran.incrementAndGet();
            if (n > 0) reclaimer().retire(n - 1, self.get());
        });
        return self.get();
    }
}
