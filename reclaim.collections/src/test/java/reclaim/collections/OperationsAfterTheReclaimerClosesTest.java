package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/**
 * "Close the reclaimer once the structure is no longer used; afterwards operations throw
 * IllegalStateException": every operation that reads the structure, the views' {@code pin()} and the bulk
 * operations included, under every scheme; and a view left open while the reclaimer closes makes that
 * close refuse, stays usable, and lets a later close complete.
 */
class OperationsAfterTheReclaimerClosesTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void everyReadingOperationThrowsIllegalStateException(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> m = new RecyclingHashMap<>(r);
        RecyclingListSet<Integer> s = new RecyclingListSet<>(r);
        RecyclingQueue<Integer> q = new RecyclingQueue<>(r);
        RecyclingStack<Integer> st = new RecyclingStack<>(r);
        m.put(1, 1);
        s.add(1);
        q.offer(1);
        st.push(1);
        Schemes.closeAndCheck(r);
        List<Executable> ops = List.of(
                () -> m.containsKey(1), () -> m.remove(1), () -> m.putIfAbsent(2, 2), () -> m.replace(1, 2),
                () -> m.compute(1, (k, v) -> v), () -> m.merge(1, 1, Integer::sum), () -> m.getOrDefault(1, 0),
                () -> m.entrySet().iterator().hasNext(), () -> m.keySet().contains(1), m::clear, m::pin,
                () -> m.containsValue(1), () -> m.putAll(Map.of(3, 3)), m::toString, m::hashCode,
                () -> s.add(2), () -> s.contains(1), () -> s.remove(1), s::iterator, s::pin, s::clear,
                () -> s.containsAll(List.of(1)), s::toArray,
                q::peek, q::size, q::isEmpty, q::iterator, q::pin, q::clear, () -> q.contains(1), q::toArray,
                () -> q.addAll(List.of(1)), q::element,
                st::peek, st::size);
        for (int i = 0; i < ops.size(); i++) {
            assertThrows(IllegalStateException.class, ops.get(i), scheme + ": operation #" + i + " after close");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    @SuppressWarnings("try")
    void sizeAndIsEmptyAnswerWhileClosingWhereGuardedOperationsRefuseAndThrowOnceClosed(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> m = new RecyclingHashMap<>(r);
        RecyclingListSet<Integer> s = new RecyclingListSet<>(r);
        RecyclingStack<Integer> st = new RecyclingStack<>(r);
        m.put(1, 1);
        s.add(1);
        st.push(1);
        try (var held = r.enter()) { // this thread's guard: close() refuses at once and leaves the reclaimer closing
            assertThrows(IllegalStateException.class, r::close, scheme + ": close with a guard open");
        }
        assertThrows(IllegalStateException.class, () -> m.get(1), scheme + ": a guarded operation while closing");
        assertEquals(1, m.size(), scheme + ": size reads a counter, no guard");
        assertEquals(false, m.isEmpty());
        assertEquals(1, s.size());
        assertEquals(false, s.isEmpty());
        assertEquals(false, st.isEmpty());
        Schemes.closeAndCheck(r);
        List<Executable> ops = List.of(m::size, m::isEmpty, s::size, s::isEmpty, st::isEmpty);
        for (int i = 0; i < ops.size(); i++) {
            assertThrows(IllegalStateException.class, ops.get(i), scheme + ": operation #" + i + " once closed");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void anOpenViewMakesCloseRefuseAndALaterCloseCompletes(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> m = new RecyclingHashMap<>(r);
        for (int i = 0; i < 100; i++) m.put(i, i);
        RecyclingHashMap.Pinned<Integer, Integer> view = m.pin();
        assertEquals(0, view.remove(0));
        assertThrows(IllegalStateException.class, r::close, scheme + ": close with a view open");
        assertEquals(1, view.get(1), "the open view still works");
        assertEquals(1, view.remove(1));
        view.close();
        Stats st = Schemes.closeAndCheck(r);
        assertEquals(4, st.retired(), "two entries and their markers");
    }
}
