package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The Harris&ndash;Michael set and the hash map under concurrency, for every scheme and the GC twin: no key
 * lost or duplicated under racing inserts and removes, weakly consistent iterators, and the safety of
 * recycling (a node found under a guard keeps its life while the guard is open).
 */
class HarrisConcurrentTest {

    private static final int THREADS = 4; // oversubscribed on 2 cores: preempted threads inside guards
    private static final int KEYS = 128;
    private static final int OPS = 60_000;
    private static final Duration LIMIT = Duration.ofSeconds(60);

    /** The operations the race runs, on either structure. */
    private interface Keyed {
        boolean insert(Integer k, int thread);

        boolean delete(Integer k);

        boolean contains(Integer k);

        List<Integer> keys();

        int size();
    }

    private static Keyed of(RecyclingHashMap<Integer, Integer> m) {
        return new Keyed() {
            @Override
            public boolean insert(Integer k, int thread) {
                return m.putIfAbsent(k, thread) == null;
            }

            @Override
            public boolean delete(Integer k) {
                return m.remove(k) != null;
            }

            @Override
            public boolean contains(Integer k) {
                return m.containsKey(k);
            }

            @Override
            public List<Integer> keys() {
                return new ArrayList<>(m.keySet());
            }

            @Override
            public int size() {
                return m.size();
            }
        };
    }

