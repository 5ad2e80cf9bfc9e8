package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Assumptions;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.Core;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.core.Participant;
import reclaim.impl.core.ReclaimerHandle;

/**
 * What the tests of Hyaline's slots share: a reclaimer under a forced barrier strategy, its core, policy and the slot a
 * reader's guard holds (through the slot's package-private words), and a reader thread whose
 * guards the test opens and closes step by step.
 */
final class HyalineSlots {
    private HyalineSlots() {}

    /**
     * A Hyaline reclaimer with batches of 4 under {@code barrier}; the test is aborted where that strategy is unavailable
     * (forced, it is refused: no native access in this run).
     */
    static Reclaimer create(String barrier, boolean robust) {
        return create(barrier, robust, 4);
    }

    /** {@link #create(String, boolean)} with batches of {@code batchSize}. */
    static Reclaimer create(String barrier, boolean robust, int batchSize) {
        Options.Barrier b = Options.Barrier.valueOf(barrier);
        try {
            return Reclaimer.create(new Scheme.Hyaline(batchSize, robust), Options.DEFAULT.withBarrier(b));
        } catch (IllegalArgumentException unavailable) {
            Assumptions.abort(unavailable.getMessage());
            throw unavailable;
        }
    }

    static Core core(Reclaimer r) {
        return ReclaimerHandle.coreOf(r);
    }

    static HyalinePolicy policy(Core core) {
        return (HyalinePolicy) core.policy();
    }

    /** The one slot whose session is active: the reader's, while it is in its guard and no other guard is open. */
    static HyalineParticipant activeSlot(Core core) {
        HyalineParticipant found = null;
        for (Participant p : core.participants()) {
            HyalineParticipant s = (HyalineParticipant) p;
            if (HyalineParticipant.active(s.sessionVolatile())) {
                assertNull(found, "two active slots with one guard open");
                found = s;
            }
        }
        assertNotNull(found, "no active slot while the reader's guard is open");
        return found;
    }

    /**
     * Puts the slot of the reader's open guard in the state an insertion racing its leave leaves: takes the slot's list
     * while the guard is open, lets the guard leave (its leave finds the head null), then puts the list back, as the late
     * CAS would.
     */
    static void leaveWithoutSeeingTheList(Reader reader, HyalineParticipant slot) throws InterruptedException {
        Object list = slot.takeList();
        assertTrue(list instanceof Link, "the retired batch did not join the open guard's slot");
        reader.leave.countDown();
        assertTrue(reader.left.await(10, TimeUnit.SECONDS));
        assertTrue(!HyalineParticipant.active(slot.sessionVolatile()), "the slot is still active after its guard left");
        assertTrue(slot.casHead(null, list), "the left slot's list was not empty");
    }

    /** The number of links in a list. */
    static int length(Object list) {
        int n = 0;
        for (Object l = list; l instanceof Link link; l = link.next()) n++;
        return n;
    }

    /**
     * A reader thread: one guard, then a second one if told ({@link #enterAgain()}), each held until told to leave;
     * then alive outside its guards until closed, so that nothing sweeps its slot.
     */
    static final class Reader implements AutoCloseable {
        final CountDownLatch inGuard = new CountDownLatch(1);
        final CountDownLatch leave = new CountDownLatch(1);
        final CountDownLatch left = new CountDownLatch(1);
        private final CountDownLatch proceed = new CountDownLatch(1);
        private volatile boolean again;
        final CountDownLatch inSecondGuard = new CountDownLatch(1);
        final CountDownLatch leaveAgain = new CountDownLatch(1);
        final CountDownLatch leftAgain = new CountDownLatch(1);
        private final CountDownLatch end = new CountDownLatch(1);
        private final Thread thread;

        Reader(Reclaimer r, AtomicReference<Object> cell) {
            thread = Thread.ofPlatform().name("reader").start(() -> {
                try {
                    try (Guard g = r.enter()) {
                        g.protect(cell);
                        inGuard.countDown();
                        leave.await();
                    }
                    left.countDown();
                    proceed.await();
                    if (again) {
                        try (Guard g = r.enter()) {
                            g.protect(cell);
                            inSecondGuard.countDown();
                            leaveAgain.await();
                        }
                        leftAgain.countDown();
                    }
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        /** Lets the reader open its second guard (after its first one left). */
        void enterAgain() {
            again = true;
            proceed.countDown();
        }

        @Override
        public void close() {
            leave.countDown();
            proceed.countDown();
            leaveAgain.countDown();
            end.countDown();
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while the reader ends", e);
            }
        }
    }
}
