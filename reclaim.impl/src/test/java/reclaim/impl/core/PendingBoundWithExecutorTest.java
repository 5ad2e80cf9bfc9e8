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

    static Stream<Arguments> everySchemeAndBarrier() {
        List<Arguments> out = new ArrayList<>();
        for (Options.Barrier b : new Options.Barrier[] {Options.Barrier.FENCE, Options.Barrier.ASYMMETRIC}) {
            for (String name : Reclaimer.availableSchemes()) out.add(Arguments.of(Scheme.named(name), b));
        }
        return out.stream();
    }

    /**
     * Behind an executor that never runs what it is handed, every fourth due collection runs on the retiring thread
     * (the other three leave their bags to the collection task that waits): those collections must keep up with what
     * is sealed, so that what waits in the scheme itself, neither reclaimed nor handed off, stays within the
     * amortization slack however much is retired. (Each of them took one due collection's bags, and under the
     * asymmetric barrier EBR and QSBR kept half of everything sealed.)
     */
    @ParameterizedTest
    @MethodSource("everySchemeAndBarrier")
    void sealedBagsDoNotPileUpInTheSchemeBehindAStuckExecutor(Scheme scheme, Options.Barrier barrier) {
        List<Runnable> held = new ArrayList<>();
        Options options;
        try {
            options = Options.DEFAULT.withBarrier(barrier).withActionExecutor(held::add);
            Reclaimer.create(scheme, options).close();
        } catch (IllegalArgumentException | UnsupportedOperationException unavailable) {
            return; // the asymmetric barrier is not available here
        }
        try (Reclaimer r = Reclaimer.create(scheme, options)) {
            Core core = ((ReclaimerHandle) r).core;
            long slack = core.amortizationSlack();
            long worst = 0;
            for (int i = 0; i < 200_000; i++) {
                try (var g = r.enter()) {
                    g.retire(new Object(), o -> { });
                }
                if ((i & 1023) == 1023) {
                    long inScheme = r.stats().pending() - core.reclamation().handedOffWaiting();
                    worst = Math.max(worst, inScheme);
                }
            }
            if (r.scheme() instanceof Scheme.None) return; // the leak baseline keeps everything until close()
            assertTrue(worst <= slack, scheme.name() + "/" + barrier + ": up to " + worst
                    + " objects waited in the scheme, neither reclaimed nor handed off; the slack is " + slack);
        }
    }
}
