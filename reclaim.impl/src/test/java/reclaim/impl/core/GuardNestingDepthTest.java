package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A thread's guards nest as deep as the guard's word counts (its depth shares one int with the kind of its short
 * path: {@link ThreadGuard#word}), and no deeper: the enter or nest beyond the documented depth is refused with an
 * exception that says so, and leaves the guard as it was, still working and closing level by level.
 */
class GuardNestingDepthTest {
    /** The deepest nesting the documentation promises: {@code Guard}'s class documentation. */
    private static final int MAX_DEPTH = 8_388_607;

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("reclaim.impl.core.GuardShortPathTest#schemes")
    void guardsNestToTheDocumentedDepthAndTheNextLevelIsRefused(String scheme, Options.Barrier barrier) {
        try (Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier))) {
            AtomicReference<String> node = new AtomicReference<>("node");
            Guard outer = r.enter();
            Guard g = outer;
            for (int d = 2; d <= MAX_DEPTH; d++) g = (d & 1) == 0 ? r.enter() : g.nest();
            assertEquals(MAX_DEPTH, ((ReclaimerHandle) r).guard().depth());

            IllegalStateException byEnter = assertThrows(IllegalStateException.class, r::enter);
            assertTrue(byEnter.getMessage().contains("nested " + MAX_DEPTH + " deep"), byEnter.getMessage());
            Guard deepest = g;
            IllegalStateException byNest = assertThrows(IllegalStateException.class, deepest::nest);
            assertTrue(byNest.getMessage().contains("nested " + MAX_DEPTH + " deep"), byNest.getMessage());
            assertEquals(MAX_DEPTH, ((ReclaimerHandle) r).guard().depth(), "a refused level changes nothing");

            g.close();
            assertSame(g, r.enter(), "one level closed: the next enter is accepted again");
            for (int d = MAX_DEPTH; d >= 2; d--) g.close();
            assertEquals(1, ((ReclaimerHandle) r).guard().depth());
            assertSame("node", outer.protect(node, 0), "the outermost guard still protects");

            AtomicInteger reclaimed = new AtomicInteger();
            outer.retire("retired at depth 1", o -> reclaimed.incrementAndGet());
            outer.close();
            assertEquals(0, ((ReclaimerHandle) r).guard().depth());
            assertThrows(IllegalStateException.class, outer::close, "every level is closed");
            r.enter().close(); // the short path works as before
            r.flush();
            assertEquals(1, reclaimed.get(), "the reclaimer reclaims as before");
        }
    }
}
