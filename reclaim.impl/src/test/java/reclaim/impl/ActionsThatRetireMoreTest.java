package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * Reclaim actions that retire more objects: a list freed node by node (each node's action retires the node it links
 * to), and objects retired again from their own action (recycling). A thread that runs reclaim actions must not
 * start another collection, or walk another guard's detached list, inside them: a chain of such actions would
 * recurse through as many collections as the list has batches, until a {@link StackOverflowError} was counted as a
 * failed action, broke a chain, and left the core's own bookkeeping half done (a bag left full, objects pending
 * after {@code close()} returned). Every scheme, both barrier strategies, the default batches and batches of two.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ActionsThatRetireMoreTest {

    static Stream<Arguments> schemes() {
        List<Arguments> cases = new ArrayList<>();
        List<Scheme> schemes = List.of(new Scheme.Qsbr(), new Scheme.Ebr(), new Scheme.HazardPointers(),
                new Scheme.Hyaline(), new Scheme.Hyaline(64, false), new Scheme.Crystalline(),
                new Scheme.Crystalline(64, 8, true), new Scheme.Qsbr(2, 0, 100_000_000L),
                new Scheme.Ebr(2, 2, 100_000_000L), new Scheme.HazardPointers(4, 1), new Scheme.Hyaline(2, true),
                new Scheme.Hyaline(2, false), new Scheme.Crystalline(2, 4, false), new Scheme.Crystalline(2, 4, true));
        for (Scheme s : schemes) {
            for (Options.Barrier b : List.of(Options.Barrier.FENCE, Options.Barrier.ASYMMETRIC)) {
                cases.add(Arguments.of(s, b));
            }
        }
        return cases.stream();
    }

    /** A node of a singly linked list. */
    static final class Link {
        final int id;
        final Link next;

        Link(int id, Link next) {
            this.id = id;
            this.next = next;
        }
    }

    /** How a node's action retires the node it links to. */
    enum Way {
        /** {@code Reclaimer.retire}. */
        RETIRE,
        /** {@code Reclaimer.retire}, then an owned guard opened and closed (its enter may find a collection due). */
        RETIRE_THEN_OWNED_GUARD,
        /** Through an owned guard the action opens ({@code OwnedGuard.retire}, then its close). */
        THROUGH_AN_OWNED_GUARD,
        /** {@code Reclaimer.retire}, then {@code flush()}. */
        RETIRE_THEN_FLUSH,
        /** The same, the actions running on an action executor (whose flush runs the batches handed to it). */
        RETIRE_THEN_FLUSH_ON_AN_EXECUTOR
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void aListFreedNodeByNodeFromActionsIsReclaimedWholeAndOnce(Scheme scheme, Options.Barrier barrier) {
        freeLists(scheme, barrier, Way.RETIRE, 32, scheme.toString().contains("batchSize=2") ? 2_000 : 20_000);
    }

    /**
     * An action on a thread that runs reclaim actions is inside them whatever guard it uses: an owned guard belongs to
     * no thread, and its enter, retire and close count as the thread's. And a flush() that an action calls is done by
     * the outermost level of the thread's actions, before it ends, not inside the action.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("someSchemesAndWays")
    void aListFreedFromActionsThatUseOwnedGuardsOrFlushIsReclaimedWholeAndOnce(Scheme scheme, Options.Barrier barrier,
            Way way) {
        switch (way) {
            case RETIRE_THEN_OWNED_GUARD, THROUGH_AN_OWNED_GUARD -> freeLists(scheme, barrier, way, 64, 2_500);
            default -> freeLists(scheme, barrier, way, 4, 5_000);
        }
    }

    static Stream<Arguments> someSchemesAndWays() {
        List<Arguments> cases = new ArrayList<>();
        for (Scheme s : List.of(new Scheme.Ebr(), new Scheme.HazardPointers(), new Scheme.Hyaline(), new Scheme.Crystalline())) {
            for (Options.Barrier b : List.of(Options.Barrier.FENCE, Options.Barrier.ASYMMETRIC)) {
                for (Way w : Way.values()) {
                    // An owned guard's enter collects at once under the counting schemes (their countdown starts at
                    // nothing): where an owned guard's own levels would nest collections soonest.
                    boolean owned = w == Way.RETIRE_THEN_OWNED_GUARD || w == Way.THROUGH_AN_OWNED_GUARD;
                    if (w != Way.RETIRE && (!owned || s instanceof Scheme.Hyaline || s instanceof Scheme.Crystalline)) {
                        cases.add(Arguments.of(s, b, w));
                    }
                }
            }
        }
        return cases.stream();
    }

    private static void freeLists(Scheme scheme, Options.Barrier barrier, Way way, int lists, int length) {
        ExecutorService executor = way == Way.RETIRE_THEN_FLUSH_ON_AN_EXECUTOR ? Executors.newSingleThreadExecutor() : null;
        try {
            freeLists(scheme, Options.DEFAULT.withBarrier(barrier).withActionExecutor(executor), way, lists, length);
        } finally {
            if (executor != null) executor.shutdownNow();
        }
    }

    private static void freeLists(Scheme scheme, Options options, Way way, int lists, int length) {
        Reclaimer r = Reclaimer.create(scheme, options);
        AtomicIntegerArray runs = new AtomicIntegerArray(lists * length);
        List<Link> heads = new ArrayList<>();
        int id = 0;
        for (int c = 0; c < lists; c++) {
            Link l = null;
            for (int i = 0; i < length; i++) l = new Link(id++, l);
            heads.add(l);
        }
        List<Consumer<Link>> free = new ArrayList<>(1);
        free.add(l -> {
            runs.incrementAndGet(l.id);
            if (l.next == null) return; // frees what the node links to:
            if (way == Way.THROUGH_AN_OWNED_GUARD && !r.isClosed()) {
                try (OwnedGuard o = r.enterOwned()) {
                    o.retire(l.next, free.get(0));
                    return;
                } catch (IllegalStateException closing) {
                    // close()'s own actions may not open owned guards (documented): retire as they may
                }
            }
            r.retire(l.next, free.get(0));
            if (way == Way.RETIRE_THEN_OWNED_GUARD && !r.isClosed()) {
                try (OwnedGuard o = r.enterOwned()) {
                    o.slots();
                } catch (IllegalStateException closing) {
                    // as above
                }
            }
            if ((way == Way.RETIRE_THEN_FLUSH || way == Way.RETIRE_THEN_FLUSH_ON_AN_EXECUTOR) && !r.isClosed()) {
                try {
                    r.flush();
                } catch (IllegalStateException closing) {
                    // close()'s own actions may not flush (documented)
                }
            }
        });
        for (Link h : heads) r.retire(h, free.get(0));
        for (int i = 0; i < 10; i++) r.flush();
        r.close();
        Stats s = r.stats();
        int never = 0;
        int twice = 0;
        for (int i = 0; i < runs.length(); i++) {
            if (runs.get(i) == 0) never++;
            if (runs.get(i) > 1) twice++;
        }
        String what = scheme + " " + options.barrier() + " " + way + ": " + s;
        assertEquals(0, s.failed(), "actions failed: " + what);
        assertEquals(0, never, "nodes never reclaimed: " + what);
        assertEquals(0, twice, "nodes reclaimed twice: " + what);
        assertEquals((long) lists * length, s.retired(), what);
        assertEquals(s.retired(), s.reclaimed(), what);
    }

    /** Where the retires run: their thread's kind decides whether a retire opens a guard of its own around the add. */
    enum Where {
        /** A platform thread, its own participant on the open word: no guard around the add. */
        PLATFORM_THREAD,
        /** A virtual thread: a guard leased for the retire. */
        VIRTUAL_THREAD,
        /** A registered thread (QSBR: its registration announces in the state word, a guard for the retire). */
        REGISTERED_THREAD
    }

    static Stream<Arguments> schemesAndWheres() {
        return schemes().flatMap(a -> Stream.of(Where.values()).map(w -> Arguments.of(a.get()[0], a.get()[1], w)));
    }

    /**
     * Reclaimer#flush: called by a reclaim action on a thread running actions, "it returns at once, and the work that
     * runs the action flushes again before it ends ...: what was retired before the call is reclaimed by then". Here
     * the work is a retire's collection, with no guard open: when that retire returns, what each action retired before
     * its flush() has run, also where the retire opens a guard of its own around its add.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("schemesAndWheres")
    void whatAnActionRetiredBeforeItsFlushIsReclaimedWhenTheWorkRunningItEnds(Scheme scheme, Options.Barrier barrier,
            Where where) throws Exception {
        Reclaimer r = Reclaimer.create(scheme, Options.DEFAULT.withBarrier(barrier));
        try {
            AtomicInteger notRun = new AtomicInteger(); // retired by an action that then flushed, not run yet
            AtomicInteger flushed = new AtomicInteger();
            Consumer<Object> child = o -> notRun.decrementAndGet();
            Consumer<Object> parent = o -> {
                notRun.incrementAndGet();
                r.retire(new Object(), child);
                r.flush();
                flushed.incrementAndGet();
            };
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Runnable retires = () -> {
                Registration reg = where == Where.REGISTERED_THREAD ? r.register() : null;
                try {
                    for (int i = 0; i < 2_000; i++) {
                        int before = flushed.get();
                        r.retire(new Object(), parent); // its due collection may run parents
                        if (flushed.get() != before) {
                            assertEquals(0, notRun.get(), scheme + " " + barrier + " " + where + ": after retire #" + i
                                    + ", objects an action retired before its flush() are still pending; " + r.stats());
                        }
                    }
                    if (reg != null) reg.close();
                } catch (Throwable t) {
                    failure.set(t);
                }
            };
            Thread t = where == Where.VIRTUAL_THREAD ? Thread.ofVirtual().unstarted(retires) : new Thread(retires);
            t.start();
            t.join();
            if (failure.get() instanceof AssertionError e) throw e;
            assertEquals(null, failure.get());
            if (where == Where.PLATFORM_THREAD) assertTrue(flushed.get() > 0, "no action ran during a retire: nothing checked");
        } finally {
            r.close();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void objectsRetiredAgainFromTheirActionsWhileOtherThreadsCloseGuardsRunOncePerRetire(Scheme scheme,
            Options.Barrier barrier) throws InterruptedException {
        Reclaimer r = Reclaimer.create(scheme, Options.DEFAULT.withBarrier(barrier));
        AtomicInteger retires = new AtomicInteger();
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger budget = new AtomicInteger(20_000);
        List<Consumer<Object>> again = new ArrayList<>(1);
        again.add(o -> {
            runs.incrementAndGet();
            if (budget.decrementAndGet() > 0) {
                r.retire(o, again.get(0)); // the object may be retired again once its action has started
                retires.incrementAndGet();
            }
        });
        for (int i = 0; i < 8; i++) {
            r.retire(new Object(), again.get(0));
            retires.incrementAndGet();
        }
        List<Thread> churn = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread th = new Thread(() -> { // guards whose leaves walk what was inserted meanwhile (Hyaline)
                for (int i = 0; i < 5_000; i++) {
                    try (Guard g = r.enter()) {
                        g.retire(new Object(), o -> { });
                    }
                    if (i % 100 == 0) r.flush();
                }
            });
            th.start();
            churn.add(th);
        }
        for (Thread th : churn) th.join();
        r.close();
        Stats s = r.stats();
        String what = scheme + " " + barrier + ": " + s;
        assertEquals(0, s.failed(), "actions failed: " + what);
        assertEquals(retires.get(), runs.get(), "one run per retire of the recycled objects: " + what);
        assertEquals(s.retired(), s.reclaimed(), what);
    }
}
