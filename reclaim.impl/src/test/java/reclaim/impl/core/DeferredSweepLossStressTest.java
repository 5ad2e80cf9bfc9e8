package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * The real-Hyaline form of {@link DeferredSweepCloseTest}, where the swept batches are lost for good: a thread's
 * first {@code enter()} passes pinSlow's OPEN check, its lease sweeps the participant of a thread that ended inside
 * its guard (the slot's list goes to {@code g.deferred}) and frees it; a concurrent
 * {@code close()}, which was spinning on that participant while the sweep held it BUSY, takes it before the
 * leaser's CAS; the leaser finds nothing free, {@code append} sees the core closing and throws, and
 * {@code g.deferred} is never walked. close() completes (nothing in flight, every participant CLOSED) with
 * retired != reclaimed, and no later call can reclaim the batch.
 *
 * <p>A race, not a deterministic test: the batch size is large so that the sweep's seal (which allocates the next
 * bag) keeps the participant BUSY long enough for close() to arrive and spin on it; the closer's start is
 * jittered. It stops at the first iteration that loses objects, or whose entering thread finds swept work still in
 * its guard after {@code enter()} threw. Any throwable on the worker threads fails the test too (collected and
 * asserted after they are joined), so a broken probe cannot pass unnoticed.
 */
class DeferredSweepLossStressTest {

    private static final int BATCH = 1 << 15;

    @Test
    void anEnterRacingCloseDoesNotLoseWhatItsLeaseSwept() throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int iterations = 0;
        int refused = 0;
        AtomicInteger entersRefused = new AtomicInteger(); // iterations that reached the race's path
        while (System.nanoTime() - end < 0 && iterations < 1000) {
            iterations++;
            Reclaimer r = Reclaimer.create(new Scheme.Hyaline(BATCH, false));
            AtomicInteger ran = new AtomicInteger();
            Consumer<Object> count = o -> ran.incrementAndGet();
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            Thread ends = new Thread(collecting(failures, () -> {
                Guard g = r.enter(); // never closed
                for (int i = 0; i <= BATCH; i++) g.retire(new Object(), count); // a full bag in its slot, one in its bag
            }), "ends-inside-a-guard");
            ends.start();
            ends.join();
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger strandedInDeferred = new AtomicInteger();
            Thread leaser = new Thread(collecting(failures, () -> {
                await(go);
                try {
                    r.enter().close();
                } catch (IllegalStateException closed) {
                    entersRefused.incrementAndGet();
                    // the reclaimer is closing; did our lease leave swept work behind?
                    ThreadGuard g = guardOf(r);
                    if (g.deferred != null) strandedInDeferred.set(g.deferred.size());
                }
            }), "enters");
            leaser.start();
            int jitter = ThreadLocalRandom.current().nextInt(20_000);
            go.countDown();
            for (int i = 0; i < jitter; i++) Thread.onSpinWait();
            try {
                r.close();
            } catch (IllegalStateException e) {
                refused++;
            }
            leaser.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(leaser.isAlive(), "the entering thread hung");
            assertNoFailures(failures, iterations);
            assertEquals(0, strandedInDeferred.get(), "iteration " + iterations
                    + ": lists a sweep detached were left in the entering thread's ThreadGuard.deferred after enter() threw");
            if (!r.isClosed()) {
                try {
                    r.close(); // every thread has ended: nothing may hold it back now
                } catch (IllegalStateException stillRunning) {
                    throw new AssertionError("iteration " + iterations + ": close() refused with every other thread"
                            + " ended (work a sweep counted in flight was never walked?): " + r.stats(), stillRunning);
                }
            }
            Stats s = r.stats();
            assertEquals(BATCH + 1, ran.get(), "iteration " + iterations + ": actions lost after close(): " + s
                    + "; lists stranded in the entering thread's ThreadGuard.deferred after enter() threw: "
                    + strandedInDeferred.get());
            assertEquals(s.retired(), s.reclaimed(), s.toString());
        }
        System.out.println("no loss in " + iterations + " iterations (" + refused + " close() refused, "
                + entersRefused.get() + " enter() refused)");
    }

    /** The calling thread's guard of {@code r}: {@link GuardLookup#guard()}, which every reclaimer of this package extends. */
    private static ThreadGuard guardOf(Reclaimer r) {
        return ((ReclaimerHandle) r).guard();
    }

    /** Runs {@code body}, adding whatever it throws to {@code failures} (a worker's failure fails the test). */
    private static Runnable collecting(Queue<Throwable> failures, Runnable body) {
        return () -> {
            try {
                body.run();
            } catch (Throwable t) {
                failures.add(t);
            }
        };
    }

    private static void assertNoFailures(Queue<Throwable> failures, int iteration) {
        if (failures.isEmpty()) return;
        AssertionError e = new AssertionError("iteration " + iteration + ": " + failures.size()
                + " worker thread(s) failed; the first is the cause");
        e.initCause(failures.peek());
        failures.stream().skip(1).forEach(e::addSuppressed);
        throw e;
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) throw new AssertionError("timed out");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
