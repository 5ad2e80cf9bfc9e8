package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A robust scheme's pending bound holds with an action executor that never runs what it is handed (collections
 * included), and with one that runs batches at once but keeps collections waiting: after every retire of a single
 * thread, stats().pending() is within pendingBound().
 */
class PendingBoundWithExecutorTest {

    static Stream<Arguments> robust() {
        List<Arguments> out = new ArrayList<>();
        for (Options.Barrier b : new Options.Barrier[] {Options.Barrier.FENCE, Options.Barrier.ASYMMETRIC}) {
            for (boolean runBatches : new boolean[] {false, true}) {
                out.add(Arguments.of(new Scheme.HazardPointers(), b, runBatches));
                out.add(Arguments.of(new Scheme.Hyaline(), b, runBatches));
                out.add(Arguments.of(new Scheme.Crystalline(), b, runBatches));
            }
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("robust")
    void pendingStaysWithinTheBoundBehindAnExecutorThatHoldsCollections(Scheme scheme, Options.Barrier barrier,
            boolean runBatches) {
        List<Runnable> held = new ArrayList<>();
        AtomicInteger ran = new AtomicInteger();
        Options options;
        try {
            options = Options.DEFAULT.withBarrier(barrier).withActionExecutor(t -> {
                if (runBatches && !((HandOff.Task) t).isCollection()) t.run();
                else held.add(t);
            });
            Reclaimer.create(scheme, options).close();
        } catch (IllegalArgumentException | UnsupportedOperationException unavailable) {
            return; // the asymmetric barrier is not available here
        }
        int retires = 60_000;
        try (Reclaimer r = Reclaimer.create(scheme, options)) {
            long worst = Long.MIN_VALUE;
            for (int i = 0; i < retires; i++) {
                r.retire(new Object(), o -> ran.incrementAndGet());
                long over = r.stats().pending() - r.pendingBound();
                worst = Math.max(worst, over);
                assertTrue(over <= 0, "after " + (i + 1) + " retires pending " + r.stats().pending()
                        + " exceeds the bound " + r.pendingBound());
            }
        }
        assertEquals(retires, ran.get());
    }
}
