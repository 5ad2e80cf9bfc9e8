package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;

/**
 * Each structure against its {@code java.util.concurrent} equivalent, single-threaded, under every scheme and for
 * the GC twin: the same random sequence of operations (the interfaces' whole surface, the views and the bulk
 * operations included) runs on both, and every return value, every thrown exception and the final state must be
 * the same; then the reclaimer closes with everything retired reclaimed exactly once.
 */
class JavaUtilConcurrentEquivalenceTest {

    private static final int OPS = 40_000;

    private static Object key(Random rnd) {
        int k = rnd.nextInt(200);
        return (k & 1) == 0 ? Integer.valueOf(k) : new RecyclingHashMapTest.Colliding(k, k % 5); // equal hashes
    }

    /** The same call on both: equal results, or the same exception type. */
    private static void same(String what, Supplier<?> expected, Supplier<?> actual) {
        Object e;
        try {
            e = expected.get();
        } catch (RuntimeException ex) {
            assertThrows(ex.getClass(), actual::get, what);
            return;
        }
        assertEquals(e, actual.get(), what);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void mapAnswersAsConcurrentHashMapDoes(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Object, Integer> m = Impls.map(impl, r, 8); // few buckets: long chains
        ConcurrentHashMap<Object, Integer> c = new ConcurrentHashMap<>();
        Random rnd = new Random(7);
        for (int i = 0; i < OPS; i++) {
            Object k = key(rnd);
            Integer v = rnd.nextInt(5);
            Integer w = rnd.nextInt(5);
            int op = rnd.nextInt(100);
            String what = impl + " op " + i + " (" + op + ") on " + k + "," + v + "," + w;
            switch (op % 25) {
                case 0 -> same(what, () -> c.put(k, v), () -> m.put(k, v));
                case 1 -> same(what, () -> c.putIfAbsent(k, v), () -> m.putIfAbsent(k, v));
                case 2 -> same(what, () -> c.get(k), () -> m.get(k));
                case 3 -> same(what, () -> c.getOrDefault(k, -1), () -> m.getOrDefault(k, -1));
                case 4 -> same(what, () -> c.containsKey(k), () -> m.containsKey(k));
                case 5 -> same(what, () -> c.remove(k), () -> m.remove(k));
                case 6 -> same(what, () -> c.remove(k, v), () -> m.remove(k, v));
                case 7 -> same(what, () -> c.replace(k, v), () -> m.replace(k, v));
                case 8 -> same(what, () -> c.replace(k, v, w), () -> m.replace(k, v, w));
                case 9 -> same(what, () -> c.compute(k, (kk, old) -> old == null ? v : (old > 3 ? null : old + w)),
                        () -> m.compute(k, (kk, old) -> old == null ? v : (old > 3 ? null : old + w)));
                case 10 -> same(what, () -> c.computeIfAbsent(k, kk -> v == 0 ? null : v),
                        () -> m.computeIfAbsent(k, kk -> v == 0 ? null : v));
                case 11 -> same(what, () -> c.computeIfPresent(k, (kk, old) -> old.equals(v) ? null : old + 1),
                        () -> m.computeIfPresent(k, (kk, old) -> old.equals(v) ? null : old + 1));
                case 12 -> same(what, () -> c.merge(k, v, (a, b) -> a + b > 6 ? null : a + b),
                        () -> m.merge(k, v, (a, b) -> a + b > 6 ? null : a + b));
                case 13 -> same(what, () -> c.containsValue(v), () -> m.containsValue(v));
                case 14 -> same(what, () -> c.keySet().remove(k), () -> m.keySet().remove(k));
                case 15 -> same(what, () -> c.keySet().contains(k), () -> m.keySet().contains(k));
                case 16 -> same(what, () -> c.entrySet().contains(Map.entry(k, v)), () -> m.entrySet().contains(Map.entry(k, v)));
                case 17 -> same(what, () -> c.entrySet().remove(Map.entry(k, v)), () -> m.entrySet().remove(Map.entry(k, v)));
                case 18 -> same(what, () -> c.values().contains(v), () -> m.values().contains(v));
                case 19 -> same(what, () -> c.put(k, v), () -> m.put(k, v));
                case 20 -> same(what, () -> c.putIfAbsent(k, w), () -> m.putIfAbsent(k, w));
                default -> {
                    if (op < 96) { // mostly more insertions, so that the bulk operations below see full maps
                        same(what, () -> c.put(k, w), () -> m.put(k, w));
                    } else {
                        bulkMapOperation(what, rnd, c, m);
                    }
                }
            }
            assertEquals(c.size(), m.size(), what);
            assertEquals(c.isEmpty(), m.isEmpty(), what);
            if (i % 2_000 == 0) assertSameMap(what, c, m);
        }
        assertSameMap("end", c, m);
        Impls.closeAndCheck(r);
    }

    private static void bulkMapOperation(String what, Random rnd, ConcurrentHashMap<Object, Integer> c,
            RecyclingHashMap<Object, Integer> m) {
        int v = rnd.nextInt(5);
        List<Object> keys = new ArrayList<>();
        for (int j = 0; j < 20; j++) keys.add(key(rnd));
        Map<Object, Integer> more = new HashMap<>();
        for (Object k : keys) more.put(k, v);
        switch (rnd.nextInt(12)) {
            case 0 -> same(what + " keySet.removeIf", () -> c.keySet().removeIf(k -> k.hashCode() % 3 == v % 3),
                    () -> m.keySet().removeIf(k -> k.hashCode() % 3 == v % 3));
            case 1 -> same(what + " entrySet.removeIf", () -> c.entrySet().removeIf(e -> e.getValue() == v),
                    () -> m.entrySet().removeIf(e -> e.getValue() == v));
            case 2 -> same(what + " values.removeIf", () -> c.values().removeIf(x -> x == v),
                    () -> m.values().removeIf(x -> x == v));
            case 3 -> same(what + " keySet.retainAll", () -> c.keySet().retainAll(new HashSet<>(keys)),
                    () -> m.keySet().retainAll(new HashSet<>(keys)));
            case 4 -> same(what + " keySet.removeAll", () -> c.keySet().removeAll(keys), () -> m.keySet().removeAll(keys));
            case 5 -> {
                c.putAll(more);
                m.putAll(more);
            }
            case 6 -> {
                c.replaceAll((k, x) -> (x + k.hashCode()) % 7);
                m.replaceAll((k, x) -> (x + k.hashCode()) % 7);
            }
            case 7 -> same(what + " containsAll", () -> c.keySet().containsAll(keys), () -> m.keySet().containsAll(keys));
            case 8 -> { // Iterator.remove and Entry.setValue through the entry set
                for (Iterator<Map.Entry<Object, Integer>> it = m.entrySet().iterator(); it.hasNext(); ) {
                    Map.Entry<Object, Integer> e = it.next();
                    if (e.getValue() == v) {
                        it.remove();
                        c.remove(e.getKey());
                    } else if (e.getKey().hashCode() % 4 == 0) {
                        assertEquals(e.getValue(), e.setValue(v + 10));
                        assertEquals(v + 10, e.getValue());
                        c.put(e.getKey(), v + 10);
                    }
                }
            }
            case 9 -> { // forEach
                Map<Object, Integer> seen = new HashMap<>();
                m.forEach((k, x) -> assertNull(seen.put(k, x), "forEach visits a key twice"));
                assertEquals(c, seen);
            }
            case 10 -> {
                if (rnd.nextInt(4) == 0) {
                    c.clear();
                    m.clear();
                }
            }
            default -> assertSameMap(what, c, m);
        }
    }

    private static void assertSameMap(String what, Map<Object, Integer> c, RecyclingHashMap<Object, Integer> m) {
        assertEquals(c, m, what);
        assertEquals(m, c, what);
        assertEquals(c.hashCode(), m.hashCode(), what);
        assertEquals(c.keySet(), m.keySet(), what);
        assertEquals(m.keySet(), c.keySet(), what);
        assertEquals(c.entrySet(), m.entrySet(), what);
        assertEquals(m.entrySet(), c.entrySet(), what);
        assertEquals(c.keySet().hashCode(), m.keySet().hashCode(), what);
        assertEquals(sorted(c.values()), sorted(m.values()), what);
        assertEquals(c.size(), m.keySet().size(), what);
        assertEquals(c.size(), m.values().size(), what);
        assertEquals(c.size(), m.entrySet().size(), what);
        // toString: the AbstractMap format, in the iteration order
        StringJoiner j = new StringJoiner(", ", "{", "}");
        for (Map.Entry<Object, Integer> e : m.entrySet()) j.add(e.getKey() + "=" + e.getValue());
        assertEquals(j.toString(), m.toString(), what);
        assertToArrays(what, new HashSet<>(c.keySet()), m.keySet());
    }

    private static List<Integer> sorted(Collection<Integer> values) {
        List<Integer> l = new ArrayList<>(values);
        l.sort(null);
        return l;
    }

    /** The three toArray forms, as Collection specifies them, against the expected elements. */
    private static void assertToArrays(String what, Collection<?> expected, Collection<?> actual) {
        Object[] a = actual.toArray();
        assertEquals(expected.size(), a.length, what);
        if (expected instanceof Set<?>) {
            assertEquals(expected, new HashSet<>(Arrays.asList(a)), what);
        } else {
            assertEquals(expected, Arrays.asList(a), what + ": in iteration order");
        }
        Object[] big = new Object[expected.size() + 2];
        Arrays.fill(big, "sentinel");
        Object[] b = actual.toArray(big);
        assertSame(big, b, what + ": toArray(T[]) with room uses the array given");
        assertNull(big[expected.size()], what + ": toArray(T[]) sets the element after the last to null");
        assertEquals("sentinel", big[expected.size() + 1], what);
        assertArrayEquals(a, actual.toArray(new Object[0]), what + ": the toArray forms agree");
        assertArrayEquals(a, actual.toArray(Object[]::new), what + ": toArray(IntFunction)");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void setAnswersAsConcurrentHashMapKeySetDoes(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingListSet<Object> s = Impls.set(impl, r);
        Set<Object> c = ConcurrentHashMap.newKeySet();
        Random rnd = new Random(11);
        for (int i = 0; i < OPS / 4; i++) { // the list set is linear in its size
            Object k = key(rnd);
            int op = rnd.nextInt(100);
            String what = impl + " op " + i + " (" + op + ") on " + k;
            List<Object> keys = new ArrayList<>();
            if (op >= 90) for (int j = 0; j < 10; j++) keys.add(key(rnd));
            switch (op) {
                case 90 -> same(what, () -> c.addAll(keys), () -> s.addAll(keys));
                case 91 -> same(what, () -> c.removeAll(keys), () -> s.removeAll(keys));
                case 92 -> same(what, () -> c.retainAll(new HashSet<>(keys)), () -> s.retainAll(new HashSet<>(keys)));
                case 93 -> same(what, () -> c.containsAll(keys), () -> s.containsAll(keys));
                case 94 -> same(what, () -> c.removeIf(x -> x.hashCode() % 5 == 0), () -> s.removeIf(x -> x.hashCode() % 5 == 0));
                case 95 -> {
                    for (Iterator<Object> it = s.iterator(); it.hasNext(); ) {
                        Object x = it.next();
                        if (x.hashCode() % 3 == 0) {
                            it.remove();
                            c.remove(x);
                        }
                    }
                }
                case 96 -> {
                    assertEquals(c, s, what);
                    assertEquals(s, c, what);
                    assertEquals(c.hashCode(), s.hashCode(), what);
                    StringJoiner j = new StringJoiner(", ", "[", "]");
                    for (Object x : s) j.add(String.valueOf(x));
                    assertEquals(j.toString(), s.toString(), what);
                    assertToArrays(what, new HashSet<>(c), s);
                }
                case 97 -> {
                    if (rnd.nextInt(4) == 0) {
                        c.clear();
                        s.clear();
                    }
                }
                default -> {
                    switch (op % 3) {
                        case 0 -> same(what, () -> c.add(k), () -> s.add(k));
                        case 1 -> same(what, () -> c.remove(k), () -> s.remove(k));
                        default -> same(what, () -> c.contains(k), () -> s.contains(k));
                    }
                }
            }
            assertEquals(c.size(), s.size(), what);
            assertEquals(c.isEmpty(), s.isEmpty(), what);
        }
        assertEquals(c, s);
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void queueAnswersAsConcurrentLinkedQueueDoes(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingQueue<Integer> q = r == null ? RecyclingQueue.gcTwin() : new RecyclingQueue<>(r);
        ConcurrentLinkedQueue<Integer> c = new ConcurrentLinkedQueue<>();
        Random rnd = new Random(13);
        for (int i = 0; i < OPS; i++) {
            Integer x = rnd.nextInt(50);
            int op = rnd.nextInt(100);
            String what = impl + " op " + i + " (" + op + ") on " + x;
            switch (op) {
                case 90 -> {
                    List<Integer> more = List.of(x, x + 1, x + 2);
                    same(what, () -> c.addAll(more), () -> q.addAll(more));
                }
                case 91 -> {
                    assertEquals(new ArrayList<>(c), new ArrayList<>(q), what);
                    assertEquals(c.toString(), q.toString(), what);
                    assertArrayEquals(c.toArray(), q.toArray(), what);
                    assertArrayEquals(c.toArray(new Integer[0]), q.toArray(new Integer[0]), what);
                    assertArrayEquals(c.toArray(Integer[]::new), q.toArray(Integer[]::new), what);
                    assertEquals(c.stream().toList(), q.stream().toList(), what);
                    List<Integer> seen = new ArrayList<>();
                    q.forEach(seen::add);
                    assertEquals(new ArrayList<>(c), seen, what);
                    assertToArrays(what, new ArrayList<>(c), q);
                }
                case 92 -> same(what, () -> c.containsAll(List.of(x, x + 1)), () -> q.containsAll(List.of(x, x + 1)));
                case 93 -> {
                    if (rnd.nextInt(4) == 0) {
                        c.clear();
                        q.clear();
                    }
                }
                case 94 -> same(what, () -> c.contains(null), () -> q.contains(null));
                default -> {
                    switch (op % 8) {
                        case 0, 1 -> same(what, () -> c.offer(x), () -> q.offer(x));
                        case 2 -> same(what, () -> c.add(x), () -> q.add(x));
                        case 3 -> same(what, c::poll, q::poll);
                        case 4 -> same(what, c::peek, q::peek);
                        case 5 -> same(what, c::element, q::element);
                        case 6 -> same(what, () -> c.remove(), () -> q.remove());
                        default -> same(what, () -> c.contains(x), () -> q.contains(x));
                    }
                }
            }
            assertEquals(c.size(), q.size(), what);
            assertEquals(c.isEmpty(), q.isEmpty(), what);
        }
        assertEquals(new ArrayList<>(c), new ArrayList<>(q));
        assertThrows(NullPointerException.class, () -> q.offer(null));
        assertThrows(NullPointerException.class, () -> q.add(null));
        assertThrows(NullPointerException.class, () -> q.addAll(Arrays.asList(1, null)));
        q.clear();
        assertThrows(NoSuchElementException.class, q::element);
        assertThrows(NoSuchElementException.class, q::remove);
        assertThrows(IllegalArgumentException.class, () -> q.addAll(q), "addAll of itself");
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void stackAnswersAsArrayDequeDoes(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingStack<Integer> s = r == null ? RecyclingStack.gcTwin() : new RecyclingStack<>(r);
        ArrayDeque<Integer> c = new ArrayDeque<>();
        Random rnd = new Random(17);
        for (int i = 0; i < OPS; i++) {
            Integer x = rnd.nextInt(50);
            String what = impl + " op " + i + " on " + x;
            switch (rnd.nextInt(4)) {
                case 0, 1 -> {
                    c.push(x);
                    s.push(x);
                }
                case 2 -> assertEquals(c.pollFirst(), s.pop(), what);
                default -> assertEquals(c.peekFirst(), s.peek(), what);
            }
            assertEquals(c.size(), s.size(), what);
            assertEquals(c.isEmpty(), s.isEmpty(), what);
        }
        while (!c.isEmpty()) assertEquals(c.pop(), s.pop());
        assertNull(s.pop());
        assertNull(s.peek());
        Impls.closeAndCheck(r);
    }
}
