package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.AbstractSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.stream.IntStream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Reclaimer;

/**
 * The bulk removals of the map's entry set and values ({@code removeIf}, {@code removeAll}, {@code retainAll}) test a
 * mapping's value, then remove it: a mapping that another thread changed between the two stays, as in
 * {@code ConcurrentHashMap}'s {@code removeIf} (its {@code removeAll} and {@code retainAll} go through
 * {@code Iterator.remove}, which removes the key whatever it maps to now). The other thread's change is made from inside the test of the first
 * mapping (the predicate, or the argument collection's {@code contains}), so the race is taken every time.
 */
class MapBulkRemovalsLeaveChangedMappingsTest {

    /** A bulk removal: given the map and a test of one value or entry, runs the removal and returns its answer. */
    private interface Removal extends BiFunction<Map<Integer, Integer>, java.util.function.Predicate<Object>, Boolean> {}

    /** A collection whose {@code contains} is {@code test}: what removeAll and retainAll consult. */
    private static Collection<Object> containing(java.util.function.Predicate<Object> test, int size) {
        return new AbstractSet<>() {
            @Override
            public boolean contains(Object o) {
                return test.test(o);
            }

            @Override
            public Iterator<Object> iterator() {
                throw new UnsupportedOperationException("the removal must not walk the argument");
            }

            @Override
            public int size() {
                return size; // larger than the map: AbstractSet.removeAll would walk the map with Iterator.remove
            }
        };
    }

    private static Map<String, Removal> removals() {
        Map<String, Removal> m = new LinkedHashMap<>();
        m.put("values().removeIf", (map, t) -> map.values().removeIf(t::test));
        m.put("entrySet().removeIf", (map, t) -> map.entrySet().removeIf(e -> t.test(e.getValue())));
        m.put("values().removeAll", (map, t) -> map.values().removeAll(containing(t, 100)));
        m.put("values().retainAll", (map, t) -> map.values().retainAll(containing(t.negate(), 100)));
        m.put("entrySet().removeAll", (map, t) -> map.entrySet().removeAll(
                containing(o -> t.test(((Map.Entry<?, ?>) o).getValue()), 100)));
        m.put("entrySet().retainAll", (map, t) -> map.entrySet().retainAll(
                containing(o -> !t.test(((Map.Entry<?, ?>) o).getValue()), 100)));
        return m;
    }

    /**
     * Runs {@code removal} of the value 1 over {1=1, 2=1, 3=5} while another thread, at the first test, changes 1 to 2:
     * 1=2 must stay, 2=1 must go, 3=5 stay.
     */
    private static Map<Integer, Integer> removeOnesWhileOneChanges(Map<Integer, Integer> map, Removal removal) {
        map.put(1, 1);
        map.put(2, 1);
        map.put(3, 5);
        AtomicBoolean changed = new AtomicBoolean();
        boolean removed = removal.apply(map, v -> {
            if (changed.compareAndSet(false, true)) {
                assertTrue(Schemes.onAnotherThread(() -> map.replace(1, 1, 2)), "the other thread's replace");
            }
            Object value = v instanceof Map.Entry<?, ?> e ? e.getValue() : v;
            return Integer.valueOf(1).equals(value);
        });
        assertTrue(removed, "2=1 was removed: the call says so");
        assertTrue(changed.get(), "the test ran");
        return new HashMap<>(map);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void aBulkRemovalLeavesAMappingWhoseValueAnotherThreadChangedMeanwhile(String impl) {
        Map<Integer, Integer> expected = Map.of(1, 2, 3, 5);
        for (Map.Entry<String, Removal> c : removals().entrySet()) {
            if (c.getKey().endsWith("removeIf")) { // its removeAll and retainAll remove through the iterator
                assertEquals(expected, removeOnesWhileOneChanges(new ConcurrentHashMap<>(), c.getValue()),
                        "ConcurrentHashMap, " + c.getKey() + " (what the test expects)");
            }
            Reclaimer r = Impls.reclaimer(impl);
            RecyclingHashMap<Integer, Integer> m = Impls.map(impl, r, 16);
            assertEquals(expected, removeOnesWhileOneChanges(m, c.getValue()), impl + ", " + c.getKey());
            assertEquals(2, m.size(), impl + ", " + c.getKey());
            Impls.closeAndCheck(r);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void bulkRemovalsWithoutRacesRemoveExactlyWhatTheyTest(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Integer, Integer> m = Impls.map(impl, r, 64);
        IntStream.range(0, 100).forEach(i -> m.put(i, i % 10));
        assertTrue(m.values().removeIf(v -> v == 3));
        assertFalse(m.values().removeIf(v -> v == 3), "nothing left to remove: false");
        assertTrue(m.entrySet().removeIf(e -> e.getKey() >= 90));
        assertTrue(m.values().removeAll(Set.of(4, 5)));
        assertTrue(m.values().retainAll(Set.of(0, 1, 2, 6)));
        assertFalse(m.values().retainAll(Set.of(0, 1, 2, 6)), "nothing left to remove: false");
        assertTrue(m.entrySet().removeAll(Set.of(Map.entry(0, 0), Map.entry(1, 1), Map.entry(2, 3))));
        assertTrue(m.entrySet().retainAll(m.entrySet().stream().filter(e -> e.getValue() != 6).toList()));
        Map<Integer, Integer> expected = new HashMap<>();
        IntStream.range(0, 90).filter(i -> i % 10 <= 2 && i != 0 && i != 1).forEach(i -> expected.put(i, i % 10));
        assertEquals(expected, new HashMap<>(m), impl);
        assertEquals(expected.size(), m.size(), impl);
        Impls.closeAndCheck(r);
    }
}
