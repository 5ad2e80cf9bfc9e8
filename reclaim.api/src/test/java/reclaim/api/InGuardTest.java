package reclaim.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * {@link Reclaimer#inGuard} and {@link Registration#inGuard}, the Java critical section in one expression, on
 * stand-ins that record what is called; and {@link Stats#toString()}.
 */
class InGuardTest {

    /** What the stand-ins saw: "enter" and "close" calls, in order. */
    private final List<String> calls = new ArrayList<>();

    private final Guard guard = proxy(Guard.class, (p, m, a) -> {
        calls.add(m.getName());
        return null;
    });

    private <T> T proxy(Class<T> type, InvocationHandler calls) {
        InvocationHandler h = (p, m, a) -> {
            if (m.getName().equals("enter")) { // Registration.enter() is a default method: answer it first
                this.calls.add("enter");
                return guard;
            }
            if (m.isDefault()) return InvocationHandler.invokeDefault(p, m, a);
            return calls.invoke(p, m, a);
        };
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h));
    }

    private final Reclaimer reclaimer = proxy(Reclaimer.class, (p, m, a) -> null);
    private final Registration registration = proxy(Registration.class, (p, m, a) -> null);

    @Test
    void inGuardReturnsTheBlocksValueAndClosesTheGuard() {
        assertEquals("seen", reclaimer.inGuard(g -> {
            assertSame(guard, g);
            return "seen";
        }));
        assertEquals(List.of("enter", "close"), calls);
        calls.clear();
        assertEquals(Integer.valueOf(42), registration.inGuard(g -> 42));
        assertEquals(List.of("enter", "close"), calls);
    }

    @Test
    void inGuardClosesTheGuardWhenTheBlockThrows() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> reclaimer.inGuard(g -> { throw new IllegalArgumentException("boom"); }));
        assertEquals("boom", e.getMessage());
        assertEquals(List.of("enter", "close"), calls);
        calls.clear();
        assertThrows(IllegalArgumentException.class,
                () -> registration.inGuard(g -> { throw new IllegalArgumentException("boom"); }));
        assertEquals(List.of("enter", "close"), calls);
    }

    @Test
    void aNullBlockIsRefusedByNameBeforeAnyGuardOpens() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> reclaimer.inGuard(null));
        assertEquals("block", e.getMessage());
        assertThrows(NullPointerException.class, () -> registration.inGuard(null));
        assertEquals(List.of(), calls);
    }

    @Test
    void statsToStringIncludesPending() {
        String s = new Stats("ebr", 10, 8, 1, 0, 3).toString();
        assertEquals("Stats[scheme=ebr, retired=10, reclaimed=8, pending=2, failed=1, stalled=0, participants=3, barrier=fence]", s);
        assertTrue(new Stats("hp", 5, 5, 0, 0, 1).toString().contains("pending=0"));
    }
}
