package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A backlog of sealed bags, left by a reader that held the clock back, drains while retires go on: the collections
 * that a steady stream of retires starts run a share of the backlog each ({@link ClockPolicy#BACKLOG_SHARE}), not a
 * fixed number of bags. With a fixed number, a collection every 16 bags under the asymmetric barrier ran 32, so a
 * backlog shrank by 16 bags each time however large it was, while each collection walked all of it; with many threads
 * on few cores the walk outlasted the seals and the backlog grew without end. And what one operation runs stays within
 * that share (the price of draining: a sixteenth of the backlog on the operation that starts a collection).
 */
class BacklogDrainTest {
    static Stream<Arguments> schemesAndBarriers() {
        List<Options.Barrier> barriers = new ArrayList<>(List.of(Options.Barrier.FENCE));
        if (Membarrier.unavailableReason() == null) barriers.add(Options.Barrier.ASYMMETRIC);
        return Stream.of("ebr", "qsbr").flatMap(s -> barriers.stream().map(b -> Arguments.of(s, b)));
    }

    @ParameterizedTest
    @MethodSource("schemesAndBarriers")
    @SuppressWarnings("try") // the holder's guard is open for the block; the block does not use it
    void aBacklogShrinksWhileRetiresGoOn(String scheme, Options.Barrier barrier) {
        int backlog = 200_000;
        int after = 100_000;
        AtomicLong ran = new AtomicLong();
        Consumer<Object> count = o -> ran.incrementAndGet();
        try (Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier))) {
            try (GuardHolder holder = GuardHolder.open(r)) {
                for (int i = 0; i < backlog; i++) {
                    try (Guard g = r.enter()) {
                        g.retire(new Object(), count);
                    }
                }
                assertTrue(r.stats().pending() >= backlog - 1_000, scheme + ": the open guard did not hold the backlog: "
                        + r.stats().pending() + " pending");
            }
            long most = 0;
            for (int i = 0; i < after; i++) {
                long before = ran.get();
                try (Guard g = r.enter()) {
                    g.retire(new Object(), count);
                }
                most = Math.max(most, ran.get() - before);
            }
            long pending = r.stats().pending();
            assertTrue(pending < 20_000, scheme + " under " + barrier + ": " + pending + " objects still pending after "
                    + after + " more retires (a backlog of " + backlog + ")");
            // What one operation runs: the backlog's share, a seal's trickle and a batch more at most.
            int bag = ReclaimerHandle.coreOf(r).batchSize();
            long bound = ((long) backlog / bag / ClockPolicy.BACKLOG_SHARE + Reclamation.TRICKLE_MOST + 4) * bag;
            assertTrue(most <= bound, scheme + " under " + barrier + ": one operation ran " + most + " actions (bound " + bound + ")");
        }
    }
}
