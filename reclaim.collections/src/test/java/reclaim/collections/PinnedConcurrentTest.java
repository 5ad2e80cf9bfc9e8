package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;

/**
 * Concurrent use through guard-scoped views, batches of up to 16 operations per view, under every scheme:
 * the queue loses and duplicates nothing and keeps each producer's order; the map, with threads that own
 * disjoint keys and churn shared ones, answers every owner as its private model does. Nodes are recycled
 * throughout (small pools), so a view that let a node be reused under it would show as a wrong answer.
 */
class PinnedConcurrentTest {

    private static final int ELEMENTS = 100_000;
    private static final int MAP_OPS = 50_000;
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void queueThroughViewsLosesAndDuplicatesNothingAndKeepsFifo(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r, 64);
        int producers = 2;
        AtomicIntegerArray seen = new AtomicIntegerArray(ELEMENTS);
        AtomicInteger taken = new AtomicInteger();
        List<Schemes.ThrowingRunnable> tasks = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int id = p;
            tasks.add(() -> {
                int v = id;
                Random rnd = new Random(id);
                while (v < ELEMENTS) {
                    try (RecyclingQueue.Pinned<Integer> q = queue.pin()) {
                        for (int n = 1 + rnd.nextInt(16); n > 0 && v < ELEMENTS; n--, v += producers) q.offer(v);
                    }
                }
            });
        }
        for (int c = 0; c < 2; c++) {
            tasks.add(() -> {
                int[] last = new int[producers];
                Arrays.fill(last, -1);
                while (taken.get() < ELEMENTS) {
                    int got = 0;
                    try (RecyclingQueue.Pinned<Integer> q = queue.pin()) {
                        for (int n = 0; n < 16; n++) {
                            Integer v = q.poll();
                            if (v == null) break;
                            got++;
                            seen.incrementAndGet(v);
                            int p = v % producers;
                            if (v <= last[p]) throw new AssertionError("FIFO broken: took " + v + " after " + last[p]);
                            last[p] = v;
                        }
                    }
                    taken.addAndGet(got);
                    if (got == 0) Thread.yield(); // empty for now: let a producer run (2 cores, 4 threads)
                }
            });
        }
        Schemes.runConcurrently(LIMIT, tasks);
        for (int v = 0; v < ELEMENTS; v++) {
            if (seen.get(v) != 1) throw new AssertionError("element " + v + " taken " + seen.get(v) + " times");
        }
        assertNull(queue.poll());
        assertEquals(ELEMENTS, Schemes.closeAndCheck(r).retired(), "one retired dummy per poll");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void mapThroughViewsAnswersEachOwnerAsItsModelDoes(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r, 64, 32);
        int owners = 2;
        List<Schemes.ThrowingRunnable> tasks = new ArrayList<>();
        List<Map<Integer, Integer>> models = new ArrayList<>();
        for (int t = 0; t < owners; t++) {
            int id = t;
            Map<Integer, Integer> model = new HashMap<>();
            models.add(model);
            tasks.add(() -> { // keys id, id + owners, ...: this thread's alone, in buckets shared with the others
                Random rnd = new Random(100 + id);
                int done = 0;
                while (done < MAP_OPS) {
                    try (RecyclingHashMap.Pinned<Integer, Integer> m = map.pin()) {
                        for (int n = 1 + rnd.nextInt(16); n > 0; n--, done++) {
                            Integer k = id + owners * rnd.nextInt(32);
                            Integer v = rnd.nextInt(4);
                            Object expected, actual;
                            switch (rnd.nextInt(4)) {
                                case 0 -> { expected = model.put(k, v); actual = m.put(k, v); }
                                case 1 -> { expected = model.remove(k); actual = m.remove(k); }
                                case 2 -> { expected = model.replace(k, v, v + 1); actual = m.replace(k, v, v + 1); }
                                default -> { expected = model.get(k); actual = m.get(k); }
                            }
                            if (!java.util.Objects.equals(expected, actual)) {
                                throw new AssertionError("owner " + id + ", key " + k + ": expected " + expected + ", got " + actual);
                            }
                        }
                    }
                }
            });
        }
        tasks.add(() -> { // churn on keys nobody owns, per operation: retires and recycles nodes in the same buckets
            Random rnd = new Random(7);
            for (int i = 0; i < MAP_OPS; i++) {
                Integer k = -1 - rnd.nextInt(64);
                if ((i & 1) == 0) map.put(k, i);
                else map.remove(k);
            }
        });
        Schemes.runConcurrently(LIMIT, tasks);
        for (int t = 0; t < owners; t++) {
            for (Map.Entry<Integer, Integer> e : models.get(t).entrySet()) {
                assertEquals(e.getValue(), map.get(e.getKey()), "owner " + t + "'s key " + e.getKey() + " at the end");
            }
        }
        Schemes.closeAndCheck(r);
    }
}
