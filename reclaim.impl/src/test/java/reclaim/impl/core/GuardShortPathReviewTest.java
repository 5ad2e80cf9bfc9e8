package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * Executions where a thread whose guard took the short path ({@link ThreadGuard#fast}) opens a guard that the
 * general path opened instead: the short close must do what the general close does for it.
 */
class GuardShortPathReviewTest {
    static Stream<Object[]> schemes() {
        List<Object[]> cases = new ArrayList<>();
        for (String s : List.of("qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w")) {
            for (boolean checked : new boolean[] {false, true}) {
                cases.add(new Object[] {s, Options.Barrier.FENCE, checked});
                if (Membarrier.unavailableReason() == null) cases.add(new Object[] {s, Options.Barrier.ASYMMETRIC, checked});
            }
        }
        return cases.stream();
    }

    /**
     * The thread that calls close() took the short path before; close() runs a reclaim action that enters a guard
     * of the same reclaimer (it gets one with no participant: the general path's closing case) and closes it. That
     * close must succeed as the general path's does (nothing to detach), not fail on the missing participant.
     */
    @ParameterizedTest(name = "{0} {1} checked={2}")
    @MethodSource("schemes")
    void aGuardOpenedByCloseOwnActionClosesOnAThreadThatTookTheShortPath(String scheme, Options.Barrier barrier,
            boolean checked) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier).withChecked(checked));
        ThreadGuard g = ((ReclaimerHandle) r).guard();
        r.enter().close();
        r.enter().close(); // decided by now
        byte path = g.fast;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<Object> protectedInside = new AtomicReference<>();
        AtomicReference<Object> cell = new AtomicReference<>("payload");
        boolean[] ran = {false};
        r.retire(new Object(), o -> {
            try {
                try (Guard inner = r.enter()) {
                    protectedInside.set(inner.protect(cell, 0));
                }
                ran[0] = true;
            } catch (Throwable t) {
                failure.set(t);
                throw t;
            }
        });
        r.close();
        assertNull(failure.get(), "path " + path + ": the action's guard failed: " + failure.get());
        assertTrue(ran[0], "path " + path + ": the action ran to its end");
        assertEquals("payload", protectedInside.get());
        assertEquals(0, r.stats().failed(), "no reclaim action failed");
        assertEquals(0, g.depth(), "the action's guard closed");
    }
}
