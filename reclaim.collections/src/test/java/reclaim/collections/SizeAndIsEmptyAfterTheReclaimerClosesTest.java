package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;

/**
 * The class documentation of the map, the set and the stack: "Close the reclaimer once the ... is no longer used;
 * afterwards operations throw IllegalStateException". The queue's {@code size()} and {@code isEmpty()} do; the
 * map's and the set's {@code size()} and {@code isEmpty()} and the stack's {@code isEmpty()} answer as if the
 * reclaimer were open (they read a counter or the head without opening a guard).
 */
class SizeAndIsEmptyAfterTheReclaimerClosesTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void sizeAndIsEmptyThrowIllegalStateExceptionAsTheOtherOperationsDo(String scheme) {
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
        List<String> answered = new ArrayList<>();
        check(answered, "queue.size()", q::size);
        check(answered, "queue.isEmpty()", q::isEmpty);
        check(answered, "stack.size()", st::size);
        check(answered, "map.size()", m::size);
        check(answered, "map.isEmpty()", m::isEmpty);
        check(answered, "set.size()", s::size);
        check(answered, "set.isEmpty()", s::isEmpty);
        check(answered, "stack.isEmpty()", st::isEmpty);
        assertEquals(List.of(), answered, scheme + ": after close, these returned instead of throwing");
    }

    private static void check(List<String> answered, String what, Executable op) {
        try {
            op.execute();
            answered.add(what);
        } catch (IllegalStateException expected) {
            // as documented
        } catch (Throwable t) {
            answered.add(what + " threw " + t);
        }
    }
}
