package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Spliterator;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;

/**
 * Promises of the documented public API of {@code reclaim.collections} checked as a client outside the package
 * sees them (the class documentation, the package documentation and README's "Collections" section): the views'
 * answers under a race with another thread, a view's {@code close()} reached through public reflection, the GC
 * twins' own reclaimers, constructors, iterators and spliterators.
 */
class CollectionsContractTest {

    // ---------------------------------------------------------------------------------------------------------
    // Set.remove: "Returns true if this set contained the specified element (or equivalently, if this set changed
    // as a result of the call)"; the map's removal linearizes at the CAS of the value to null. A key-set removal that
    // races with another thread's removal of the same key answers true only if its own removal won; a values() removal
    // never removes a mapping whose value another thread changed meanwhile. Each window is opened deterministically by
    // the argument's own equals().
    // ---------------------------------------------------------------------------------------------------------

    /** A key or value equal to {@code Integer.valueOf(id)} whose first equals() call runs a hook first. */
    private static final class Hooked {
        private final int id;
        private Runnable hook;

        Hooked(int id, Runnable hook) {
            this.id = id;
            this.hook = hook;
        }

        @Override
        public boolean equals(Object o) {
            Runnable h = hook;
            hook = null;
            if (h != null) h.run();
            return o instanceof Integer i && i == id || o instanceof Hooked k && k.id == id;
        }

