package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;

/**
 * The iterators' promise, while another thread keeps inserting and removing other keys: each traverses the
 * elements present at its creation and not removed since exactly once (never twice, never an element that was
 * never there), and returns the value the key was mapped to. Stable keys 0..S-1 are never removed; churn keys
 * (S and above, with hashes that collide with the stable ones, so they share their chains) come and go.
 */
class WeaklyConsistentIterationUnderChurnTest {

    private static final int STABLE = 64;
    private static final int ITERATIONS = 300;

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void mapIteratorReturnsEveryStableMappingOnce(String impl) throws Exception {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Object, Integer> m = Impls.map(impl, r, 16); // long chains
        for (int i = 0; i < STABLE; i++) m.put(key(i), i);
        churn(j -> m.put(key(STABLE + j % 256), -1), j -> m.remove(key(STABLE + (j + 128) % 256)), () -> {
            Set<Object> seen = new HashSet<>();
            for (Map.Entry<Object, Integer> e : m.entrySet()) {
                assertTrue(seen.add(e.getKey()), () -> "returned twice: " + e);
                int id = ((RecyclingHashMapTest.Colliding) e.getKey()).id();
                assertEquals(id < STABLE ? id : -1, e.getValue(), () -> "a value never mapped to its key: " + e);
            }
            for (int i = 0; i < STABLE; i++) assertTrue(seen.contains(key(i)), "stable key " + i + " missed");
        });
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void setIteratorReturnsEveryStableElementOnce(String impl) throws Exception {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingListSet<Object> s = Impls.set(impl, r);
        for (int i = 0; i < STABLE; i++) s.add(key(i));
        churn(j -> s.add(key(STABLE + j % 256)), j -> s.remove(key(STABLE + (j + 128) % 256)), () -> {
            Set<Object> seen = new HashSet<>();
            for (Iterator<Object> it = s.iterator(); it.hasNext(); ) {
                Object x = it.next();
                assertTrue(seen.add(x), () -> "returned twice: " + x);
            }
            for (int i = 0; i < STABLE; i++) assertTrue(seen.contains(key(i)), "stable element " + i + " missed");
        });
        Impls.closeAndCheck(r);
    }

    /**
     * The queue's iterator under a churn that offers 0, 1, 2, ... and polls as often: what it returns was offered in
     * that order, so it must be strictly increasing (FIFO, each element once). The GC twin's dequeued nodes link to
     * themselves, which the walk must step over rather than follow (a walk that followed one would not end).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void queueIteratorReturnsElementsInFifoOrderOnce(String impl) throws Exception {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingQueue<Integer> q = r == null ? RecyclingQueue.gcTwin() : new RecyclingQueue<>(r);
        int backlog = 16;
        for (int i = 0; i < backlog; i++) q.offer(i);
        churn(j -> q.offer(backlog + j), j -> q.poll(), () -> {
            int last = -1;
            for (Integer x : q) {
                int v = x;
                assertTrue(v > last, "returned " + v + " after " + last + ": not FIFO, or twice");
                last = v;
            }
        });
        Impls.closeAndCheck(r);
    }

    /** Keys in hash groups of 8: churn keys share their group, and their chain, with stable ones. */
    private static Object key(int id) {
        return new RecyclingHashMapTest.Colliding(id, id % 8);
    }

    interface Op {
        void run(int j);
    }

    private static void churn(Op add, Op remove, Runnable check) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Schemes.runConcurrently(Duration.ofSeconds(60), List.of(
                () -> {
                    for (int j = 0; !stop.get(); j++) {
                        add.run(j);
                        remove.run(j);
                    }
                },
                () -> {
                    try {
                        for (int i = 0; i < ITERATIONS; i++) check.run();
                    } finally {
                        stop.set(true);
                    }
                }));
    }
}
