package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Stats;
import reclaim.tck.Fixtures.Node;

/**
 * Reclaim actions on an executor ({@link Options#withActionExecutor}): readers and writers hand the actions off
 * instead of running them; each action still runs exactly once, also when the executor refuses tasks, runs them
 * late or never; a failing action is contained; {@code flush()} and {@code close()} return only once what was
 * handed off has run, and {@code close()} refuses while an action is still running on the executor.
 */
interface ActionExecutorConformance extends SchemeUnderTest {

    /**
     * With an executor, neither the readers (closing guards) nor the writer (retiring, collecting) runs an action:
     * every action that runs before the final flush runs on the executor's thread.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void withAnExecutorActionsRunOnlyOnTheExecutor() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-actions"));
        Set<Thread> ranOn = ConcurrentHashMap.newKeySet();
        int n = 20_000;
        AtomicIntegerArray runs = new AtomicIntegerArray(n + 1);
        Reclaimer r = reclaimerWith(Options.DEFAULT.withActionExecutor(pool));
        try {
            AtomicReference<Node> head = new AtomicReference<>(new Node(0));
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                readers.add(start("reader-" + t, () -> {
                    while (!stop.get()) {
                        try (Guard g = r.enter()) {
                            assertFalse(g.protect(head).reclaimed, "a protected node was reclaimed");
                        }
                    }
                }, errors));
            }
            Consumer<Node> action = x -> {
                ranOn.add(Thread.currentThread());
                runs.incrementAndGet((int) x.value);
                x.reclaim();
            };
            try {
                for (int i = 1; i <= n; i++) {
                    try (Guard g = r.enter()) {
                        Node old = g.protect(head);
                        head.set(new Node(i));
                        g.retire(old, action);
                    }
                }
            } finally {
                stop.set(true);
            }
            join(readers);
            assertNoErrors(errors);
            Set<Thread> before = Set.copyOf(ranOn);
            for (Thread t : before) {
                assertEquals("test-actions", t.getName(), "an action ran on " + t.getName() + " instead of the executor");
            }
            r.flush();
            r.close();
            assertEquals(r.stats().retired(), r.stats().reclaimed());
            for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "the action of node " + i + " ran " + runs.get(i) + " times");
        } finally {
            if (!r.isClosed()) r.close();
            pool.shutdownNow();
        }
    }

    /**
     * An executor that holds its tasks and never runs them: flush() runs what was handed off before it returns, and
     * running the held tasks afterwards runs nothing twice.
     */
    @Test
    default void flushRunsWhatWasHandedOffBeforeItReturns() {
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only at close");
        List<Runnable> held = new ArrayList<>();
        AtomicInteger ran = new AtomicInteger();
        int n = 1_000;
        try (Reclaimer r = reclaimerWith(Options.DEFAULT.withActionExecutor(held::add))) {
            for (int i = 0; i < n; i++) r.retire(new Node(i), x -> ran.incrementAndGet());
            r.flush();
            assertEquals(n, ran.get(), "flush() returned before the actions it handed off had run");
            assertEquals(0, r.stats().pending());
            List.copyOf(held).forEach(Runnable::run);
            assertEquals(n, ran.get(), "a held task ran an action a second time");
        }
        assertEquals(n, ran.get());
    }

