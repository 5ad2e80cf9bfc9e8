package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * Crystalline-W's reuse of what a leave and an insertion need: the holder of a leave's detached lists (kept by the
 * guard, and taken from it while its walk runs reclaim actions that may leave a guard of the same thread), and the
 * links of a batch (reused at each insertion of the batch once recycled through the core's pool).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CrystallineWReuseTest {

    /** A fence barrier: a walk runs the actions it reaches at once (nothing is left for later seals). */
    private static Reclaimer create(int batchSize) {
        return CrystallineWPolicy.create(new Scheme.Crystalline(batchSize, 4, true), new Options(Options.Barrier.FENCE, false, null));
    }

    /** An object born at a given era. */
    private record BornAt(long birthEra) implements Born {}

    /**
     * A leave detaches two lists (the slot's and the guard-wide index's); the walk of the first drops the last
     * reference of a batch whose action opens a guard on the same thread, retires into it and leaves it, detaching a
     * list of its own. The inner leave must not take the holder the outer walk still iterates: the outer walk's second
     * list is walked after the action returns, by the outer walk; the inner leave's list is walked after the outer
     * walk, by the same thread (a loop, not a recursion: Core.walkLeft), and the guard's next leaves work.
     */
    @Test
    void aReclaimActionThatLeavesAGuardDuringALeavesWalkLeavesThatWalkItsOwnLists() {
        try (Reclaimer r = create(1)) {
            AtomicReference<Object> ref = new AtomicReference<>(new Object());
            List<String> ran = new ArrayList<>(); // one thread: the actions run in the walks of its leaves
            try (Guard g = r.enter()) {
                g.protect(ref, 0); // a leave that detaches nothing: the guard keeps its holder for the next one
            }
            try (Guard g = r.enter()) {
                g.protect(ref); // the guard-wide index reserves e1
                long e1 = r.era();
                g.retire(new BornAt(e1), o -> ran.add("y")); // joins both indices; its seal moves the era on
                g.protect(ref, 0); // slot 0 reserves e2 > e1
                long e2 = r.era();
                assertTrue(e2 > e1, "the era did not move at a seal");
                g.retire(new BornAt(e2), o -> { // joins slot 0 only (the guard-wide index reserves e1 < e2)
                    ran.add("x begins");
                    try (Guard h = r.enter()) {
                        h.protect(ref, 0);
                        h.retire(new Object(), z -> ran.add("z"));
                        r.flush(); // inserts z into this guard's slot: its leave detaches and walks that list
                    }
                    ran.add("x ends");
                });
                r.flush();
                assertEquals(List.of(), ran, "reclaimed while the guard reserved it");
            }
            // Slot 0's list (x, y) is walked first: x's action runs its guard to the end; y's last reference is in
            // the guard-wide index's list, walked after; then the list that x's guard detached (z).
            assertEquals(List.of("x begins", "x ends", "y", "z"), ran);

            for (int round = 0; round < 3; round++) { // the guard's next leaves reuse a holder given back
                AtomicInteger runs = new AtomicInteger();
                try (Guard g = r.enter()) {
                    g.protect(ref, 0);
                    g.protect(ref);
                    g.retire(new Object(), o -> runs.incrementAndGet());
                    r.flush();
                    assertEquals(0, runs.get(), "reclaimed while the guard reserved it");
                }
                assertEquals(1, runs.get(), "round " + round);
            }
            r.flush();
            assertEquals(r.stats().retired(), r.stats().reclaimed());
        }
    }

    /** An object that counts the runs of its action and says whether it ran. */
    private static final class Node implements Born {
        final long birth;
        final AtomicInteger runs = new AtomicInteger();

        Node(long birth) {
            this.birth = birth;
        }

        @Override
        public long birthEra() {
            return birth;
        }
    }

    /**
     * Batches of one object (each recycled through the pool and inserted again at once, with its links), retirers
     * that insert as readers leave (deactivations racing insertions: the take-back path), readers that re-protect a
     * slot (a detach and walk per protect), the guard-wide index and a nested level. No object is reclaimed under a
     * guard that protects it, none twice, and none is lost: once every guard is closed, a flush reclaims everything.
     */
    @Test
    void batchesReusedAcrossRacingLeavesAndInsertionsAreReclaimedOnceAndNeverUnderAGuard() throws Exception {
        try (Reclaimer r = create(1)) {
            AtomicReference<Node> a = new AtomicReference<>(new Node(r.era()));
            AtomicReference<Node> b = new AtomicReference<>(new Node(r.era()));
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong reads = new AtomicLong();
            AtomicLong retired = new AtomicLong();
            AtomicLong twice = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        while (!done.get()) {
                            try (Guard g = r.enter()) {
                                Node x = g.protect(a, 0);
                                Node y = g.protect(b);
                                Node z = g.protect(a, 1);
                                Node w;
                                try (Guard h = g.nest()) {
                                    w = h.protect(b, 0);
                                    if (w.runs.get() != 0) throw new AssertionError("reclaimed under a nested guard");
                                }
                                x = g.protect(a, 0); // the slot again: its old list detached and walked
                                if (x.runs.get() + y.runs.get() + z.runs.get() + w.runs.get() != 0) {
                                    throw new AssertionError("reclaimed under a guard");
                                }
                                reads.incrementAndGet();
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (int t = 0; t < 2; t++) {
                AtomicReference<Node> src = t == 0 ? a : b;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        while (!done.get()) {
                            Node old = src.getAndSet(new Node(r.era()));
                            r.retire(old, n -> {
                                if (n.runs.incrementAndGet() != 1) twice.incrementAndGet();
                            });
                            retired.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((reads.get() < 50_000 || retired.get() < 50_000) && System.nanoTime() < deadline) Thread.sleep(10);
            done.set(true);
            for (Thread t : threads) t.join();
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertTrue(reads.get() > 0 && retired.get() > 0);
            assertEquals(0, twice.get(), "an action ran twice");
            r.flush();
            assertEquals(retired.get(), r.stats().retired());
            assertEquals(r.stats().retired(), r.stats().reclaimed(), "objects lost (a batch whose count never reached zero)");
        }
    }
}
