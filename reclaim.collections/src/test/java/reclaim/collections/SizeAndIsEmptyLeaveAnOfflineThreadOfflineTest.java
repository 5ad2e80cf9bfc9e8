package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;

/**
 * Under QSBR a registered thread that went offline holds nobody back, and {@code close()} accepts it; its next guard
 * brings it back online ({@code Registration.offline()}). The map's and the set's {@code size()} and
 * {@code isEmpty()} and the stack's {@code isEmpty()} read a counter or the head and need no guard: called by an
 * offline thread (about to block, say: {@code reg.offline(); if (map.isEmpty()) queue.take();}), they must leave it
 * offline, so that it holds nobody back and a {@code close()} that follows completes. (The stack's {@code size()}
 * reads the head node's count, in a guard, and so brings the thread online as any guarded operation does.)
 */
class SizeAndIsEmptyLeaveAnOfflineThreadOfflineTest {

    @Test
    void aCloseAfterSizeOrIsEmptyOnAnOfflineRegisteredThreadCompletes() {
        List<String> broughtOnline = new ArrayList<>();
        check(broughtOnline, "map.size()", (m, s, st) -> m.size());
        check(broughtOnline, "map.isEmpty()", (m, s, st) -> m.isEmpty());
        check(broughtOnline, "set.size()", (m, s, st) -> s.size());
        check(broughtOnline, "set.isEmpty()", (m, s, st) -> s.isEmpty());
        check(broughtOnline, "stack.isEmpty()", (m, s, st) -> st.isEmpty());
        assertEquals(List.of(), broughtOnline, "qsbr: after these on an offline thread, close() refused");
    }

    private interface Op {
        void run(RecyclingHashMap<Integer, Integer> m, RecyclingListSet<Integer> s, RecyclingStack<Integer> st);
    }

    private static void check(List<String> broughtOnline, String what, Op op) {
        Reclaimer r = Reclaimer.create("qsbr");
        RecyclingHashMap<Integer, Integer> m = new RecyclingHashMap<>(r);
        RecyclingListSet<Integer> s = new RecyclingListSet<>(r);
        RecyclingStack<Integer> st = new RecyclingStack<>(r);
        Registration reg = r.register();
        m.put(1, 1);
        s.add(1);
        st.push(1);
        reg.offline(); // about to block: holds nobody back, and close() accepts it
        op.run(m, s, st);
        Executable close = r::close;
        try {
            close.execute();
        } catch (IllegalStateException refused) {
            broughtOnline.add(what + " (" + refused.getMessage() + ")");
            reg.offline();
            r.close();
        } catch (Throwable t) {
            broughtOnline.add(what + " threw " + t);
        } finally {
            reg.close();
        }
    }
}
