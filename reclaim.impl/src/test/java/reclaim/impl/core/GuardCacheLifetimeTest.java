package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.core.GuardCacheTest.run;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;

/**
 * How long the guard cache keeps what it holds, under every scheme, both barriers and checked mode: a platform thread
 * keeps a participant of its own after its guards (so a thread that ends is found by a sweep, which evicts its guard),
 * a thread that ended holding none keeps nothing reachable, evictions racing installs never hand a thread another
 * thread's guard, a reclaimer dropped without close() is still closed by its cleaner, and a closed core caches nothing.
 */
class GuardCacheLifetimeTest {
    static Stream<String> schemes() {
        return GuardCacheTest.schemes();
    }

    static Stream<Arguments> schemesBarriersChecked() {
        List<Arguments> out = new ArrayList<>();
        schemes().forEach(s -> {
            for (Options.Barrier b : new Options.Barrier[] {Options.Barrier.FENCE, Options.Barrier.ASYMMETRIC}) {
                for (boolean c : new boolean[] {false, true}) out.add(Arguments.of(s, b, c));
            }
        });
        return out.stream();
    }

    private static Reclaimer create(String scheme, Options.Barrier b, boolean checked) {
        try {
            return Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(b).withChecked(checked));
        } catch (IllegalArgumentException e) {
            Assumptions.abort("barrier unavailable: " + e);
            return null;
        }
    }

    /** Every platform thread keeps a participant of its own after a guard, under both barriers: no per-guard lease. */
    @ParameterizedTest(name = "{0} {1} checked={2}")
    @MethodSource("schemesBarriersChecked")
    void platformThreadsHoldAParticipantAfterTheirGuards(String scheme, Options.Barrier b, boolean checked) throws Exception {
        Reclaimer r = create(scheme, b, checked);
        AtomicReference<String> seen = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try (Guard g = r.enter()) {
                g.protect(new AtomicReference<>("x"));
            }
            ThreadGuard g = ((GuardLookup) r).guard();
            seen.set("registered=" + (g.registered != null) + " record=" + (g.record != null));
        });
        t.join();
        assertEquals("registered=true record=true", seen.get());
        r.close();
    }

    /**
     * A thread that registers, protects (fixed, dynamic and nested slots), closes its guard and its registration, and
     * ends holding no participant (nothing sweeps it): nothing it or a later holder of its participant protected is
     * kept reachable by its cached guard. No flush anywhere.
     */
    @ParameterizedTest(name = "{0} {1} checked={2}")
    @MethodSource("schemesBarriersChecked")
    void aDeregisteredThreadThatEndedKeepsNothing(String scheme, Options.Barrier b, boolean checked) throws Exception {
        Reclaimer r = create(scheme, b, checked);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicReference<Object> cell = new AtomicReference<>(new byte[1 << 20]);
        AtomicReference<Object> other = new AtomicReference<>("other");
        WeakReference<Object> firstNode = new WeakReference<>(cell.get());
        Thread first = Thread.ofPlatform().start(() -> run(errors, () -> {
            try (Registration reg = r.register(); Guard g = reg.enter()) {
                g.protect(cell, 0);
                g.protect(cell);
                try (Guard n = r.enter()) {
                    n.protect(cell, 1);
                }
            }
        }));
        first.join();
        first = null;
        cell.set(null);
        AtomicReference<WeakReference<Object>> seen = new AtomicReference<>();
        Thread second = Thread.ofPlatform().start(() -> run(errors, () -> {
            Object node = new byte[1 << 20];
            seen.set(new WeakReference<>(node));
            cell.set(node);
            node = null;
            try (Guard g = r.enter()) {
                g.protect(cell, 0);
                g.protect(cell);
                Guard n1 = r.enter();
                Guard n2 = n1.nest();
                Guard n3 = n2.nest();
                n3.protect(other, 0);
                n3.protect(other);
                n3.close();
                n2.close();
                n1.close();
                cell.set(null);
                g.protect(cell, 0);
            }
        }));
        second.join();
        second = null;
        if (!errors.isEmpty()) throw new AssertionError(errors.peek());
        gc(firstNode, seen.get());
        assertTrue(firstNode.get() == null, "the first thread's node is still reachable");
        assertTrue(seen.get().get() == null, "the second thread's node is still reachable");
        r.close();
    }

    /**
     * Threads whose ids share a few cache slots enter, protect, retire, and some end inside a guard, while a flusher
     * sweeps (and so evicts) all the time: every enter returns the caller's own guard, nothing throws, and once swept
     * nothing the dead threads protected stays reachable.
     */
    @ParameterizedTest(name = "{0} checked={1}")
    @MethodSource("schemesChecked")
    void evictionsRacingInstalls(String scheme, boolean checked) throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withChecked(checked));
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger flushes = new AtomicInteger();
        Thread flusher = Thread.ofPlatform().start(() -> run(errors, () -> {
            while (!stop.get()) {
                r.flush();
                flushes.incrementAndGet();
            }
        }));
        List<WeakReference<Object>> held = new ArrayList<>();
        for (int round = 0; round < 20; round++) {
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < 4000 && ts.size() < 24; i++) {
                AtomicReference<Runnable> body = new AtomicReference<>();
                Thread t = Thread.ofPlatform().unstarted(() -> body.get().run());
                if ((t.threadId() & 255) >= 4) continue; // ids in slots 0..3 only
                boolean dieInside = ts.size() % 3 == 0;
                Object node = new byte[1 << 16];
                held.add(new WeakReference<>(node));
                AtomicReference<Object> cell = new AtomicReference<>(node);
                node = null;
                body.set(() -> run(errors, () -> {
                    for (int k = 0; k < 50; k++) {
                        ThreadGuard own = ((GuardLookup) r).guard();
                        if (own.threadId != Thread.currentThread().threadId()) throw new AssertionError("another thread's guard");
                        Guard g = r.enter();
                        if (g.protect(cell) == null) throw new AssertionError("null");
                        g.retire(new Object(), x -> {});
                        if (dieInside && k == 49) {
                            cell.set(null);
                            return; // ends inside the guard
                        }
                        g.close();
                    }
                    cell.set(null);
                }));
                ts.add(t);
            }
            for (Thread t : ts) t.start();
            for (Thread t : ts) t.join();
        }
        stop.set(true);
        flusher.join();
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " failure(s): " + errors.peek());
            errors.forEach(e::addSuppressed);
            throw e;
        }
        r.flush();
        r.flush();
        gc(held.toArray(new WeakReference<?>[0]));
        long alive = held.stream().filter(w -> w.get() != null).count();
        assertEquals(0, alive, "nodes still reachable after sweeps (flushes: " + flushes.get() + ")");
        r.close();
    }

    static Stream<Arguments> schemesChecked() {
        return schemes().flatMap(s -> Stream.of(Arguments.of(s, false), Arguments.of(s, true)));
    }

    /**
     * A reclaimer dropped without close(), after threads used it (one alive, two ended; each protected, inside a guard
     * it closed, a holder that refers to the reclaimer): its Cleaner still closes the core.
     */
    @ParameterizedTest(name = "{0} checked={1}")
    @MethodSource("schemesChecked")
    void aDroppedReclaimerIsStillAbandoned(String scheme, boolean checked) throws Exception {
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch ready = new CountDownLatch(3);
        Dropped dropped = useAndDrop(scheme, checked, errors, done, ready);
        Core core = dropped.core();
        WeakReference<Reclaimer> handle = dropped.handle();
        Thread live = dropped.live();
        assertTrue(ready.await(60, TimeUnit.SECONDS));
        for (int i = 0; i < 100 && !core.isClosed(); i++) {
            System.gc();
            Thread.sleep(20);
        }
        done.countDown();
        live.join();
        if (!errors.isEmpty()) throw new AssertionError(errors.peek());
        assertTrue(handle.get() == null, "the dropped reclaimer is still reachable");
        assertTrue(core.isClosed(), "the cleaner did not close the core");
    }

    /** What {@link #useAndDrop} leaves the test: the core, the dropped handle (weakly), the thread still alive. */
    private record Dropped(Core core, WeakReference<Reclaimer> handle, Thread live) {}

    private static Dropped useAndDrop(String scheme, boolean checked, ConcurrentLinkedQueue<Throwable> errors,
            CountDownLatch done, CountDownLatch ready) throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withChecked(checked));
        Core core = ReclaimerHandle.coreOf(r);
        WeakReference<Reclaimer> handle = new WeakReference<>(r);
        // A live thread, outside its guard, registered and cached.
        AtomicReference<Reclaimer> pass = new AtomicReference<>(r);
        Thread live = Thread.ofPlatform().start(() -> run(errors, () -> {
            Holder h = new Holder(pass.get());
            Registration reg = pass.getAndSet(null).register();
            try (Guard g = reg.enter()) {
                g.protect(Holder.CELL, h);
            }
            h = null;
            reg.offline(); // QSBR: an online registration dropped holds an abandoned core back for good (documented)
            reg = null; // dropped without close (would keep the handle)
            ready.countDown();
            assertTrue(done.await(60, TimeUnit.SECONDS));
        }));
        // An ended thread, ended outside a guard, deregistered.
        Thread.ofPlatform().start(() -> run(errors, () -> {
            Holder h = new Holder(r);
            try (Registration reg = r.register(); Guard g = reg.enter()) {
                g.protect(Holder.CELL, h);
            }
            ready.countDown();
        })).join();
        // An ended thread, sticky, ended outside a guard.
        Thread.ofPlatform().start(() -> run(errors, () -> {
            Holder h = new Holder(r);
            try (Guard g = r.enter()) {
                g.protect(Holder.CELL, h);
            }
            ready.countDown();
        })).join();
        return new Dropped(core, handle, live);
    }

    static final class Holder {
        static final VarHandle CELL;
        static {
            try {
                CELL = MethodHandles.lookup().findVarHandle(Holder.class, "cell", Object.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
        final Reclaimer owner; // a structure refers to its reclaimer
        volatile Object cell = new Object();

        Holder(Reclaimer owner) {
            this.owner = owner;
        }
    }

    /**
     * close() racing first enters: a thread that read OPEN before its install may find the cache that clear() put in
     * place after close(); it must take its install back. The cache is empty once close() returned and every racing
     * thread is done.
     */
    @Test
    void aClosedCoreCachesNothing() throws Exception {
        VarHandle cacheField = MethodHandles.privateLookupIn(GuardLookup.class, MethodHandles.lookup())
                .findVarHandle(GuardLookup.class, "cache", ThreadGuard[].class);
        int hits = 0;
        int rounds = 200;
        for (int round = 0; round < rounds; round++) {
            Reclaimer r = Reclaimer.create("ebr");
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        r.enter().close();
                    } catch (IllegalStateException refusedWhileClosing) {
                        // the race under test: the enter came too late
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            go.countDown();
            while (true) {
                try {
                    r.close();
                    break;
                } catch (IllegalStateException e) {
                    Thread.onSpinWait();
                }
            }
            for (Thread t : ts) t.join();
            ThreadGuard[] c = (ThreadGuard[]) cacheField.get(r);
            for (ThreadGuard g : c) if (g != null) hits++;
        }
        assertEquals(0, hits, "guards cached in a closed core's cache");
    }

    private static void gc(WeakReference<?>... refs) {
        for (int i = 0; i < 50; i++) {
            boolean all = true;
            for (WeakReference<?> w : refs) if (w.get() != null) all = false;
            if (all) return;
            System.gc();
        }
    }
}
