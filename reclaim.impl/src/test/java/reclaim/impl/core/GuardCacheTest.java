package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;

/**
 * The guard cache in front of the thread local ({@code Core.guard()}): threads whose ids share a
 * cache slot each get their own guard, a slot left by a thread that ended is taken over, and many threads
 * entering at once (more than the cache holds) never see another thread's guard; a thread that ended keeps nothing
 * reachable through the cache (its thread, what its task captured, what its guard protected, the arrays its guard
 * last used).
 */
class GuardCacheTest {
    /** Every built-in scheme: they all share the skeleton, and with it the cache. */
    static Stream<String> schemes() {
        return Stream.of("qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w", "none");
    }

    private static final int SLOTS = 256; // GuardLookup.SIZE

    /** Creates (unstarted) threads until one's id shares {@code id}'s cache slot; ids are given at construction. */
    private static Thread colliding(long id, Runnable body) {
        for (int i = 0; i < 100 * SLOTS; i++) {
            Thread t = Thread.ofPlatform().unstarted(body);
            if ((t.threadId() & (SLOTS - 1)) == (id & (SLOTS - 1))) return t;
        }
        throw new AssertionError("no thread id collided with " + id);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void threadsSharingACacheSlotGetTheirOwnGuards(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicReference<Guard> first = new AtomicReference<>();
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread a = Thread.ofPlatform().unstarted(() -> run(errors, () -> {
            try (Guard g = r.enter()) { // cached in the slot
                first.set(g);
                holding.countDown();
                assertTrue(release.await(60, TimeUnit.SECONDS));
                try (Guard nested = r.enter()) {
                    assertSame(g, nested, "a nested enter() found another guard");
                }
                g.retire("a", x -> ran.incrementAndGet());
            }
        }));
        a.start();
        assertTrue(holding.await(60, TimeUnit.SECONDS));
        Thread b = colliding(a.threadId(), () -> run(errors, () -> {
            for (int i = 0; i < 3; i++) { // the slot is A's (alive): B goes through the thread local each time
                try (Guard g = r.enter()) {
                    assertNotSame(first.get(), g, "the thread sharing A's slot was given A's guard");
                    try (Guard nested = r.enter()) {
                        assertSame(g, nested);
                    }
                    g.retire("b", x -> ran.incrementAndGet());
                }
            }
        }));
        b.start();
        b.join();
        release.countDown();
        a.join();
        Thread c = colliding(a.threadId(), () -> run(errors, () -> { // A ended: C takes its slot over
            for (int i = 0; i < 3; i++) {
                try (Guard g = r.enter()) {
                    assertNotSame(first.get(), g, "a thread was given the guard of the thread that ended");
                    g.retire("c", x -> ran.incrementAndGet());
                }
            }
        }));
        c.start();
        c.join();
        if (!errors.isEmpty()) throw new AssertionError(errors.peek());
        r.close();
        assertEquals(7, ran.get());
        assertEquals(7, r.stats().reclaimed());
    }

    /** More threads than cache slots enter, nest and retire at once: each only ever holds its own guard. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void moreThreadsThanSlotsNeverShareAGuard(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        int threads = SLOTS + 64;
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            ts.add(Thread.ofPlatform().start(() -> run(errors, () -> {
                assertTrue(start.await(60, TimeUnit.SECONDS));
                Guard mine = null;
                for (int i = 0; i < 50; i++) {
                    try (Guard g = r.enter()) {
                        if (mine == null) mine = g;
                        assertSame(mine, g, "enter() returned another guard than this thread's");
                        try (Guard nested = r.enter()) {
                            assertSame(g, nested);
                        }
                        g.retire(i, x -> ran.incrementAndGet());
                    } // close() checks the owner: another thread's guard would throw here
                }
            })));
        }
        start.countDown();
        for (Thread t : ts) t.join();
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " thread(s) failed: " + errors.peek());
            errors.forEach(e::addSuppressed);
            throw e;
        }
        r.close();
        assertEquals(threads * 50, ran.get());
    }

    /** Every built-in scheme, unchecked and checked (a checked guard remembers what it protected until it closes). */
    static Stream<Arguments> schemesAndChecked() {
        return schemes().flatMap(s -> Stream.of(Arguments.of(s, false), Arguments.of(s, true)));
    }

    /**
     * A thread that ends inside a guard leaves what that guard protected unreachable once a flush has swept its
     * participant: not through its guard (in checked mode that guard still remembers its protects), nor through the
     * cache that found it, nor through the participant (HP's hazard slots are cleared by the sweep).
     */
    @ParameterizedTest(name = "{0} checked={1}")
    @MethodSource("schemesAndChecked")
    void whatAThreadThatEndedInsideAGuardProtectedIsCollectedOnceSwept(String scheme, boolean checked) throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withChecked(checked));
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicReference<Object> cell = new AtomicReference<>(new byte[1 << 20]);
        AtomicReference<WeakReference<Object>> seen = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> run(errors, () -> {
            Guard g = r.enter(); // cached, and never closed: the thread ends inside it
            for (int slot = 0; slot < 2; slot++) g.protect(cell, slot);
            seen.set(new WeakReference<>(g.protect(cell)));
        }));
        t.join();
        if (!errors.isEmpty()) throw new AssertionError(errors.peek());
        cell.set(null); // nothing but the dead thread's guard and participant could still reach the node
        t = null;
        r.flush(); // sweeps the ended thread's participant
        assertCollected(seen.get(), "what a guard of a thread that ended protected");
        r.close();
    }

    /**
     * HP: a thread's guard refers to the slot arrays of the participant it last held. Once the thread ended and its
     * participant was swept, another thread takes that participant and replaces its arrays (a nested guard's first use
     * of a level grows the array; every 2^18 protects renew it), leaving the old array with the hazards it held when
     * copied. That old array must not keep the new thread's nodes reachable through the ended thread's guard.
     */
    @ParameterizedTest(name = "renew={0}")
    @ValueSource(booleans = {false, true})
    void hpArraysReplacedAfterTheirFormerThreadEndedKeepNothingReachable(boolean renew) throws Exception {
        Reclaimer r = Reclaimer.create("hp");
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicReference<Object> cell = new AtomicReference<>();
        Thread first = Thread.ofPlatform().start(() -> run(errors, () -> {
            try (Guard g = r.enter()) { // cached; binds its sticky participant's arrays
                g.protect(cell, 0);
            }
        }));
        first.join();
        first = null;
        r.flush(); // sweeps the first thread's participant: free again
        WeakReference<Object> node = replaceTheArraysOnAnotherThread(r, renew, errors); // the swept participant
        if (!errors.isEmpty()) throw new AssertionError(errors.peek());
        r.flush();
        assertCollected(node, "a node held by a replaced slot array");
        r.close();
    }

    /**
     * On a new thread, under HP: protects a fresh node in slot 0, then makes the participant it took replace its
     * arrays (renewed by 2^18 protects, or grown by a nested guard's first use of a level), then moves slot 0 off the
     * node and lets go of it. The old array still holds the node; nothing else does.
     *
     * @return the node, weakly
     */
    private static WeakReference<Object> replaceTheArraysOnAnotherThread(Reclaimer r, boolean renew,
            ConcurrentLinkedQueue<Throwable> errors) throws InterruptedException {
        AtomicReference<Object> cell = new AtomicReference<>();
        AtomicReference<Object> other = new AtomicReference<>("other");
        AtomicReference<WeakReference<Object>> seen = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> run(errors, () -> {
            Object node = new byte[1 << 20];
            seen.set(new WeakReference<>(node));
            cell.set(node);
            node = null;
            try (Guard g = r.enter()) {
                g.protect(cell, 0);
                if (renew) {
                    for (int i = 0; i < (1 << 18) + 16; i++) g.protect(cell, 0);
                } else {
                    try (Guard nested = r.enter()) {
                        nested.protect(other, 0); // a level of its own: the array grows
                    }
                }
                cell.set(null);
                g.protect(cell, 0); // the current array no longer holds the node
            }
        }));
        t.join();
        return seen.get();
    }

    /**
     * HP: a thread whose registration ended gives its participant back, and its guard must then let go of that
     * participant's arrays: the next holder may grow them (a nested guard's first use of a level), leaving the old
     * array with the hazards it held when copied. Checked while the first thread still lives (its guard is in the
     * cache and in its thread local) and after it ended holding no participant (nothing sweeps it then).
     */
    @ParameterizedTest(name = "firstThreadEnds={0}")
    @ValueSource(booleans = {false, true})
    void hpArraysOfARegistrationThatEndedAreNotKeptByItsThreadsGuard(boolean firstThreadEnds) throws Exception {
        Reclaimer r = Reclaimer.create("hp");
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicReference<Object> cell = new AtomicReference<>();
        CountDownLatch deregistered = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread first = Thread.ofPlatform().start(() -> run(errors, () -> {
            try (Registration reg = r.register(); Guard g = reg.enter()) { // binds the registration's arrays
                g.protect(cell, 0);
            } // the registration ends: its participant is free for the next thread
            deregistered.countDown();
            if (!firstThreadEnds) assertTrue(done.await(60, TimeUnit.SECONDS));
        }));
        assertTrue(deregistered.await(60, TimeUnit.SECONDS));
        if (firstThreadEnds) first.join();
        try {
            WeakReference<Object> node = replaceTheArraysOnAnotherThread(r, false, errors); // the participant given back
            if (!errors.isEmpty()) throw new AssertionError(errors.peek());
            assertCollected(node, "a node held by an array the first thread's guard last bound");
        } finally {
            done.countDown();
            first.join();
        }
        r.close();
    }

    private static void assertCollected(WeakReference<Object> ref, String what) {
        for (int i = 0; i < 50 && ref.get() != null; i++) System.gc();
        assertTrue(ref.get() == null, what + " is still reachable"); // not assertNull: it would print the array
    }

    /**
     * A thread that ended leaves nothing reachable through the cache: not its Thread, nor what its task captured
     * (nor, with them, its context class loader), while the reclaimer lives on.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aThreadThatEndedIsNotKeptReachable(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Object[] captured = {new byte[1 << 20]};
        Thread t = Thread.ofPlatform().unstarted(() -> run(errors, () -> {
            try (Guard g = r.enter()) { // cached
                g.retire(captured[0].toString(), x -> {});
            }
        }));
        java.lang.ref.WeakReference<Thread> thread = new java.lang.ref.WeakReference<>(t);
        java.lang.ref.WeakReference<Object> payload = new java.lang.ref.WeakReference<>(captured[0]);
        t.start();
        t.join();
        if (!errors.isEmpty()) throw new AssertionError(errors.peek());
        t = null;
        captured[0] = null;
        r.flush(); // sweeps the ended thread's record, if it kept one
        for (int i = 0; i < 50 && (thread.get() != null || payload.get() != null); i++) System.gc();
        assertEquals(null, thread.get(), "the ended thread is still reachable");
        assertEquals(null, payload.get(), "what the ended thread's task captured is still reachable");
        try (Guard g = r.enter()) { // the reclaimer lives on, and was reachable all along
            g.retire("x", x -> {});
        }
        r.close();
    }

    /**
     * The common pool's workers lose their thread locals whenever they go idle (JDK 25 resets them after each
     * top-level task) and live on: a worker must find its guard, and with it its record, again instead of
     * taking a new record each time and leaving the old one held by a live thread (the registry would grow
     * with every idle period). Every other round empties the cache, so the workers' next enter goes through their
     * reset thread locals.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void commonPoolWorkersKeepTheirRecordsAcrossThreadLocalResets(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        AtomicInteger ran = new AtomicInteger();
        int rounds = 40;
        for (int i = 0; i < rounds; i++) {
            java.util.concurrent.CompletableFuture.runAsync(() -> {
                try (Guard g = r.enter()) {
                    g.retire("x", x -> ran.incrementAndGet());
                }
            }).get(60, TimeUnit.SECONDS); // the worker goes idle after each task
            if (i % 2 == 1) ((GuardLookup) r).clear(); // a new, empty cache (and this thread's guard dropped)
        }
        int records = ReclaimerHandle.coreOf(r).participants().length;
        int bound = java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() + 2; // the workers and this thread
        assertTrue(records <= bound, records + " records after " + rounds + " common-pool tasks (bound " + bound + ")");
        r.close();
        assertEquals(rounds, ran.get());
    }

    /**
     * A registered pool worker whose thread locals are reset (a ForkJoinPool worker made with
     * {@code preserveThreadLocals = false}, as the common pool's are) still enters through its registration's
     * guard: found through the cache, or, when another live thread holds its cache slot, through the participant
     * it reserved. So a guard that {@code enter()} opens is one the registration sees (the coroutine bridge probes
     * for guards left open through its registration).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aResetRegisteredWorkerEntersThroughItsRegistrationsGuard(String scheme) throws Exception {
        for (boolean slotTaken : new boolean[] {false, true}) {
            Reclaimer r = Reclaimer.create(scheme);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Thread> workers = new ConcurrentLinkedQueue<>();
            ForkJoinPool pool = new ForkJoinPool(1, p -> {
                ForkJoinWorkerThread w = new ForkJoinWorkerThread(null, p, false) {};
                workers.add(w);
                return w;
            }, null, false);
            ThreadLocal<Object> marker = new ThreadLocal<>();
            CountDownLatch release = new CountDownLatch(1);
            Thread squatter = null;
            try {
                long id = pool.submit(() -> Thread.currentThread().threadId()).get(60, TimeUnit.SECONDS);
                if (slotTaken) { // another live thread's guard in the worker's slot: the worker never gets cached
                    CountDownLatch holding = new CountDownLatch(1);
                    squatter = colliding(id, () -> run(errors, () -> {
                        r.enter().close(); // the squatter's guard is cached in the slot, kept by its thread local
                        holding.countDown();
                        assertTrue(release.await(60, TimeUnit.SECONDS));
                    }));
                    squatter.start();
                    assertTrue(holding.await(60, TimeUnit.SECONDS));
                }
                AtomicReference<Registration> kept = new AtomicReference<>();
                pool.submit(() -> {
                    kept.set(r.register());
                    kept.get().offline();
                    marker.set(kept);
                }).get(60, TimeUnit.SECONDS);
                awaitParked(workers);
                String seen = pool.submit(() -> {
                    Registration reg = kept.get();
                    try (Guard g = r.enter(); Guard h = reg.enter()) {
                        return (marker.get() == null ? "reset" : "not reset") + ", " + (g == h ? "same" : "another guard");
                    } finally {
                        reg.offline();
                        reg.close();
                    }
                }).get(60, TimeUnit.SECONDS);
                assertEquals("reset, same", seen, "slot taken: " + slotTaken);
            } finally {
                release.countDown();
                if (squatter != null) squatter.join();
                pool.shutdown();
            }
            if (!errors.isEmpty()) throw new AssertionError(errors.peek());
            r.close();
        }
    }

    /** Waits until every worker is parked: a worker clears its thread locals before it parks. */
    private static void awaitParked(ConcurrentLinkedQueue<Thread> workers) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!workers.stream().allMatch(w -> !w.isAlive()
                || w.getState() == Thread.State.WAITING || w.getState() == Thread.State.TIMED_WAITING)) {
            assertTrue(System.nanoTime() - deadline < 0, "the pool's worker did not go idle within 60 s");
            Thread.onSpinWait();
        }
    }

    /** A test thread's body. */
    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body}, collecting what it throws into {@code errors} (for test threads). */
    static void run(ConcurrentLinkedQueue<Throwable> errors, Body body) {
        try {
            body.run();
        } catch (Throwable e) {
            errors.add(e);
        }
    }
}
