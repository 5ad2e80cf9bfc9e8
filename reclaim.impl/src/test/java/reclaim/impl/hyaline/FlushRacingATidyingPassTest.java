package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
 * {@code Reclaimer.flush()}: "With no guard open anywhere, every object retired before the call is reclaimed when it
 * returns." Under Hyaline with sessions, a tidying pass that another thread's collection runs (at the end of every
 * collection, {@code HyalinePolicy.tidy}) can hold a batch that only a guard which has since closed ever needed, and
 * then put it back into that guard's slot, inactive by then, where nothing looks at it until some later collection:
 *
 * <ol>
 *   <li>A collection on thread T ends with its tidying pass. For slot r it reads the head, not null (a link of the
 *       reader's previous guard, open at that moment, which its leave then takes; or one that an insertion racing an
 *       earlier leave left there), then the session word: q, even (that guard has left, the next not entered).</li>
 *   <li>A reader enters on r: session s = q + 1.</li>
 *   <li>A retire and a flush insert batch B into r: a link stamped s. They complete.</li>
 *   <li>T swaps r's list out. B's link carries s &gt;= q: T keeps it, to put it back (it cannot know s ended).</li>
 *   <li>The reader leaves: it stores s + 1 and loads the head, null (T holds the list): it takes nothing.</li>
 *   <li>Another thread calls {@code flush()}: no guard is open anywhere and B was retired (and inserted) before the
 *       call. Its tidying pass finds r's head null and skips r. It returns with B unreclaimed.</li>
 *   <li>T pushes B's link back into r and ends. Now no guard is open and no collection is in flight, and B stays in
 *       the inactive slot r until some later collection or {@code close()}.</li>
 * </ol>
 *
 * Before sessions the reader's leave swapped the head and walked B itself, so no collection could stand between a
 * closed guard and its batches; and a collection that races a flush while holding sealed bags inserts them and, with
 * no guard open, reclaims them before it ends, whereas here the racing pass parks B where nobody looks. The pass's
 * steps 1, 4 and 7 are made here by hand through the slot's words (they are a few instructions with no user code
 * between them); everything else is the reclaimer's own.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FlushRacingATidyingPassTest {
    private static final int OBJECTS = 8;

    /** A reader thread that opens one guard, holds it until told, closes it, and stays alive until closed. */
    private static final class Reader implements AutoCloseable {
        final CountDownLatch inGuard = new CountDownLatch(1);
        final CountDownLatch leave = new CountDownLatch(1);
        final CountDownLatch left = new CountDownLatch(1);
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
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        @Override
        public void close() {
            leave.countDown();
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
            return Reclaimer.create(new Scheme.Hyaline(4, robust), Options.DEFAULT.withBarrier(b));
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

    /** The one slot whose session is active: the reader's, while it is in its guard and no other guard is open. */
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

    @ParameterizedTest(name = "{0}, robust={1}")
    @CsvSource({"FENCE, true", "FENCE, false", "ASYMMETRIC, true", "ASYMMETRIC, false"})
    void aFlushRacingAnotherCollectionsTidyingPassReclaimsTheBatchesOfAGuardThatClosed(String barrier, boolean robust)
            throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Consumer<Object> count = o -> ran.incrementAndGet();
        try (Reclaimer r = create(barrier, robust)) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            int afterRacingFlush;
            boolean parked;
            try (Reader reader = new Reader(r, cell)) {
                assertTrue(reader.inGuard.await(10, TimeUnit.SECONDS));
                HyalineParticipant slot = activeSlot(core(r));
                long s = slot.sessionVolatile();
                // 1. The racing pass on T read r's session word before the reader entered.
                long q = s - 1;
                assertTrue(!HyalineParticipant.active(q));
                // 3. B is retired and inserted into the reader's slot; everything about it completes.
                for (int i = 0; i < OBJECTS; i++) r.retire(new Object(), count);
                r.flush();
                assertEquals(0, ran.get(), "reclaimed while the reader's guard, which the batch joined, is open");
                // 4. T swaps r's list out and sorts it by its rule: a link stamped at or after q is kept.
                Object list = slot.takeList();
                assertTrue(list instanceof Link, "the retired batch did not join the open guard's slot");
                for (Object l = list; l instanceof Link link; l = link.next()) {
                    assertEquals(s, link.session(), "a link not stamped with the reader's session");
                    assertTrue(link.session() >= q, "the pass would drop this link: not the interleaving");
                }
                // 5. The reader leaves; its load of the head finds it null.
                reader.leave.countDown();
                assertTrue(reader.left.await(10, TimeUnit.SECONDS));
                assertTrue(!HyalineParticipant.active(slot.sessionVolatile()), "the slot is still active after its guard left");
                // 6. No guard open anywhere: everything retired before this call is reclaimed when it returns.
                r.flush();
                afterRacingFlush = ran.get();
                // 7. T puts its kept link back (the head is null: one CAS) and its collection ends.
                assertTrue(slot.casHead(null, list));
                parked = slot.headVolatile() instanceof Link && !HyalineParticipant.active(slot.sessionVolatile());
                // A later collection does pick it up: the failure is the racing flush's, and the parking meanwhile.
                r.flush();
                assertEquals(OBJECTS, ran.get(), "a later flush did not reclaim the batch either");
            }
            assertEquals(OBJECTS, afterRacingFlush, "flush() with no guard open anywhere returned with "
                    + (OBJECTS - afterRacingFlush) + " of " + OBJECTS + " objects retired before it unreclaimed: a"
                    + " tidying pass of another thread's collection held the list of a guard that has since closed"
                    + (parked ? ", then parked it in that guard's inactive slot, where it stayed after every"
                            + " collection had ended, until a later collection" : ""));
        }
        assertEquals(OBJECTS, ran.get(), "an object was reclaimed twice");
    }
}
