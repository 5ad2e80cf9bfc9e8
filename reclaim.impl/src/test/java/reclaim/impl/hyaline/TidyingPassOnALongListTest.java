package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.Core;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.core.Participant;

/**
 * The tidying pass ({@code HyalinePolicy.tidy(slot, head, session)}) is meant never to hold a link of a session that
 * began after its read of the slot's session word: while it holds one, that session's leave finds the head without it
 * and a {@code flush()} on another thread, with no guard open anywhere, finds it neither in the slot nor anywhere else
 * and returns with the closed guard's batch unreclaimed (the consequence that {@link FlushRacingATidyingPassTest}
 * showed, by hand, for the pass of 189adb1; the pass of 03b25f8 retries after its push-back, so it no longer parks the
 * link, but the racing flush has already returned).
 * A list longer than the pass's scan limit (4096 links) is taken with a swap, not with a CAS from the head the pass
 * read: whatever was pushed in front of that head since is taken too. The state here:
 *
 * <ol>
 *   <li>Slot r is inactive (session q, even) and holds more than 4096 links of ended sessions (here made as
 *       {@link LateInsertionIntoALeftSlotTest} makes one: the list taken while the guard is open and put back after it
 *       left). The pass of a collection on thread T reads the head h, then q.</li>
 *   <li>The reader enters on r (session q + 1); a retire and a flush insert batch B in front of h, stamped q + 1.</li>
 *   <li>T's attempt goes on with (h, q): its scan of the list below h finds only stamps below q and passes the
 *       limit, so it swaps the list out, B's link included, sorts it (B's link is kept, the others dropped) and pushes
 *       B's link back. Between the swap and the push, the reader's leave and a racing flush find the head null.</li>
 * </ol>
 *
 * Links in a slot's list are never changed while they are in it ({@code CountedBatches.Link}): if B's link never
 * left the list, it is still the head with its {@code next} still h. The scan also stops at 4097 links where the
 * plain reads wander (a reused link now in another slot's long list, or links relinked by another pass), so the swap
 * is reached without a long list in the slot itself.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TidyingPassOnALongListTest {
    /** More stale links than the pass scans before it falls back to a swap. */
    private static final int STALE = 4200;

    private static final class Reader implements AutoCloseable {
        final CountDownLatch inGuard = new CountDownLatch(1);
        final CountDownLatch leave = new CountDownLatch(1);
        final CountDownLatch left = new CountDownLatch(1);
        final CountDownLatch proceed = new CountDownLatch(1);
        volatile boolean again;
        final CountDownLatch inSecondGuard = new CountDownLatch(1);
        final CountDownLatch leaveAgain = new CountDownLatch(1);
        final CountDownLatch leftAgain = new CountDownLatch(1);
        final CountDownLatch end = new CountDownLatch(1);
        final Thread thread;

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

    private static Reclaimer create(String barrier, boolean robust) {
        Options.Barrier b = Options.Barrier.valueOf(barrier);
        try {
            return Reclaimer.create(new Scheme.Hyaline(1, robust), Options.DEFAULT.withBarrier(b));
        } catch (IllegalArgumentException unavailable) { // forced and unavailable (no native access in this run)
            Assumptions.abort(unavailable.getMessage());
            throw unavailable;
        }
    }

    private static Core core(Reclaimer r) throws ReflectiveOperationException {
        Class<?> lookup = Class.forName("reclaim.impl.core.GuardLookup");
        Field f = lookup.getDeclaredField("core");
        f.setAccessible(true);
        return (Core) f.get(r);
    }

    private static HyalinePolicy policy(Core core) throws ReflectiveOperationException {
        Field f = Core.class.getDeclaredField("policy");
        f.setAccessible(true);
        return (HyalinePolicy) f.get(core);
    }

    private static HyalineParticipant activeSlot(Core core) {
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

    private static int length(Object list) {
        int n = 0;
        for (Object l = list; l instanceof Link link; l = link.next()) n++;
        return n;
    }

    @ParameterizedTest(name = "{0}, robust={1}")
    @CsvSource({"FENCE, true", "FENCE, false", "ASYMMETRIC, true", "ASYMMETRIC, false"})
    void theTidyingPassDoesNotTakeALinkOfALaterSessionFromALongList(String barrier, boolean robust) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Consumer<Object> count = o -> ran.incrementAndGet();
        try (Reclaimer r = create(barrier, robust)) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell)) {
                Core core = core(r);
                HyalinePolicy policy = policy(core);
                assertTrue(reader.inGuard.await(10, TimeUnit.SECONDS));
                HyalineParticipant slot = activeSlot(core);
                // More than 4096 batches join the reader's first session; its leave misses them (as a late insertion).
                for (int i = 0; i < STALE; i++) r.retire(new Object(), count);
                r.flush();
                assertEquals(0, ran.get(), "reclaimed while the reader's guard, which the batches joined, is open");
                Object stale = slot.takeList();
                assertEquals(STALE, length(stale), "not every batch joined the open guard's slot");
                reader.leave.countDown();
                assertTrue(reader.left.await(10, TimeUnit.SECONDS));
                assertTrue(slot.casHead(null, stale));
                // 1. T's pass reads the head, then the session word.
                Object h = slot.headVolatile();
                long q = slot.sessionVolatile();
                assertTrue(h instanceof Link && !HyalineParticipant.active(q));
                // 2. The reader enters again; batch B joins its new session, in front of h.
                reader.enterAgain();
                assertTrue(reader.inSecondGuard.await(10, TimeUnit.SECONDS));
                assertEquals(q + 1, slot.sessionVolatile(), "the reader's second guard is not on the same slot");
                r.retire(new Object(), count);
                r.flush();
                Object b = slot.headVolatile();
                assertTrue(b instanceof Link link && link.session() == q + 1 && link.next() == h,
                        "batch B did not join the new session in front of h");
                assertEquals(0, ran.get());
                // 3. T's attempt with what it read: it must leave B's link where the reader's leave will find it.
                policy.tidy(slot, h, q);
                assertSame(b, slot.headVolatile(), "B's link is not the head any more");
                assertSame(h, ((Link) b).next(), "the pass took B's link (a link of a session that began after its"
                        + " read of the session word) out of the slot and put it back: meanwhile the reader's leave and"
                        + " a racing flush() could not find it");
                // The reader leaves and takes everything; a flush with no guard open reclaims it all.
                reader.leaveAgain.countDown();
                assertTrue(reader.leftAgain.await(10, TimeUnit.SECONDS));
                r.flush();
                assertEquals(STALE + 1, ran.get());
            }
        }
        assertEquals(STALE + 1, ran.get(), "an object was reclaimed twice");
    }
}
