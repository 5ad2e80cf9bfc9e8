package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/** Single-thread semantics of {@link RecyclingListSet} as a {@link Set}, under every scheme and for the GC twin. */
class RecyclingListSetTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void behavesLikeHashSetUnderRandomOperations(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingListSet<Object> s = Impls.set(impl, r);
        Set<Object> model = new HashSet<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 50_000; i++) {
            int k = rnd.nextInt(200);
            Object e = (k & 1) == 0 ? Integer.valueOf(k) : new RecyclingHashMapTest.Colliding(k, k % 5);
            switch (rnd.nextInt(3)) {
                case 0 -> assertEquals(model.add(e), s.add(e));
                case 1 -> assertEquals(model.remove(e), s.remove(e));
                default -> assertEquals(model.contains(e), s.contains(e));
            }
            assertEquals(model.size(), s.size());
        }
        assertEquals(model, s);
        assertEquals(s, model);
        assertEquals(model.hashCode(), s.hashCode());
        assertTrue(s.containsAll(model));
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void setContract(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingListSet<String> s = Impls.set(impl, r);
        assertTrue(s.isEmpty());
        assertTrue(s.add("a"));
        assertFalse(s.add("a"), "no duplicates");
        assertTrue(s.addAll(List.of("b", "c", "d")));
        assertEquals(4, s.size());
        assertTrue(s.removeAll(List.of("b", "x")));
        assertTrue(s.retainAll(List.of("a", "c")));
        assertEquals(Set.of("a", "c"), s);
        assertTrue(s.removeIf(x -> x.equals("c")));
        assertEquals(Set.of("a"), s);
        Iterator<String> it = s.iterator();
        assertThrows(IllegalStateException.class, it::remove);
        assertEquals("a", it.next());
        it.remove();
        assertFalse(it.hasNext());
        assertTrue(s.isEmpty());
        assertThrows(NullPointerException.class, () -> s.add(null));
        assertThrows(NullPointerException.class, () -> s.contains(null));
        assertThrows(NullPointerException.class, () -> s.remove(null));
        assertThrows(NullPointerException.class, () -> new RecyclingListSet<String>(null));
        s.addAll(List.of("x", "y"));
        s.clear();
        assertTrue(s.isEmpty());
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void everyRemovedNodeIsRetiredOnceAndRecycled(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingListSet<Integer> s = new RecyclingListSet<>(r);
        int rounds = 200, keys = 100;
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < keys; k++) assertTrue(s.add(k));
            for (int k = 0; k < keys; k++) assertTrue(s.remove(k));
            r.flush();
        }
        long allocated = s.pool().allocatedNodes();
        if (Schemes.reclaimsEarly(scheme)) {
            assertTrue(allocated < rounds * keys / 10, () -> allocated + " nodes allocated: nodes are not reused");
        }
        Stats st = Schemes.closeAndCheck(r);
        assertEquals(2L * rounds * keys, st.retired(), "entries and markers, each retired once");
    }
}
