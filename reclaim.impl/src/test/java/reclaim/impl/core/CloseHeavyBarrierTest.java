package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * Under the asymmetric barrier, {@code close()} of a reclaimer that many live threads used runs one heavy barrier for
 * all the participants those threads hold between guards, not one each: each owner may be adding to its bag without
 * taking it, which the closer rules out after a heavy barrier, and one barrier serves every participant taken before
 * it. What their bags held is reclaimed all the same.
 */
class CloseHeavyBarrierTest {
    private static final int THREADS = 8;

    static Stream<String> schemes() {
        return Stream.of("qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w")
                .filter(s -> Membarrier.unavailableReason() == null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void closeRunsOneHeavyBarrierForTheParticipantsOfIdleLiveThreads(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC));
        Core core = ReclaimerHandle.coreOf(r);
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch ready = new CountDownLatch(THREADS);
        CountDownLatch end = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            Thread t = new Thread(() -> {
                try (Guard g = r.enter()) {
                    g.retire(new Object(), o -> ran.incrementAndGet()); // waits in this thread's bag
                }
                r.retire(new Object(), o -> ran.incrementAndGet()); // outside a guard: the bag word's path
                ready.countDown();
                try {
                    end.await(); // alive, between guards, holding its participant
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "idle-" + i);
            t.start();
            threads.add(t);
        }
        try {
            assertTrue(ready.await(30, TimeUnit.SECONDS));
            assertEquals(0, ran.get(), "nothing was due before close()");
            long before = core.heavyBarriers();
            r.close();
            long heavies = core.heavyBarriers() - before;
            // One shared by the idle participants, one before close() reads the open flags of those it closed.
            assertTrue(heavies <= 2, scheme + ": close() ran " + heavies + " heavy barriers for " + THREADS + " idle threads");
            assertEquals(2 * THREADS, ran.get(), scheme + ": what the idle threads' bags held");
            Stats s = r.stats();
            assertEquals(s.retired(), s.reclaimed(), scheme + ": " + s);
        } finally {
            end.countDown();
            for (Thread t : threads) t.join();
        }
    }
}