    private static Keyed of(RecyclingListSet<Integer> s) {
        return new Keyed() {
            @Override
            public boolean insert(Integer k, int thread) {
                return s.add(k);
            }

            @Override
            public boolean delete(Integer k) {
                return s.remove(k);
            }

            @Override
            public boolean contains(Integer k) {
                return s.contains(k);
            }

            @Override
            public List<Integer> keys() {
                return new ArrayList<>(s);
            }

            @Override
            public int size() {
                return s.size();
            }
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void mapLosesAndDuplicatesNoKey(String impl) throws Exception {
        Reclaimer r = Impls.reclaimer(impl);
        // 16 buckets for 128 keys: chains of 8, where the marker and unlink races happen
        raceAndCheck(of(Impls.map(impl, r, 16)));
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void setLosesAndDuplicatesNoKey(String impl) throws Exception {
        Reclaimer r = Impls.reclaimer(impl);
        raceAndCheck(of(Impls.<Integer>set(impl, r)));
        Impls.closeAndCheck(r);
    }

    /**
     * THREADS threads insert and delete random keys; each counts, per key, its successful inserts minus its
     * successful deletes. At the end, per key, the sum over threads must be 1 if the key is present and 0 if
     * not: a lost insert, a delete that removed nothing, or a duplicate shows up as a mismatch.
     */
    private static void raceAndCheck(Keyed c) throws InterruptedException {
        AtomicLongArray net = new AtomicLongArray(KEYS);
        Integer[] boxed = new Integer[KEYS];
        for (int k = 0; k < KEYS; k++) boxed[k] = k;
        List<Schemes.ThrowingRunnable> tasks = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            tasks.add(() -> {
                SplittableRandom rnd = new SplittableRandom(id);
                long[] mine = new long[KEYS];
                for (int i = 0; i < OPS; i++) {
                    int k = rnd.nextInt(KEYS);
                    int op = rnd.nextInt(3);
                    if (op == 0) {
                        if (c.insert(boxed[k], id)) mine[k]++;
                    } else if (op == 1) {
                        if (c.delete(boxed[k])) mine[k]--;
                    } else {
                        c.contains(boxed[k]);
                    }
                }
                for (int k = 0; k < KEYS; k++) net.addAndGet(k, mine[k]);
            });
        }
        Schemes.runConcurrently(LIMIT, tasks);
        List<Integer> keys = c.keys();
        Set<Integer> unique = new HashSet<>(keys);
        assertEquals(keys.size(), unique.size(), () -> "a key is in the structure twice: " + keys);
        assertEquals(unique.size(), c.size(), "size() after the race");
        for (int k = 0; k < KEYS; k++) {
            long n = net.get(k);
            boolean present = c.contains(k);
            assertEquals(present ? 1 : 0, n, "key " + k + ": present=" + present + " but inserts - deletes = " + n);
            assertEquals(present, unique.contains(k), "iteration and contains disagree on key " + k);
        }
    }

    /**
     * Keys 0..STABLE-1 stay in the map throughout; churners insert and remove keys above them. Every
     * iteration must return each stable key exactly once and no key twice.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void iteratorsAreWeaklyConsistentUnderChurn(String impl) throws Exception {
        int stable = 200;
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Integer, Integer> m = Impls.map(impl, r, 32);
        RecyclingListSet<Integer> s = Impls.set(impl, r);
        for (int k = 0; k < stable; k++) {
            m.put(k, k);
            s.add(k);
        }
        CountDownLatch churning = new CountDownLatch(2);
        AtomicLong iterations = new AtomicLong();
        List<Schemes.ThrowingRunnable> tasks = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int id = t;
            tasks.add(() -> {
                try {
                    SplittableRandom rnd = new SplittableRandom(id);
                    for (int i = 0; i < 100_000; i++) {
                        Integer k = stable + rnd.nextInt(200);
                        if (rnd.nextBoolean()) {
                            m.put(k, k);
                            s.add(k);
                        } else {
                            m.remove(k);
                            s.remove(k);
                        }
                    }
                } finally {
                    churning.countDown();
                }
            });
        }
        tasks.add(() -> {
            do {
                checkOnce(m.keySet(), stable);
                checkOnce(s, stable);
                iterations.incrementAndGet();
            } while (churning.getCount() > 0);
        });
        Schemes.runConcurrently(LIMIT, tasks);
        assertTrue(iterations.get() > 0);
        Impls.closeAndCheck(r);
    }

    private static void checkOnce(Iterable<Integer> keys, int stable) {
        Set<Integer> seen = new HashSet<>();
        for (Integer k : keys) {
            if (!seen.add(k)) throw new AssertionError("iteration returned " + k + " twice");
        }
        for (int k = 0; k < stable; k++) {
            if (!seen.contains(k)) throw new AssertionError("iteration missed the stable key " + k);
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // Safety of recycling: a node found under a guard keeps its life until the guard closes.

    private static final int CHURN_KEYS = 8;
    private static final int CHURN_OPS = 100_000;
    private static final int HOLD_READS = 32;

    /** Finds a key's node under a guard. */
    private interface Finder {
        ListNode<Integer, ?> find(Guard g, Integer key);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void mapNodeFoundUnderAGuardIsNeverRecycledWhileItIsOpen(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> m = new RecyclingHashMap<>(r, 2, 1024); // two buckets: long chains
        long[] result = churnAndWatch(r, Schemes.reclaimsEarly(scheme), k -> m.put(k, k), k -> m.remove(k), m::findNode);
        assertSafe(scheme, result, m.pool());
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void setNodeFoundUnderAGuardIsNeverRecycledWhileItIsOpen(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingListSet<Integer> s = new RecyclingListSet<>(r, 1024);
        long[] result = churnAndWatch(r, Schemes.reclaimsEarly(scheme), s::add, s::remove, s::findNode);
        assertSafe(scheme, result, s.pool());
        Schemes.closeAndCheck(r);
    }

    private interface KeyOp {
        void apply(Integer k);
    }

    /** Returns {checks, checks of recycled nodes, violations, insert/delete pairs}. */
    private static long[] churnAndWatch(Reclaimer r, boolean recycles, KeyOp insert, KeyOp delete, Finder finder)
            throws InterruptedException {
        CountDownLatch churning = new CountDownLatch(2);
        AtomicLong checks = new AtomicLong();
        AtomicLong recycled = new AtomicLong();
        AtomicLong violations = new AtomicLong();
        AtomicLong pairs = new AtomicLong();
        AtomicReference<String> first = new AtomicReference<>();
        List<Schemes.ThrowingRunnable> tasks = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int id = t;
            tasks.add(() -> {
                long done = 0;
                try {
                    SplittableRandom rnd = new SplittableRandom(id);
                    // CHURN_OPS rounds, and on (for a while) until the watcher has checked a node (a recycled one
                    // when the scheme recycles), so that the check never passes vacuously on a preempted run.
                    long start = System.nanoTime();
                    for (int i = 0; Schemes.churnOn(i, CHURN_OPS, start,
                            () -> recycles ? recycled.get() == 0 : checks.get() == 0); i++) {
                        Integer k = rnd.nextInt(CHURN_KEYS);
                        insert.apply(k);
                        delete.apply(k);
                        done++;
                    }
                } finally {
                    pairs.addAndGet(done);
                    churning.countDown();
                }
            });
        }
        tasks.add(() -> {
            SplittableRandom rnd = new SplittableRandom(99);
            while (churning.getCount() > 0) {
                try (Guard g = r.enter()) {
                    Integer key = rnd.nextInt(CHURN_KEYS);
                    ListNode<Integer, ?> n = finder.find(g, key);
                    if (n == null) continue;
                    int generation = n.generationVolatile();
                    Object k = n.keyPlain();
                    String bad = k == null || !k.equals(key) ? "found a node with key " + k + " for " + key : null;
                    for (int i = 0; i < HOLD_READS && bad == null; i++) {
                        Thread.onSpinWait();
                        if (n.generationVolatile() != generation || n.keyPlain() != k) {
                            bad = "node recycled under an open guard: generation " + generation + " -> "
                                    + n.generationVolatile() + ", key " + k + " -> " + n.keyPlain();
                        }
                    }
                    checks.incrementAndGet();
                    if (generation > 0) recycled.incrementAndGet();
                    if (bad != null) {
                        violations.incrementAndGet();
                        first.compareAndSet(null, bad);
                    }
                }
            }
        });
        Schemes.runConcurrently(LIMIT, tasks);
        if (violations.get() != 0) throw new AssertionError(violations + " violations; first: " + first.get());
        return new long[] {checks.get(), recycled.get(), violations.get(), pairs.get()};
    }

    private static void assertSafe(String scheme, long[] result, ListNodePool<?, ?> pool) {
        assertTrue(result[0] > 0, "the watcher checked no node");
        if (Schemes.reclaimsEarly(scheme)) {
            long used = 2L * result[3]; // an entry and a marker per insert/delete pair
            assertTrue(pool.allocatedNodes() < used,
                    () -> "no node was reused: " + pool.allocatedNodes() + " allocated for " + used + " nodes used");
            assertTrue(result[1] > 0, "the watcher never checked a recycled node");
        }
    }
}