    /**
     * An executor that holds its tasks and never runs them, and an object retired inside a guard that stays open:
     * the refreshes and flushes inside the guard hand its batch off, and a flush runs it on this thread, since the
     * executor has not started it.
     */
    @Test
    default void aFlushInsideAGuardRunsTheHandedOffBatchesNotStartedYet() {
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only at close");
        List<Runnable> held = new ArrayList<>();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        try (Reclaimer r = reclaimerWith(Options.DEFAULT.withActionExecutor(held::add))) {
            Node a = new Node(1);
            AtomicReference<Node> head = new AtomicReference<>(a);
            try (Guard g = r.enter()) {
                Node n = g.protect(head);
                head.set(new Node(2));
                g.retire(n, x -> {
                    ranOn.set(Thread.currentThread());
                    x.reclaim();
                });
                int rounds = 0;
                while (!a.reclaimed && rounds < 10) {
                    assertTrue(g.refresh());
                    r.flush();
                    rounds++;
                }
                assertTrue(a.reclaimed, "still not reclaimed after " + rounds + " refreshes and flushes inside the guard");
                assertFalse(held.isEmpty(), "the batch was not handed to the executor");
                assertEquals(Thread.currentThread(), ranOn.get(), "the action did not run in the flush");
            }
            List.copyOf(held).forEach(Runnable::run);
            assertEquals(1, a.actions.get(), "a held task ran the action a second time");
        }
    }