        @Override
        public int hashCode() {
            return Integer.hashCode(id);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void keySetRemoveReturnsTrueOnlyToTheCallThatRemovedTheKey(String impl) throws Exception {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Object, String> m = Impls.map(impl, r, 16);
        m.put(7, "seven");
        AtomicInteger otherRemoved = new AtomicInteger();
        // While keySet().remove is comparing, another thread removes the key through the map.
        Hooked k = new Hooked(7, () -> {
            String v = Schemes.onAnotherThread(() -> m.remove(7));
            if (v != null) otherRemoved.incrementAndGet();
        });
        boolean viewRemoved = m.keySet().remove(k);
        assertFalse(m.containsKey(7));
        int successes = otherRemoved.get() + (viewRemoved ? 1 : 0);
        assertEquals(1, successes, impl + ": one mapping was removed once, yet keySet().remove(k) returned "
                + viewRemoved + " and the other thread's remove(k) " + (otherRemoved.get() == 1 ? "removed it" : "found nothing"));
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void valuesRemoveLeavesAMappingWhoseValueAnotherThreadChangedMeanwhile(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Object, Object> m = Impls.map(impl, r, 16);
        m.put(7, 70);
        // While values().remove is comparing 70, another thread replaces it with 71.
        Hooked v = new Hooked(70, () -> Schemes.onAnotherThread(() -> m.put(7, 71)));
        assertFalse(m.values().remove(v), impl + ": no mapping to 70 was left to remove");
        assertEquals(71, m.get(7), impl + ": the mapping changed to 71 must stay");
        assertTrue(m.values().remove(71));
        assertFalse(m.containsKey(7));
        assertThrows(NullPointerException.class, () -> m.values().remove(null), impl + ": values().remove(null)");
        assertThrows(NullPointerException.class, () -> m.keySet().remove(null), impl + ": keySet().remove(null)");
        Impls.closeAndCheck(r);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The views are public AutoCloseable classes; their close() must be a public member of the public class, not
    // one inherited from a package-private superclass, which a client outside the package (a framework, a scripting
    // language, a method handle through publicLookup) cannot invoke reflectively.
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void viewCloseIsInvocableThroughPublicReflection() throws Throwable {
        Reclaimer r = Reclaimer.create("ebr");
        List<AutoCloseable> views = List.of(new RecyclingHashMap<Integer, Integer>(r).pin(),
                new RecyclingListSet<Integer>(r).pin(), new RecyclingQueue<Integer>(r).pin());
        List<String> refused = new ArrayList<>();
        for (AutoCloseable v : views.reversed()) { // innermost first
            Method close = v.getClass().getMethod("close");
            try {
                MethodHandles.publicLookup().unreflect(close).invoke(v);
            } catch (IllegalAccessException e) {
                refused.add(v.getClass().getSimpleName() + ": " + e.getMessage());
                v.close();
            }
        }
        Schemes.closeAndCheck(r);
        assertEquals(List.of(), refused, "a public view's close() is not accessible to an outside client by reflection");
    }

    // ---------------------------------------------------------------------------------------------------------
    // The class documentation: "Close the reclaimer once the map is no longer used; afterwards operations throw
    // IllegalStateException", and Reclaimer.isClosed(): "true once closed". A twin's reclaimer() is a stand-in of
    // its own: closing it closes that twin and no other.
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void closingAGcTwinsReclaimerClosesItAndTheTwinThenRefusesOperations() {
        RecyclingHashMap<Integer, Integer> twin = RecyclingHashMap.gcTwin(16);
        twin.put(1, 1);
        Reclaimer stand = twin.reclaimer();
        stand.close();
        List<String> broken = new ArrayList<>();
        if (!stand.isClosed()) broken.add("reclaimer().isClosed() is false after reclaimer().close()");
        try {
            twin.get(1);
            broken.add("get() answered after reclaimer().close()");
        } catch (IllegalStateException expected) {
            // as documented for the map
        }
        assertEquals(List.of(), broken);
    }

    @Test
    void closingOneGcTwinsReclaimerLeavesAnotherTwinUsable() {
        RecyclingListSet<Integer> other = RecyclingListSet.gcTwin();
        RecyclingHashMap.<Integer, Integer>gcTwin(4).reclaimer().close();
        assertTrue(other.add(1), "a twin made before another twin's reclaimer closed");
        assertTrue(RecyclingQueue.<Integer>gcTwin().offer(1), "a twin made after");
        assertNull(RecyclingHashMap.<Integer, Integer>gcTwin(4).put(1, 1), "a map twin made after");
    }

    /** Iterator contract of every view: next() past the end throws, remove() needs a next() before it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void iteratorsFollowTheIteratorContract(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Integer, Integer> m = Impls.map(impl, r, 4);
        RecyclingListSet<Integer> s = Impls.set(impl, r);
        for (int i = 0; i < 3; i++) {
            m.put(i, i);
            s.add(i);
        }
        List<Collection<?>> views = List.of(m.entrySet(), m.keySet(), m.values(), s);
        for (Collection<?> c : views) {
            Iterator<?> it = c.iterator();
            assertThrows(IllegalStateException.class, it::remove, impl + ": remove() before next()");
            it.next();
            it.remove();
            assertThrows(IllegalStateException.class, it::remove, impl + ": remove() twice");
            it.next();
            it.next();
            assertFalse(it.hasNext());
            assertThrows(NoSuchElementException.class, it::next, impl + ": next() past the end");
            assertEquals(2, c.size(), impl + ": one element removed through the iterator");
            for (int i = 0; i < 3; i++) {
                m.put(i, i);
                s.add(i);
            }
        }
        if (r != null) {
            RecyclingQueue<Integer> q = new RecyclingQueue<>(r);
            q.offer(1);
            Iterator<Integer> it = q.iterator();
            assertEquals(1, it.next());
            assertThrows(UnsupportedOperationException.class, it::remove, "the queue's iterator.remove");
            assertThrows(NoSuchElementException.class, it::next);
            assertEquals(1, q.size());
        }
        Impls.closeAndCheck(r);
    }

    /** Entry-set removal is conditional on the value; the views do not add; setValue writes through. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void mapViewsRemoveEntriesByValueAndWriteThrough(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<String, Integer> m = Impls.map(impl, r, 4);
        m.put("a", 1);
        m.put("b", 2);
        assertFalse(m.entrySet().remove(Map.entry("a", 99)), "a stale entry removes nothing");
        assertEquals(1, m.get("a"));
        assertTrue(m.entrySet().contains(Map.entry("a", 1)));
        assertFalse(m.entrySet().contains(Map.entry("a", 2)));
        assertTrue(m.entrySet().remove(Map.entry("a", 1)));
        assertNull(m.get("a"));
        assertThrows(UnsupportedOperationException.class, () -> m.keySet().add("c"));
        assertThrows(UnsupportedOperationException.class, () -> m.values().add(3));
        Map.Entry<String, Integer> e = m.entrySet().iterator().next();
        assertEquals(2, e.setValue(20));
        assertEquals(20, e.getValue());
        assertEquals(20, m.get("b"));
        assertThrows(NullPointerException.class, () -> e.setValue(null));
        assertEquals(Map.of("b", 20), m);
        assertEquals(Map.of("b", 20).hashCode(), m.hashCode());
        assertEquals("{b=20}", m.toString());
        Impls.closeAndCheck(r);
    }

    /** "remove(Object), removeAll, retainAll, removeIf and iterator().remove() throw UnsupportedOperationException": always. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void queueInteriorRemovalThrowsEvenWhenItWouldRemoveNothing(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> q = new RecyclingQueue<>(r);
        q.offer(1);
        List<Executable> ops = List.of(() -> q.remove(2), () -> q.removeAll(List.of()), () -> q.retainAll(List.of(1)),
                () -> q.removeIf(e -> false), () -> q.remove(1));
        for (int i = 0; i < ops.size(); i++) {
            assertThrows(UnsupportedOperationException.class, ops.get(i), scheme + ": operation #" + i);
        }
        assertEquals(List.of(1), List.copyOf(q));
        assertEquals(1, q.remove());
        assertThrows(NoSuchElementException.class, q::remove, "remove() of an empty queue");
        assertThrows(NoSuchElementException.class, q::element, "element() of an empty queue");
        assertThrows(IllegalArgumentException.class, () -> q.addAll(q), "addAll(this)");
        Schemes.closeAndCheck(r);
    }

    /** The spliterators' documented characteristics: concurrent, no null, distinct for sets, ordered for the queue, never SIZED. */
    @Test
    void spliteratorsHaveTheDocumentedCharacteristics() {
        Reclaimer r = Reclaimer.create("ebr");
        RecyclingHashMap<Integer, Integer> m = new RecyclingHashMap<>(r);
        RecyclingListSet<Integer> s = new RecyclingListSet<>(r);
        RecyclingQueue<Integer> q = new RecyclingQueue<>(r);
        int common = Spliterator.CONCURRENT | Spliterator.NONNULL;
        assertCharacteristics("map.keySet()", m.keySet().spliterator(), common | Spliterator.DISTINCT);
        assertCharacteristics("map.entrySet()", m.entrySet().spliterator(), common | Spliterator.DISTINCT);
        assertCharacteristics("map.values()", m.values().spliterator(), common);
        assertCharacteristics("set", s.spliterator(), common | Spliterator.DISTINCT);
        assertCharacteristics("queue", q.spliterator(), common | Spliterator.ORDERED);
        Schemes.closeAndCheck(r);
    }

    private static void assertCharacteristics(String what, Spliterator<?> sp, int expected) {
        assertEquals(expected, sp.characteristics() & expected, what + ": documented characteristics missing");
        assertFalse(sp.hasCharacteristics(Spliterator.SIZED), what + ": documented as not SIZED");
    }

    /** Every constructor refuses a closed reclaimer at once, naming it, instead of building a structure that only throws. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void constructorsRejectAClosedReclaimer(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        r.close();
        List<Executable> ctors = List.of(() -> new RecyclingHashMap<>(r), () -> new RecyclingHashMap<>(r, 1, 1),
                () -> new RecyclingListSet<>(r), () -> new RecyclingListSet<>(r, 1),
                () -> new RecyclingQueue<>(r), () -> new RecyclingQueue<>(r, 1),
                () -> new RecyclingStack<>(r), () -> new RecyclingStack<>(r, 1));
        for (int i = 0; i < ctors.size(); i++) {
            IllegalStateException e = assertThrows(IllegalStateException.class, ctors.get(i), scheme + ": constructor #" + i);
            assertTrue(e.getMessage().contains("closed"), "message: " + e.getMessage());
        }
    }

    /** Constructors: NullPointerException for a null reclaimer, IllegalArgumentException naming a negative argument. */
    @Test
    void constructorsRejectBadArgumentsWithMessagesNamingThem() {
        Reclaimer r = Reclaimer.create("ebr");
        List<Executable> nulls = List.of(() -> new RecyclingHashMap<>(null), () -> new RecyclingHashMap<>(null, 1, 1),
                () -> new RecyclingListSet<>(null), () -> new RecyclingListSet<>(null, 1),
                () -> new RecyclingQueue<>(null), () -> new RecyclingQueue<>(null, 1),
                () -> new RecyclingStack<>(null), () -> new RecyclingStack<>(null, 1));
        for (int i = 0; i < nulls.size(); i++) {
            NullPointerException e = assertThrows(NullPointerException.class, nulls.get(i), "null reclaimer #" + i);
            assertTrue(String.valueOf(e.getMessage()).contains("reclaimer"), "message: " + e.getMessage());
        }
        assertIae("expectedSize", () -> new RecyclingHashMap<>(r, -1, 1));
        assertIae("poolCapacity", () -> new RecyclingHashMap<>(r, 1, -1));
        assertIae("poolCapacity", () -> new RecyclingListSet<>(r, -1));
        assertIae("poolCapacity", () -> new RecyclingQueue<>(r, -1));
        assertIae("poolCapacity", () -> new RecyclingStack<>(r, -1));
        // 0 is allowed: "0 recycles nothing"; expectedSize 0 is a valid size
        RecyclingHashMap<Integer, Integer> m = new RecyclingHashMap<>(r, 0, 0);
        m.put(1, 1);
        assertEquals(1, m.remove(1));
        Schemes.closeAndCheck(r);
    }

    private static void assertIae(String parameter, Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e, parameter + " negative");
        assertTrue(x.getMessage() != null && x.getMessage().contains(parameter) && x.getMessage().contains("-1"),
                "message names " + parameter + " and the value: " + x.getMessage());
    }

    /**
     * A view's operation that throws NullPointerException (as documented) must leave the view usable and no
     * nested guard open: the view then closes, and so does the reclaimer (which refuses while a guard is open).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void viewOperationsRejectingNullsLeaveTheViewUsableAndNoGuardOpen(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r);
        RecyclingListSet<Integer> set = new RecyclingListSet<>(r);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        try (RecyclingHashMap.Pinned<Integer, Integer> m = map.pin();
             RecyclingListSet.Pinned<Integer> s = set.pin();
             RecyclingQueue.Pinned<Integer> q = queue.pin()) {
            List<Executable> ops = List.of(() -> m.get(null), () -> m.containsKey(null), () -> m.put(null, 1),
                    () -> m.put(1, null), () -> m.putIfAbsent(null, 1), () -> m.putIfAbsent(1, null), () -> m.remove(null),
                    () -> m.remove(null, 1), () -> m.remove(1, null), () -> m.replace(null, 1), () -> m.replace(1, null),
                    () -> m.replace(1, null, 2), () -> m.replace(1, 2, null), () -> m.replace(null, 1, 2),
                    () -> s.add(null), () -> s.contains(null), () -> s.remove(null), () -> q.offer(null));
            for (int i = 0; i < ops.size(); i++) {
                assertThrows(NullPointerException.class, ops.get(i), scheme + ": null argument #" + i);
                assertNull(m.put(100 + i, i), "the view still works after #" + i);
                assertTrue(s.add(i));
                assertTrue(q.offer(i));
            }
            assertEquals(ops.size(), queue.size(), "nothing rejected was enqueued");
        }
        assertEquals(18, map.size());
        Schemes.closeAndCheck(r);
    }

    /** A key whose equals() throws, met inside an operation (per-operation or in a view), leaves no guard open. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void anEqualsThatThrowsInsideAnOperationLeavesNoGuardOpen(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Object, Integer> map = new RecyclingHashMap<>(r, 4, 16);
        RecyclingListSet<Object> set = new RecyclingListSet<>(r);
        Object thrower = new Object() {
            @Override
            public boolean equals(Object o) {
                throw new ArithmeticException("equals");
            }

            @Override
            public int hashCode() {
                return 42;
            }
        };
        RecyclingHashMapTest.Colliding present = new RecyclingHashMapTest.Colliding(1, 42);
        map.put(present, 1);
        set.add(present);
        List<Executable> ops = List.of(() -> map.get(thrower), () -> map.put(thrower, 2), () -> map.remove(thrower),
                () -> set.add(thrower), () -> set.contains(thrower), () -> set.remove(thrower));
        for (Executable op : ops) assertThrows(ArithmeticException.class, op);
        try (RecyclingHashMap.Pinned<Object, Integer> m = map.pin()) {
            assertThrows(ArithmeticException.class, () -> m.put(thrower, 3));
            assertEquals(1, m.get(present), "the view still works");
        }
        assertEquals(1, map.remove(present));
        assertTrue(set.remove(present));
        Schemes.closeAndCheck(r);
    }

    /** A twin's views belong to their thread too ("A view belongs to the thread that opened it"). */
    @Test
    void gcTwinViewsRejectMisuseAsOtherViewsDo() throws Exception {
        RecyclingHashMap<Integer, Integer> twin = RecyclingHashMap.gcTwin(4);
        RecyclingHashMap.Pinned<Integer, Integer> v = twin.pin();
        v.put(1, 1);
        IllegalStateException other = Schemes.onAnotherThread(() -> {
            try {
                v.get(1);
                return null;
            } catch (IllegalStateException e) {
                return e;
            }
        });
        assertTrue(other != null && other.getMessage().contains("thread"), "another thread: " + other);
        v.close();
        assertThrows(IllegalStateException.class, () -> v.get(1), "after close");
        assertThrows(IllegalStateException.class, v::close, "closed twice");
        assertEquals(1, twin.get(1));
    }

    /** ConcurrentMap's atomic updates: every merge counted, exactly one putIfAbsent wins per key. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void concurrentMergesAndPutIfAbsentsAreAtomic(String impl) throws Exception {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Integer, Integer> m = Impls.map(impl, r, 4); // long chains
        int threads = 3, rounds = 3000, keys = 8;
        AtomicIntegerArray winners = new AtomicIntegerArray(rounds);
        List<Schemes.ThrowingRunnable> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            tasks.add(() -> {
                for (int i = 0; i < rounds; i++) {
                    m.merge(i % keys, 1, Integer::sum);
                    if (m.putIfAbsent(1000 + i, id) == null) winners.incrementAndGet(i);
                    m.put(5000 + id, i); // churn in the same chains: a key of this thread's own
                    m.remove(5000 + id);
                }
            });
        }
        Schemes.runConcurrently(Duration.ofMinutes(2), tasks);
        int total = 0;
        for (int k = 0; k < keys; k++) total += m.get(k);
        assertEquals(threads * rounds, total, impl + ": merges lost");
        for (int i = 0; i < rounds; i++) assertEquals(1, winners.get(i), impl + ": putIfAbsent winners of key " + (1000 + i));
        Impls.closeAndCheck(r);
    }

    /** "size(): Linearizable": with only offers running, one thread's successive sizes never decrease. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void queueSizeSeenByOneThreadNeverDecreasesWhileOnlyOffersRun(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> q = new RecyclingQueue<>(r);
        int n = 20_000;
        AtomicInteger done = new AtomicInteger();
        Schemes.runConcurrently(Duration.ofMinutes(2), List.of(() -> {
            for (int i = 0; i < n; i++) q.offer(i);
            done.set(1);
        }, () -> {
            int last = 0;
            while (done.get() == 0) {
                int s = q.size();
                if (s < last || s > n) fail(scheme + ": size went from " + last + " to " + s);
                last = s;
            }
        }));
        assertEquals(n, q.size());
        Schemes.closeAndCheck(r);
    }

    /** "Elements are kept in the order of their spread hash codes (equal hashes in insertion order)". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void setIteratesEqualHashesInInsertionOrder(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingListSet<String> s = Impls.set(impl, r);
        assertEquals("Aa".hashCode(), "BB".hashCode());
        s.add("BB");
        s.add("Aa");
        assertEquals(List.of("BB", "Aa"), List.copyOf(s));
        s.remove("BB");
        s.add("BB");
        assertEquals(List.of("Aa", "BB"), List.copyOf(s), "re-added: last of its group");
        Impls.closeAndCheck(r);
    }
}
