package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Assumptions;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.Core;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.core.Participant;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.core.SessionLists;

/**
 * What the tests of Crystalline-L's reservation indices share: a reclaimer under a forced barrier strategy, its core
 * and policy, the one index a reader's guard uses (through the package-private words of
 * {@link Reservations}), and a reader thread that opens, uses and closes its guard step by step.
 */
final class CrystallineIndices {
    private CrystallineIndices() {}

    /** Objects a test retires at a time ({@link #retireAndFlush}): two batches of 4. */
    static final int OBJECTS = 8;

    /**
     * Retires {@link #OBJECTS} objects from this thread, counting their actions in {@code ran}, and flushes: the era
     * moves, and the batches join the index of an open guard.
     */
    static void retireAndFlush(Reclaimer r, AtomicInteger ran) {
        Consumer<Object> count = o -> ran.incrementAndGet();
        for (int i = 0; i < OBJECTS; i++) r.retire(new Object(), count);
        r.flush();
    }

    /** Whether every link of a list is stamped with {@code session}. */
    static boolean allOfSession(Object list, long session) {
        for (Object l = list; l instanceof Link link; l = link.next()) {
            if (link.session() != session) return false;
        }
        return true;
    }

    /** Which {@code protect} the reader uses, so which index its guard activates. */
    enum Protect {
        /** {@code protect(ref, 0)}: slot 0 of the outermost level. */
        SLOT,
        /** {@code protect(ref)}: the guard-wide index. */
        GUARD_WIDE
    }

    /**
     * A Crystalline-L reclaimer with batches of 4 and {@link Guard#MIN_SLOTS} slots under {@code barrier}; the test is
     * aborted where that strategy is unavailable (forced, it is refused: no native access in this run).
     */
    static Reclaimer create(String barrier) {
        Options.Barrier b = Options.Barrier.valueOf(barrier);
        try {
            return Reclaimer.create(new Scheme.Crystalline(4, Guard.MIN_SLOTS), Options.DEFAULT.withBarrier(b));
        } catch (IllegalArgumentException unavailable) {
            Assumptions.abort(unavailable.getMessage());
            throw unavailable;
        }
    }

    static Core core(Reclaimer r) {
        return ReclaimerHandle.coreOf(r);
    }

    static CrystallinePolicy policy(Core core) {
        return (CrystallinePolicy) core.policy();
    }

    /** One reservation index: its record, the record's reservations and its number there. */
    record Index(CrystallineParticipant record, Reservations rs, int j) {
        Object head() {
            return rs.headVolatile(j);
        }

        long session() {
            return rs.sessionVolatile(j);
        }

        boolean active() {
            return SessionLists.active(session());
        }
    }

    /**
     * The one index whose session is active: the reader's, while it is in its guard, has protected one reference and
     * no other guard is open.
     */
    static Index activeIndex(Core core) {
        Index found = null;
        for (Participant p : core.participants()) {
            CrystallineParticipant record = (CrystallineParticipant) p;
            Reservations rs = record.reservations;
            for (int j = 0; j < rs.count; j++) {
                if (SessionLists.active(rs.sessionVolatile(j))) {
                    assertNull(found, "two active indices with one guard open that protected one reference");
                    found = new Index(record, rs, j);
                }
            }
        }
        assertNotNull(found, "no active index while the reader's guard is open");
        return found;
    }

    /** The index a guard uses for {@code protect}: slot 0 of the outermost level, or the guard-wide one. */
    static int expectedIndex(Protect form) {
        return form == Protect.SLOT ? CrystallineGuard.WIDE + 1 : CrystallineGuard.WIDE;
    }

    /**
     * Puts the index of the reader's open guard in the state an insertion racing its leave leaves: takes the index's
     * list while the guard is open, lets the guard leave (its leave finds the head null), then puts the list back, as
     * the late CAS would. Returns the list.
     */
    static Object leaveWithoutSeeingTheList(Reader reader, Index index) throws Exception {
        Object list = index.rs.takeList(index.j);
        assertTrue(list instanceof Link, "the retired batches did not join the open guard's index");
        reader.leave();
        assertFalse(index.active(), "the index is still active after its guard left");
        assertTrue(index.rs.casHead(index.j, null, list), "the left index's list was not empty");
        return list;
    }

    /** The number of links in a list. */
    static int length(Object list) {
        int n = 0;
        for (Object l = list; l instanceof Link link; l = link.next()) n++;
        return n;
    }

    /**
     * A reader: a platform thread that opens a guard, protects {@code cell} in it, protects it again and leaves, each
     * step when the test asks and done when the call returns; between its guards and until closed it stays alive
     * (idle), so that nothing sweeps its record.
     */
    static final class Reader implements AutoCloseable {
        private final Reclaimer r;
        private final AtomicReference<Object> cell;
        private final Protect form;
        private final ExecutorService thread = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("reader").factory());
        /** The open guard; only the reader thread touches it. */
        private Guard guard;

        Reader(Reclaimer r, AtomicReference<Object> cell, Protect form) {
            this.r = r;
            this.cell = cell;
            this.form = form;
        }

        /** Opens a guard and protects the cell once. */
        void enter() throws Exception {
            step(() -> {
                assertNull(guard, "the reader's guard is open already");
                guard = r.enter();
                protect();
            });
        }

        /** Protects the cell again in the open guard. */
        void protectAgain() throws Exception {
            step(this::protect);
        }

        /** Closes the open guard. */
        void leave() throws Exception {
            step(() -> {
                guard.close();
                guard = null;
            });
        }

        private void protect() {
            if (form == Protect.SLOT) guard.protect(cell, 0);
            else guard.protect(cell);
        }

        private void step(Runnable step) throws InterruptedException, ExecutionException, TimeoutException {
            thread.submit(step).get(10, TimeUnit.SECONDS);
        }

        /** Closes the reader's guard if it is open, and ends the reader thread. */
        @Override
        public void close() {
            try {
                step(() -> {
                    if (guard != null) guard.close();
                    guard = null;
                });
                thread.shutdown();
                assertTrue(thread.awaitTermination(10, TimeUnit.SECONDS), "the reader did not end");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while the reader ends", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new AssertionError("the reader's last guard did not close", e);
            } finally {
                thread.shutdownNow();
            }
        }
    }
}