    /**
     * A flush inside a guard does not wait for an action the executor is running (which may itself wait for a grace
     * period that the guard holds back): the executor starts each task on a thread of its own and returns from
     * {@code execute} only once the action has started (or the task ended: a collection handed off, which hands the
     * batch off in turn), so that the batch is running when the handing thread's flush looks at it; the action then waits until the test releases it after that flush. It ends on the
     * executor's thread while the guard stays open.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aFlushInsideAGuardDoesNotWaitForAnActionTheExecutorIsRunning() throws Exception {
        assumeTrue(reclaimsEarly(), "the leak baseline runs no action before close");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> runners = new CopyOnWriteArrayList<>();
        Executor startsAndWaits = task -> {
            CountDownLatch ended = new CountDownLatch(1);
            runners.add(start("test-actions-" + runners.size(), () -> {
                try {
                    task.run();
                } finally {
                    ended.countDown();
                }
            }, errors));
            // Returns once the task is under way on its thread (so that no flush of the handing thread claims it): the
            // action started, or the task ended (a task of another batch, or a collection, which hands the batch off).
            Fixtures.awaitCondition("the task to start", () -> started.getCount() == 0 || ended.getCount() == 0, errors);
        };
        Reclaimer r = reclaimerWith(Options.DEFAULT.withActionExecutor(startsAndWaits));
        try {
            Node a = new Node(1);
            AtomicReference<Node> head = new AtomicReference<>(a);
            try (Guard g = r.enter()) {
                Node n = g.protect(head);
                head.set(new Node(2));
                g.retire(n, x -> {
                    started.countDown();
                    try {
                        if (!release.await(60, TimeUnit.SECONDS)) errors.add(new AssertionError("never released"));
                    } catch (InterruptedException e) {
                        errors.add(e);
                    }
                    x.reclaim();
                    finished.countDown();
                });
                int rounds = 0;
                while (started.getCount() > 0 && rounds < 10) {
                    assertTrue(g.refresh());
                    r.flush(); // inside the guard: waits for no running action, or it would wait for the release below
                    rounds++;
                }
                assertEquals(0, started.getCount(), "the batch was not handed off after " + rounds + " refreshes and flushes");
                r.flush();
                assertFalse(a.reclaimed, "the action ended before it was released");
                release.countDown();
                Fixtures.await(finished);
                assertTrue(a.reclaimed);
                assertEquals(2, g.protect(head).value, "the guard still reads");
            }
            join(runners);
            assertNoErrors(errors);
            r.close();
            assertEquals(1, a.actions.get(), "the action ran " + a.actions.get() + " times");
        } finally {
            release.countDown();
            if (!r.isClosed()) r.close();
        }
    }

    /**
     * An executor that holds its tasks and never runs them: close() runs everything, each action once, and the held
     * tasks run after close() run nothing.
     */
    @Test
    default void closeRunsWhatWasHandedOffBeforeItReturns() {
        List<Runnable> held = new ArrayList<>();
        int n = 5_000;
        AtomicIntegerArray runs = new AtomicIntegerArray(n);
        Reclaimer r = reclaimerWith(Options.DEFAULT.withActionExecutor(held::add));
        AtomicReference<Node> head = new AtomicReference<>(new Node(-1));
        for (int i = 0; i < n; i++) {
            if ((i & 1) == 0) {
                r.retire(new Node(i), x -> runs.incrementAndGet((int) x.value));
            } else {
                try (Guard g = r.enter()) {
                    g.protect(head);
                    g.retire(new Node(i), x -> runs.incrementAndGet((int) x.value));
                }
            }
        }
        r.close();
        Stats s = r.stats();
        assertEquals(n, s.retired());
        assertEquals(n, s.reclaimed(), "close() returned before everything handed off had run: " + s);
        List.copyOf(held).forEach(Runnable::run);
        for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "the action of object " + i + " ran " + runs.get(i) + " times");
    }

    /**
     * An executor that refuses every task, and one that refuses every other: the refused batches run on the handing
     * thread, and every action still runs exactly once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aRefusingExecutorStillRunsEveryActionOnce() throws Exception {
        Executor refuseAll = task -> {
            throw new RejectedExecutionException("refused by the test");
        };
        exactlyOnceWith(refuseAll);
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-actions"));
        try {
            AtomicInteger calls = new AtomicInteger();
            exactlyOnceWith(task -> {
                if ((calls.incrementAndGet() & 1) == 0) throw new RejectedExecutionException("refused by the test");
                pool.execute(task);
            });
        } finally {
            pool.shutdownNow();
        }
    }

    /** An action that throws on the executor is counted in Stats.failed() and stops no other action. */
    @Test
    default void aThrowingActionOnTheExecutorIsContained() {
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-actions"));
        AtomicInteger ran = new AtomicInteger();
        int n = 2_000;
        Reclaimer r = reclaimerWith(Options.DEFAULT.withActionExecutor(pool));
        try {
            for (int i = 0; i < n; i++) {
                r.retire(new Node(i), x -> {
                    ran.incrementAndGet();
                    if ((x.value & 1) == 0) throw new IllegalStateException("action failure injected by the test");
                });
            }
            r.close();
            assertEquals(n, ran.get());
            assertEquals(n / 2, r.stats().failed());
            assertEquals(n, r.stats().reclaimed());
        } finally {
            if (!r.isClosed()) r.close();
            pool.shutdownNow();
        }
    }

    /**
     * close() does not return while an action runs on the executor: it refuses, and completes once the action ended.
     * The first action to run blocks the executor's thread on a latch; the writer retires until it started (bounded).
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void closeDoesNotReturnWhileAnActionRunsOnTheExecutor() throws Exception {
        assumeTrue(reclaimsEarly(), "the leak baseline runs no action before close");
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-actions"));
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        AtomicBoolean finished = new AtomicBoolean();
        AtomicInteger ran = new AtomicInteger();
        Reclaimer r = reclaimerWith(Options.DEFAULT.withActionExecutor(pool));
        try {
            Consumer<Node> action = x -> {
                ran.incrementAndGet();
                if (first.compareAndSet(true, false)) {
                    started.countDown();
                    try {
                        if (!release.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    finished.set(true);
                }
            };
            int retired = 0;
            AtomicReference<Node> head = new AtomicReference<>(new Node(0));
            while (started.getCount() > 0) {
                assertTrue(retired < 2_000_000, "no action started on the executor after " + retired + " retires");
                try (Guard g = r.enter()) {
                    Node old = g.protect(head);
                    head.set(new Node(++retired));
                    g.retire(old, action);
                }
            }
            assertThrows(IllegalStateException.class, r::close, "close() returned while an action ran on the executor");
            assertFalse(finished.get(), "the blocked action finished before it was released");
            release.countDown();
            r.close(); // the action may still be finishing: close() waits for it within its moment
            assertTrue(finished.get(), "close() returned before the running action finished");
            assertEquals(retired, ran.get(), "every action ran exactly once");
            assertEquals(r.stats().retired(), r.stats().reclaimed());
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    /**
     * Actions on the executor may wait for a grace period, while a registered thread keeps retiring and flushes
     * (flush() waits for the actions the executor is running; under QSBR the registered flusher is quiescent while it
     * waits, or the two would wait for each other). Every action runs once and none is refused.
     *
     * @throws Exception if a join or a thread of the test fails
     */
    @Test
    default void anActionOnTheExecutorMayWaitForAGracePeriodWhileARegisteredThreadFlushes() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-actions"));
        AtomicInteger ran = new AtomicInteger();
        int n = 500;
        Reclaimer r = reclaimerWith(Options.DEFAULT.withActionExecutor(pool));
        try {
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            Consumer<Node> action = x -> {
                r.synchronize();
                ran.incrementAndGet();
            };
            Thread flusher = start("registered-flusher", () -> {
                try (Registration reg = r.register()) {
                    for (int i = 0; i < n; i++) {
                        try (Guard g = reg.enter()) {
                            g.retire(new Node(i), action);
                        }
                        if (i % 50 == 49) r.flush();
                    }
                    r.flush();
                }
            }, errors);
            join(List.of(flusher));
            assertNoErrors(errors);
            if (reclaimsEarly()) assertEquals(n, ran.get(), "flush() returned before the actions had run");
            r.close();
            assertEquals(n, ran.get());
            assertEquals(0, r.stats().failed(), "an action's synchronize() was refused or failed");
        } finally {
            if (!r.isClosed()) r.close();
            pool.shutdownNow();
        }
    }

    /**
     * {@link Options#withActionThread()}: actions run on the shared daemon thread named
     * {@value Options#ACTION_THREAD_NAME} (some may run on the retiring thread, when the thread's queue is full).
     */
    @Test
    default void theSharedActionThreadIsADaemonThread() {
        assumeTrue(reclaimsEarly(), "the leak baseline runs no action before close");
        CountDownLatch seen = new CountDownLatch(1);
        AtomicReference<Thread> on = new AtomicReference<>();
        try (Reclaimer r = reclaimerWith(Options.DEFAULT.withActionThread())) {
            int retired = 0;
            while (seen.getCount() > 0) {
                assertTrue(retired++ < 2_000_000, "no action ran on the action thread after " + retired + " retires");
                r.retire(new Node(retired), x -> {
                    // Not every action: a full queue refuses, and the retiring thread runs the batch itself.
                    Thread t = Thread.currentThread();
                    if (t.getName().equals(Options.ACTION_THREAD_NAME) && on.compareAndSet(null, t)) seen.countDown();
                });
            }
        }
        assertTrue(on.get().isDaemon(), "the action thread is not a daemon thread");
    }

    /** Retires through guards and outside them with {@code executor}, then checks every action ran once. */
    private void exactlyOnceWith(Executor executor) {
        int n = 5_000;
        AtomicIntegerArray runs = new AtomicIntegerArray(n);
        AtomicReference<Node> head = new AtomicReference<>(new Node(-1));
        Reclaimer r = reclaimerWith(Options.DEFAULT.withActionExecutor(executor));
        try {
            for (int i = 0; i < n; i++) {
                Node fresh = new Node(i);
                try (Guard g = r.enter()) {
                    Node old = g.protect(head);
                    head.set(fresh);
                    if (old.value >= 0) g.retire(old, x -> runs.incrementAndGet((int) x.value));
                }
            }
            r.flush();
            Node last = head.getAndSet(new Node(-2));
            r.retire(last, x -> runs.incrementAndGet((int) x.value));
            r.close();
            assertEquals(r.stats().retired(), r.stats().reclaimed());
        } finally {
            if (!r.isClosed()) r.close();
        }
        for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "the action of node " + i + " ran " + runs.get(i) + " times");
    }
}
