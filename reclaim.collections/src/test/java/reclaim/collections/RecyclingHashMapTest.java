package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/**
 * Single-thread semantics of {@link RecyclingHashMap} as a {@link ConcurrentMap}, under every scheme and for
 * the GC twin: each operation against {@link HashMap} as the model, the atomic operations' contracts, null
 * rejection, the views and their iterators.
 */
class RecyclingHashMapTest {

    /** A key whose hash code collides with every other key of the same {@code bucket}. */
    record Colliding(int id, int bucket) {
        @Override
        public int hashCode() {
            return bucket;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void behavesLikeHashMapUnderRandomOperations(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Object, Integer> m = Impls.map(impl, r, 64);
        Map<Object, Integer> model = new HashMap<>();
        Random rnd = new Random(42);
        for (int i = 0; i < 100_000; i++) {
            int k = rnd.nextInt(300);
            Object key = (k & 1) == 0 ? Integer.valueOf(k) : new Colliding(k, k % 7); // many equal hashes
            Integer v = rnd.nextInt(5);
            String op = switch (rnd.nextInt(10)) {
                case 0 -> { assertEquals(model.put(key, v), m.put(key, v)); yield "put"; }
                case 1 -> { assertEquals(model.putIfAbsent(key, v), m.putIfAbsent(key, v)); yield "putIfAbsent"; }
                case 2 -> { assertEquals(model.remove(key), m.remove(key)); yield "remove"; }
                case 3 -> { assertEquals(model.remove(key, v), m.remove(key, v)); yield "remove(k,v)"; }
                case 4 -> { assertEquals(model.replace(key, v), m.replace(key, v)); yield "replace"; }
                case 5 -> { assertEquals(model.replace(key, v, v + 1), m.replace(key, v, v + 1)); yield "replace(k,o,n)"; }
                case 6 -> { assertEquals(model.get(key), m.get(key)); yield "get"; }
                case 7 -> { assertEquals(model.containsKey(key), m.containsKey(key)); yield "containsKey"; }
                case 8 -> { assertEquals(model.merge(key, v, Integer::sum), m.merge(key, v, Integer::sum)); yield "merge"; }
                default -> {
                    assertEquals(model.compute(key, (kk, old) -> old == null ? v : (old > 3 ? null : old + 1)),
                            m.compute(key, (kk, old) -> old == null ? v : (old > 3 ? null : old + 1)));
                    yield "compute";
                }
            };
            if (i % 10_000 == 0) assertEquals(model, m, () -> "after " + op);
            assertEquals(model.size(), m.size(), op);
        }
        assertEquals(model, m);
        assertEquals(m, model);
        assertEquals(model.hashCode(), m.hashCode());
        assertEquals(model.keySet(), m.keySet());
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void atomicOperationsFollowTheirContracts(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        ConcurrentMap<String, String> m = Impls.map(impl, r, 16);
        assertNull(m.putIfAbsent("a", "1"));
        assertEquals("1", m.putIfAbsent("a", "2"), "putIfAbsent keeps the present value");
        assertEquals("1", m.get("a"));
        assertFalse(m.replace("a", "x", "3"), "replace(k,o,n) with a wrong old value");
        assertTrue(m.replace("a", "1", "3"));
        assertEquals("3", m.replace("a", "4"));
        assertNull(m.replace("b", "4"), "replace of an absent key does not add it");
        assertFalse(m.containsKey("b"));
        assertFalse(m.remove("a", "3"), "remove(k,v) with a wrong value");
        assertTrue(m.remove("a", "4"));
        assertFalse(m.containsKey("a"));
        assertEquals("v", m.computeIfAbsent("c", k -> "v"));
        assertEquals("v", m.computeIfAbsent("c", k -> "w"), "computeIfAbsent keeps the present value");
        assertNull(m.computeIfAbsent("d", k -> null), "a null from the function adds nothing");
        assertFalse(m.containsKey("d"));
        assertEquals("vv", m.computeIfPresent("c", (k, v) -> v + v));
        assertNull(m.computeIfPresent("c", (k, v) -> null), "null removes");
        assertFalse(m.containsKey("c"));
        assertNull(m.computeIfPresent("c", (k, v) -> "z"));
        assertEquals("x", m.merge("e", "x", String::concat));
        assertEquals("xy", m.merge("e", "y", String::concat));
        assertNull(m.merge("e", "z", (a, b) -> null));
        assertEquals("dflt", m.getOrDefault("e", "dflt"));
        m.put("f", "1");
        m.put("g", "2");
        m.replaceAll((k, v) -> k + v);
        assertEquals(Map.of("f", "f1", "g", "g2"), m);
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void rejectsNulls(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        ConcurrentMap<String, String> m = Impls.map(impl, r, 16);
        assertThrows(NullPointerException.class, () -> m.put(null, "v"));
        assertThrows(NullPointerException.class, () -> m.put("k", null));
        assertThrows(NullPointerException.class, () -> m.putIfAbsent("k", null));
        assertThrows(NullPointerException.class, () -> m.get(null));
        assertThrows(NullPointerException.class, () -> m.containsKey(null));
        assertThrows(NullPointerException.class, () -> m.containsValue(null));
        assertThrows(NullPointerException.class, () -> m.remove(null));
        assertThrows(NullPointerException.class, () -> m.remove("k", null));
        assertThrows(NullPointerException.class, () -> m.replace("k", null));
        assertThrows(NullPointerException.class, () -> m.replace("k", "a", null));
        assertThrows(NullPointerException.class, () -> m.replace("k", null, "a"));
        assertTrue(m.isEmpty(), "a rejected call changes nothing");
        assertThrows(NullPointerException.class, () -> new RecyclingHashMap<String, String>(null));
        assertThrows(IllegalArgumentException.class, () -> RecyclingHashMap.gcTwin(-1));
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void viewsIterateEveryMappingOnceAndWriteThrough(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Integer, Integer> m = Impls.map(impl, r, 8); // 8 buckets, long chains
        for (int i = 0; i < 500; i++) m.put(i, i);
        Set<Integer> seen = new HashSet<>();
        for (Map.Entry<Integer, Integer> e : m.entrySet()) {
            assertTrue(seen.add(e.getKey()), "a key returned twice");
            assertEquals(e.getKey(), e.getValue());
            e.setValue(e.getValue() + 1000); // writes through
        }
        assertEquals(500, seen.size());
        for (int i = 0; i < 500; i++) assertEquals(i + 1000, m.get(i));
        for (Iterator<Integer> it = m.keySet().iterator(); it.hasNext(); ) {
            if (it.next() % 2 == 0) it.remove();
        }
        assertEquals(250, m.size());
        assertTrue(m.containsValue(1001));
        assertFalse(m.containsValue(1000));
        assertTrue(m.entrySet().contains(Map.entry(1, 1001)));
        assertTrue(m.entrySet().remove(Map.entry(1, 1001)));
        assertFalse(m.containsKey(1));
        Iterator<Integer> it = m.values().iterator();
        assertThrows(IllegalStateException.class, it::remove);
        m.clear();
        assertTrue(m.isEmpty());
        assertFalse(m.entrySet().iterator().hasNext());
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void everyRemovedNodeIsRetiredOnceAndRecycled(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> m = new RecyclingHashMap<>(r, 64, 4096);
        int rounds = 200, keys = 64;
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < keys; k++) m.put(k, round);
            for (int k = 0; k < keys; k++) assertEquals(round, m.remove(k));
            r.flush();
        }
        long allocated = m.pool().allocatedNodes();
        if (Schemes.reclaimsEarly(scheme)) {
            assertTrue(allocated < rounds * keys / 10,
                    () -> allocated + " nodes allocated for " + rounds * keys + " insertions: nodes are not reused");
        }
        Stats st = Schemes.closeAndCheck(r);
        // one retire per removed entry and one per marker, nothing else in a single-threaded run
        assertEquals(2L * rounds * keys, st.retired(), "entries and markers, each retired once");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void refusesUseAfterTheReclaimerIsClosed(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> m = new RecyclingHashMap<>(r);
        m.put(1, 1);
        Schemes.closeAndCheck(r);
        assertThrows(IllegalStateException.class, () -> m.put(2, 2));
        assertThrows(IllegalStateException.class, () -> m.get(1));
    }
}
