package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * What makes a writer's retire cheap must not cost a guarantee: a retire outside any guard (which opens no guard on
 * a sticky participant), the asymmetric barrier's amortization (a collection from retire or enter only once
 * {@link Core#HEAVY_AMORTIZED} objects were sealed since the last) and a flush, which must reclaim everything due
 * whatever the amortization says.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WriterCostTest {
    private static final String[] SCHEMES = {"qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w"};

    private static List<Options.Barrier> barriers() {
        List<Options.Barrier> b = new ArrayList<>(List.of(Options.Barrier.FENCE));
        if (Membarrier.unavailableReason() == null) b.add(Options.Barrier.ASYMMETRIC);
        return b;
    }

    /** Counts each object's action runs: exactly once each is the contract. */
    private static final class Runs {
        final AtomicIntegerArray counts;

        Runs(int n) {
            counts = new AtomicIntegerArray(n);
        }

        void assertEachOnce(String what) {
            for (int i = 0; i < counts.length(); i++) assertEquals(1, counts.get(i), what + ": object " + i);
        }
    }

    private record Item(int id) {}

    /**
     * QSBR's flush scans every time: a flush after an earlier flush, with more retired in between (on this thread and
     * on another, some in bags not yet full), reclaims all of it, not only what is below a bound an earlier scan
     * found.
     */
    @Test
    void qsbrFlushAlwaysScansEvenRightAfterAnotherFlush() throws Exception {
        for (Options.Barrier b : barriers()) {
            try (Reclaimer r = Reclaimer.create(new Scheme.Qsbr(8, 0, 100_000_000L), Options.DEFAULT.withBarrier(b))) {
                int total = 41;
                Runs runs = new Runs(total);
                int next = 0;
                for (int round = 0; round < 5; round++) {
                    int mine = 3 + round, theirs = 2 + round;
                    for (int i = 0; i < mine && next < total; i++) {
                        int id = next++;
                        r.retire(new Item(id), x -> runs.counts.incrementAndGet(x.id()));
                    }
                    int from = next, to = Math.min(total, next + theirs);
                    Thread t = Thread.ofPlatform().start(() -> {
                        for (int id = from; id < to; id++) {
                            try (Guard g = r.enter()) {
                                g.retire(new Item(id), x -> runs.counts.incrementAndGet(x.id()));
                            }
                        }
                    });
                    t.join();
                    next = to;
                    r.flush();
                    Stats s = r.stats();
                    assertEquals(s.retired(), s.reclaimed(), b + " round " + round + ": " + s);
                }
                while (next < total) {
                    int id = next++;
                    r.retire(new Item(id), x -> runs.counts.incrementAndGet(x.id()));
                }
                r.flush();
                Stats s = r.stats();
                assertEquals(total, s.retired(), b + ": " + s);
                assertEquals(total, s.reclaimed(), b + ": " + s);
                runs.assertEachOnce("qsbr " + b);
            }
        }
    }

    /**
     * Under either barrier, fewer objects than the amortization waits for, retired outside any guard and inside
     * guards, are all reclaimed by one flush, each once, and by close() after it nothing more runs.
     */
    @Test
    void flushReclaimsWhatTheAmortizationWouldLetWait() {
        for (String name : SCHEMES) {
            for (Options.Barrier b : barriers()) {
                int total = Core.HEAVY_AMORTIZED / 2 + 37;
                Runs runs = new Runs(total);
                try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(b))) {
                    for (int id = 0; id < total; id++) {
                        if (id % 3 == 0) {
                            try (Guard g = r.enter()) {
                                g.retire(new Item(id), x -> runs.counts.incrementAndGet(x.id()));
                            }
                        } else {
                            r.retire(new Item(id), x -> runs.counts.incrementAndGet(x.id()));
                        }
                    }
                    r.flush();
                    Stats s = r.stats();
                    assertEquals(total, s.retired(), name + "/" + b + ": " + s);
                    assertEquals(total, s.reclaimed(), name + "/" + b + ": " + s);
                }
                runs.assertEachOnce(name + "/" + b);
            }
        }
    }

    /**
     * Under the asymmetric barrier a writer pays a heavy barrier per {@link Core#HEAVY_AMORTIZED} retires or fewer
     * often, not one per bag, while a reader keeps entering on another thread; and still nothing is lost.
     */
    @Test
    void theAsymmetricBarrierIsAmortizedOverManyRetires() throws Exception {
        Assumptions.assumeTrue(Membarrier.unavailableReason() == null, "membarrier is unavailable here");
        for (String name : new String[] {"ebr", "hp", "hyaline", "crystalline", "crystalline-w"}) {
            int total = 40 * Core.HEAVY_AMORTIZED;
            Runs runs = new Runs(total);
            try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC))) {
                java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                java.util.concurrent.atomic.AtomicReference<Object> cell = new java.util.concurrent.atomic.AtomicReference<>(new Object());
                Thread reader = Thread.ofPlatform().start(() -> {
                    while (!stop.get()) {
                        try (Guard g = r.enter()) {
                            g.protect(cell);
                        }
                    }
                });
                Core core = ReclaimerHandle.coreOf(r);
                long before = core.heavyBarriers();
                try {
                    for (int id = 0; id < total; id++) {
                        cell.set(new Object());
                        r.retire(new Item(id), x -> runs.counts.incrementAndGet(x.id()));
                    }
                } finally {
                    stop.set(true);
                    reader.join();
                }
                long heavies = core.heavyBarriers() - before;
                // One per HEAVY_AMORTIZED sealed objects, give or take a racing reader's collection each time.
                assertTrue(heavies <= 2L * total / Core.HEAVY_AMORTIZED + 2,
                        name + ": " + heavies + " heavy barriers for " + total + " retires");
                r.flush();
                assertEquals(total, r.stats().reclaimed(), name + ": " + r.stats());
            }
            runs.assertEachOnce(name);
        }
    }

    /**
     * Under the asymmetric barrier, the collection that a retire runs once per {@link Core#HEAVY_AMORTIZED} objects
     * does not run all it finds reclaimable in that one retire: no single retire runs more than a few bags' actions
     * (the others are left for later seals), the deferred batches stay within the bound, and flush() runs them all.
     */
    @Test
    void anAmortizedCollectionSpreadsItsActionsOverLaterRetires() {
        Assumptions.assumeTrue(Membarrier.unavailableReason() == null, "membarrier is unavailable here");
        for (String name : new String[] {"ebr", "hp", "hyaline", "crystalline", "crystalline-w"}) {
            int total = 20 * Core.HEAVY_AMORTIZED;
            Runs runs = new Runs(total);
            java.util.concurrent.atomic.AtomicLong ran = new java.util.concurrent.atomic.AtomicLong();
            try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC))) {
                Core core = ReclaimerHandle.coreOf(r);
                int bag = core.batchSize();
                long most = 0;
                long deferredMost = 0;
                for (int id = 0; id < total; id++) {
                    long before = ran.get();
                    r.retire(new Item(id), x -> {
                        runs.counts.incrementAndGet(x.id());
                        ran.incrementAndGet();
                    });
                    most = Math.max(most, ran.get() - before);
                    deferredMost = Math.max(deferredMost, core.reclamation().deferredWaiting());
                    long pending = r.stats().pending();
                    assertTrue(pending <= r.pendingBound(), name + ": " + pending + " pending above the bound " + r.pendingBound());
                }
                // A collection runs one bag, a seal's trickle one to four: never the thousand a collection finds.
                assertTrue(most <= Reclamation.TRICKLE_MOST * bag,
                        name + ": one retire ran " + most + " actions (bags of " + bag + ")");
                assertTrue(deferredMost <= Core.HEAVY_AMORTIZED + bag,
                        name + ": " + deferredMost + " objects deferred at once");
                r.flush();
                assertEquals(0, core.reclamation().deferredWaiting(), name + ": flush left deferred batches");
                assertEquals(total, r.stats().reclaimed(), name + ": " + r.stats());
            }
            runs.assertEachOnce(name);
        }
    }

    /**
     * Under the asymmetric barrier, a steady stream of retires on one thread runs the deferred batches at the rate
     * bags are sealed: most seals run one bag's actions, and two only while the deferred stack is nearly full. A
     * retire that runs more than one bag is the latency tail of a structure that retires on a fraction of its
     * operations, so such retires must be a small share of the seals (at two bags a seal, half of them or more were).
     */
    @Test
    void aSteadyStreamOfRetiresRunsOneBagOnMostSeals() {
        Assumptions.assumeTrue(Membarrier.unavailableReason() == null, "membarrier is unavailable here");
        for (String name : new String[] {"ebr", "hp", "hyaline", "crystalline", "crystalline-w"}) {
            int total = 40 * Core.HEAVY_AMORTIZED;
            Runs runs = new Runs(total);
            java.util.concurrent.atomic.AtomicLong ran = new java.util.concurrent.atomic.AtomicLong();
            try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC))) {
                int bag = ReclaimerHandle.coreOf(r).batchSize();
                int ranSome = 0; // retires that ran any action: the seals that ran a batch, and the collections
                int ranMore = 0; // retires that ran more than one bag's actions
                for (int id = 0; id < total; id++) {
                    long before = ran.get();
                    r.retire(new Item(id), x -> {
                        runs.counts.incrementAndGet(x.id());
                        ran.incrementAndGet();
                    });
                    long n = ran.get() - before;
                    if (n > 0) ranSome++;
                    if (n > bag) ranMore++;
                }
                assertTrue(ranSome >= total / bag / 2, name + ": only " + ranSome + " retires ran actions: the test proves nothing");
                assertTrue(ranMore * 4 <= ranSome, name + ": " + ranMore + " of the " + ranSome
                        + " retires that ran actions ran more than one bag (bags of " + bag + ")");
                r.flush();
                assertEquals(total, r.stats().reclaimed(), name + ": " + r.stats());
            }
            runs.assertEachOnce(name);
        }
    }

    /**
     * Reclaim actions that retire (each object's action frees what it owned by retiring it) seal bags inside the
     * actions, and those seals run no deferred batches (no collection starts inside an action). The seals that do run
     * some must then run more each, or the deferred stack fills and each amortized collection runs what it cannot
     * defer, hundreds of actions on one retire: a few such retires while the stream warms up, none after.
     */
    @Test
    void actionsThatRetireDoNotLeaveCollectionsRunningWhatTheyFind() {
        Assumptions.assumeTrue(Membarrier.unavailableReason() == null, "membarrier is unavailable here");
        for (String name : new String[] {"ebr", "hp", "hyaline", "crystalline", "crystalline-w"}) {
            int owners = 40 * Core.HEAVY_AMORTIZED;
            Runs runs = new Runs(2 * owners);
            java.util.concurrent.atomic.AtomicLong ran = new java.util.concurrent.atomic.AtomicLong();
            try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC))) {
                int bag = ReclaimerHandle.coreOf(r).batchSize();
                int large = 0; // retires that ran more than TRICKLE_MOST bags' actions
                long most = 0;
                for (int id = 0; id < owners; id++) {
                    long before = ran.get();
                    Item owned = new Item(owners + id);
                    r.retire(new Item(id), x -> {
                        runs.counts.incrementAndGet(x.id());
                        ran.incrementAndGet();
                        r.retire(owned, y -> { // what the object owned, freed by a retire in its action
                            runs.counts.incrementAndGet(y.id());
                            ran.incrementAndGet();
                        });
                    });
                    long n = ran.get() - before;
                    most = Math.max(most, n);
                    if (n > (long) Reclamation.TRICKLE_MOST * bag) large++;
                }
                assertTrue(large <= 4, name + ": " + large + " retires ran more than " + Reclamation.TRICKLE_MOST
                        + " bags' actions (the most " + most + ", bags of " + bag + ")");
                r.flush(); // runs the last owners' actions, which retire what they owned
                r.flush();
                assertEquals(2L * owners, r.stats().reclaimed(), name + ": " + r.stats());
            }
            runs.assertEachOnce(name);
        }
    }

    /**
     * Under the asymmetric barrier, a Hyaline or Crystalline guard that stays open while its own retires fill a
     * collection holds every batch inserted meanwhile; its close drops their last references at once, and runs only
     * a few of them there (the rest go to later seals, and flush() runs them).
     */
    @Test
    void aGuardThatHeldAWholeCollectionRunsFewBatchesWhenItCloses() {
        Assumptions.assumeTrue(Membarrier.unavailableReason() == null, "membarrier is unavailable here");
        for (String name : new String[] {"hyaline", "crystalline", "crystalline-w"}) {
            int total = Core.HEAVY_AMORTIZED + 64;
            Runs runs = new Runs(total);
            java.util.concurrent.atomic.AtomicLong ran = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicReference<Object> cell = new java.util.concurrent.atomic.AtomicReference<>(new Object());
            try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC))) {
                Core core = ReclaimerHandle.coreOf(r);
                int bag = core.batchSize();
                long beforeClose;
                long held;
                try (Guard g = r.enter()) {
                    g.protect(cell); // a reservation: what is retired from here on is inserted into this guard
                    for (int id = 0; id < total; id++) {
                        r.retire(new Item(id), x -> {
                            runs.counts.incrementAndGet(x.id());
                            ran.incrementAndGet();
                        });
                    }
                    beforeClose = ran.get();
                    held = r.stats().pending();
                }
                long atClose = ran.get() - beforeClose;
                assertTrue(held >= 4L * bag, name + ": the guard held only " + held + " objects: the test proves nothing");
                assertTrue(atClose <= Reclamation.TRICKLE_MOST * bag,
                        name + ": the guard's close ran " + atClose + " actions of the " + held + " it held");
                r.flush();
                assertEquals(total, r.stats().reclaimed(), name + ": " + r.stats());
            }
            runs.assertEachOnce(name);
        }
    }
}
