package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * {@link Reclaimer#synchronize(Duration)}: "A timeout that is zero or negative checks once, without waiting." A
 * negative timeout, with a guard open on another thread, must return {@code false} at once, as a zero one does,
 * under every scheme.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NegativeGracePeriodTimeoutTest {

    static Stream<String> schemes() {
        List<String> names = new ArrayList<>(Reclaimer.availableSchemes());
        names.add("crystalline-w");
        return names.stream();
    }

    /**
     * A negative timeout checks once and returns false while a guard of the call's moment is still open.
     *
     * @throws Exception if a wait or the other thread fails
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aNegativeTimeoutChecksOnceWithoutWaiting(String name) throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.FENCE));
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().name("holder").start(() -> {
            try (Guard g = r.enter()) {
                inside.countDown();
                leave.await();
                assertTrue(g.slots() > 0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertTrue(inside.await(60, TimeUnit.SECONDS));
            for (Duration timeout : List.of(Duration.ofNanos(-1), Duration.ofSeconds(-1))) {
                CompletableFuture<Boolean> passed = CompletableFuture.supplyAsync(() -> r.synchronize(timeout));
                Boolean result;
                try {
                    result = passed.get(5, TimeUnit.SECONDS);
                } catch (TimeoutException stillWaiting) {
                    leave.countDown(); // let the waiting call return before the test fails
                    passed.get(60, TimeUnit.SECONDS);
                    throw new AssertionError("synchronize(" + timeout + ") with a guard open on another thread was still"
                            + " waiting after 5 s; promised: a negative timeout checks once, without waiting");
                }
                assertEquals(Boolean.FALSE, result, "synchronize(" + timeout + ") with a guard open");
            }
        } finally {
            leave.countDown();
            holder.join();
            r.close();
        }
    }
}
