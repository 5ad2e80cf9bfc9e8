package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.tck.Fixtures.assertNoErrors;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Registration;

/**
 * Threads whose thread locals are cleared while they live: a {@link ForkJoinWorkerThread} made with
 * {@code preserveThreadLocals = false} loses them whenever it runs out of work, and the common pool's workers do
 * the same. Such a thread stays what it was: a registered thread is still registered (its registration works,
 * and a second {@code register()} is refused as on any registered thread), and the reclaimer keeps no more
 * thread records after many resets than after the first.
 */
interface ThreadLocalResetConformance extends SchemeUnderTest {

    /**
     * A registered pool worker keeps its registration, and its one record, across resets of its thread locals.
     *
     * @throws Exception if a task of the pool fails or a wait times out
     */
    @Test
    default void aRegisteredWorkerStaysRegisteredAcrossThreadLocalResets() throws Exception {
        ConcurrentLinkedQueue<Thread> workers = new ConcurrentLinkedQueue<>();
        ForkJoinPool pool = new ForkJoinPool(1, p -> {
            ForkJoinWorkerThread w = new ForkJoinWorkerThread(null, p, false) {};
            workers.add(w);
            return w;
        }, null, false);
        ThreadLocal<Object> marker = new ThreadLocal<>(); // gone after a reset: each task checks that one happened
        AtomicReference<Registration> kept = new AtomicReference<>(); // kept where a reset does not reach
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        int rounds = 20;
        try {
            run(pool, errors, () -> {
                kept.set(reclaimer().register());
                marker.set(this);
                try (Guard g = kept.get().enter()) {
                    g.retire("first", x -> ran.incrementAndGet());
                }
                kept.get().offline();
            });
            awaitParked(workers);
            int participants = reclaimer().stats().participants();
            for (int i = 0; i < rounds; i++) {
                run(pool, errors, () -> {
                    assertNull(marker.get(), "the worker's thread locals were not reset since its last task");
                    marker.set(this);
                    assertThrows(IllegalStateException.class, reclaimer()::register,
                            "register() on a thread still registered (its thread locals were reset)");
                    Registration reg = kept.get();
                    try (Guard g = reg.enter()) {
                        g.retire("round", x -> ran.incrementAndGet());
                    }
                    try (Guard g = reclaimer().enter()) {
                        g.retire("round", x -> ran.incrementAndGet());
                    }
                    reg.quiescent();
                    reg.offline();
                });
                awaitParked(workers);
            }
            assertNoErrors(errors);
            assertEquals(participants, reclaimer().stats().participants(),
                    "thread records after " + rounds + " resets of the one worker's thread locals: " + reclaimer().stats());
            run(pool, errors, () -> kept.get().close());
            assertNoErrors(errors);
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS), "the pool did not end");
        }
        reclaimer().close();
        assertEquals(1 + 2 * rounds, ran.get(), "every object retired across the resets was reclaimed once");
    }

    /** Runs {@code body} on the pool and waits for it; what it throws goes to {@code errors}. */
    private static void run(ForkJoinPool pool, ConcurrentLinkedQueue<Throwable> errors, Fixtures.ThrowingRunnable body)
            throws Exception {
        pool.submit(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                errors.add(e);
            }
        }).get(60, TimeUnit.SECONDS);
    }

    /**
     * Waits until every worker is parked: a worker clears its thread locals before it parks, so a parked worker has
     * lost them since its last task.
     */
    private static void awaitParked(ConcurrentLinkedQueue<Thread> workers) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!workers.stream().allMatch(w -> !w.isAlive()
                || w.getState() == Thread.State.WAITING || w.getState() == Thread.State.TIMED_WAITING)) {
            assertTrue(System.nanoTime() - deadline < 0, "the pool's worker did not go idle within 60 s");
            Thread.onSpinWait();
        }
    }
}
