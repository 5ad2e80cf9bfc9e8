package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/** Single-thread semantics of {@link RecyclingStack}, under every scheme. */
class RecyclingStackTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void popsInLifoOrder(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<Integer> s = new RecyclingStack<>(r);
        for (int i = 1; i <= 100; i++) s.push(i);
        assertEquals(100, s.size());
        for (int i = 100; i >= 1; i--) {
            assertEquals(i, s.peek());
            assertEquals(i, s.pop());
            assertEquals(i - 1, s.size());
        }
        assertNull(s.pop());
        Stats st = Schemes.closeAndCheck(r);
        assertEquals(100, st.retired(), "one retire per pop");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void emptyStack(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<String> s = new RecyclingStack<>(r);
        assertTrue(s.isEmpty());
        assertEquals(0, s.size());
        assertNull(s.peek());
        assertNull(s.pop());
        s.push("a");
        assertFalse(s.isEmpty());
        assertEquals("a", s.pop());
        assertTrue(s.isEmpty());
        assertNull(s.pop());
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void peekDoesNotRemoveAndReturnsTheSameElement(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<Object> s = new RecyclingStack<>(r);
        Object x = new Object();
        s.push(x);
        assertSame(x, s.peek());
        assertSame(x, s.peek());
        assertEquals(1, s.size());
        assertSame(x, s.pop());
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void rejectsNullsAndBadArguments(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<String> s = new RecyclingStack<>(r);
        assertThrows(NullPointerException.class, () -> s.push(null));
        assertTrue(s.isEmpty(), "a rejected push leaves the stack unchanged");
        assertThrows(NullPointerException.class, () -> new RecyclingStack<String>(null));
        assertThrows(IllegalArgumentException.class, () -> new RecyclingStack<String>(r, -1));
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void worksInsideTheCallersGuard(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<Integer> s = new RecyclingStack<>(r);
        try (Guard g = r.enter()) {
            for (int i = 0; i < 10; i++) s.push(i);
            for (int i = 9; i >= 0; i--) assertEquals(i, s.pop());
            assertTrue(g.slots() >= Guard.MIN_SLOTS);
        }
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void refusesUseAfterTheReclaimerIsClosed(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<Integer> s = new RecyclingStack<>(r);
        s.push(1);
        s.pop();
        Schemes.closeAndCheck(r);
        assertThrows(IllegalStateException.class, () -> s.push(2));
        assertThrows(IllegalStateException.class, s::pop);
    }
}
