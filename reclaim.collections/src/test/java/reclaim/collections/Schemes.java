package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/** Test helpers: the schemes to run every test under, and the checks every test ends with. */
final class Schemes {
    private Schemes() {
    }

    /**
     * Every scheme the providers on the module path offer (later schemes join the tests by themselves), and
     * {@code crystalline-w}, the wait-free variant that {@link Reclaimer#availableSchemes()} leaves out, where
     * Crystalline is offered.
     */
    static Stream<String> names() {
        Stream<String> listed = Reclaimer.availableSchemes().stream();
        return Reclaimer.availableSchemes().contains("crystalline")
                ? Stream.concat(listed, Stream.of("crystalline-w")) : listed;
    }

    /** Whether the scheme reclaims before close (the {@code none} baseline does not). */
    static boolean reclaimsEarly(String scheme) {
        return !scheme.equals("none");
    }

    /**
     * Runs {@code task} on a new thread and returns its result; rethrows an {@code Error} it threw (an assertion's),
     * and fails if it threw anything else or did not finish within 30 s.
     */
    static <T> T onAnotherThread(java.util.function.Supplier<T> task) {
        java.util.concurrent.CompletableFuture<T> f = new java.util.concurrent.CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(task.get());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "other");
        t.setDaemon(true);
        t.start();
        try {
            return f.get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Error err) throw err;
            throw new AssertionError("the other thread failed", e.getCause());
        } catch (Exception e) {
            throw new AssertionError("the other thread did not finish", e);
        }
    }

    /** How long a churner goes on past its rounds while the watcher beside it still waits for what it must see. */
    static final Duration CHURN_EXTENSION = Duration.ofSeconds(30);

    /**
     * Whether a churner goes on after round {@code i}: always for its first {@code rounds} rounds, then while
     * {@code wanted} holds (the watcher has not yet seen what the test needs, e.g. a recycled node) and
     * {@link #CHURN_EXTENSION} has not passed since {@code startNanos}. Past its rounds it yields every 256 rounds, so
     * that a watcher preempted on a loaded machine gets a core (a cap on rounds alone let two churners finish their
     * extra rounds while the watcher never ran, and the check passed vacuously or failed as "never checked").
     */
    static boolean churnOn(int i, int rounds, long startNanos, java.util.function.BooleanSupplier wanted) {
        if (i < rounds) return true;
        if (!wanted.getAsBoolean()) return false;
        if ((i & 255) == 0) Thread.yield();
        return System.nanoTime() - startNanos < CHURN_EXTENSION.toNanos();
    }

    /** Closes the reclaimer and checks that everything retired was reclaimed, once. Returns the final stats. */
    static Stats closeAndCheck(Reclaimer r) {
        r.close();
        Stats s = r.stats();
        assertEquals(s.retired(), s.reclaimed(), () -> "after close, retired != reclaimed: " + s);
        assertEquals(0, s.pending(), () -> "after close, pending != 0: " + s);
        assertEquals(0, s.failed(), () -> "a reclaim action threw: " + s);
        return s;
    }

    /**
     * Runs the tasks on their own threads, released together by a latch, and waits for all of them; rethrows
     * the first failure (others suppressed). Fails if a thread is still running after {@code limit}.
     */
    static void runConcurrently(Duration limit, List<? extends ThrowingRunnable> tasks) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        int i = 0;
        for (ThrowingRunnable task : tasks) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    task.run();
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "worker-" + i++);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        start.countDown();
        // The limit must have passed on both clocks before the run is declared stuck: a VM paused or migrated under
        // the test can move one clock far ahead, and a join that returns early is joined again (a join once returned
        // with its thread alive half a second into a one-minute limit).
        long startNanos = System.nanoTime();
        long startMillis = System.currentTimeMillis();
        for (Thread t : threads) {
            while (t.isAlive()) {
                long leftNanos = limit.toNanos() - (System.nanoTime() - startNanos);
                long leftMillis = limit.toMillis() - (System.currentTimeMillis() - startMillis);
                if (leftNanos <= 0 && leftMillis <= 0) {
                    for (Thread u : threads) u.interrupt();
                    fail(t.getName() + " still running after " + limit + "; failures so far: " + failures);
                }
                long waitMillis = Math.max(leftMillis, leftNanos / 1_000_000);
                t.join(Duration.ofMillis(Math.clamp(waitMillis, 1, 1_000)));
            }
        }
        if (!failures.isEmpty()) {
            Throwable first = failures.poll();
            for (Throwable other : failures) first.addSuppressed(other);
            if (first instanceof Error e) throw e;
            if (first instanceof RuntimeException e) throw e;
            throw new AssertionError(first);
        }
        assertFalse(threads.stream().anyMatch(Thread::isAlive));
    }

    /** A task that may throw. */
    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
