package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.hyaline.HyalineSlots.activeSlot;
import static reclaim.impl.hyaline.HyalineSlots.core;
import static reclaim.impl.hyaline.HyalineSlots.create;
import static reclaim.impl.hyaline.HyalineSlots.leaveWithoutSeeingTheList;
import static reclaim.impl.hyaline.HyalineSlots.policy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import reclaim.api.Reclaimer;
import reclaim.impl.core.Core;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.hyaline.HyalineSlots.Reader;

/**
 * {@code Reclaimer.flush()}: "With no guard open anywhere, every object retired before the call is reclaimed when it
 * returns." Under Hyaline a tidying pass of another thread's collection ({@code HyalinePolicy.tidy}) reads a slot's
 * head and session word and then acts on them, while the slot's holder may enter, receive a batch and leave. If that
 * pass took the whole list, it could hold a link of the holder's new session while the holder leaves (its leave then
 * finds the head null and takes nothing) and while a flush runs (which finds the head null too), and return with a
 * closed guard's batch unreclaimed:
 *
 * <ol>
 *   <li>A collection on thread T ends with its tidying pass. For slot r it reads the head, not null (a link that an
 *       insertion racing an earlier leave left there), then the session word: q, even.</li>
 *   <li>The reader enters on r: session q + 1. A retire and a flush insert batch B into r, stamped q + 1.</li>
 *   <li>T acts on what it read.</li>
 *   <li>The reader leaves; then another thread calls {@code flush()}, with no guard open anywhere.</li>
 * </ol>
 *
 * The pass takes a list only with a CAS from the head it read, after checking that every link below that head is of a
 * session before q: at step 3 its CAS fails (B's link is the head now), so the reader's leave takes B, and the flush
 * finds nothing held. T's steps are driven here through the pass's own attempt ({@code tidy(slot, head, session)})
 * with the values it read at step 1; everything else is the reclaimer's own.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FlushRacingATidyingPassTest {
    private static final int OBJECTS = 8;

    /** Retires {@link #OBJECTS} objects and flushes, so that they are inserted into the open guard's slot. */
    private static void retireIntoTheOpenGuard(Reclaimer r, Consumer<Object> count) {
        for (int i = 0; i < OBJECTS; i++) r.retire(new Object(), count);
        r.flush();
    }

    @ParameterizedTest(name = "{0}, robust={1}")
    @CsvSource({"FENCE, true", "FENCE, false", "ASYMMETRIC, true", "ASYMMETRIC, false"})
    void aFlushRacingAnotherCollectionsTidyingPassReclaimsTheBatchesOfAGuardThatClosed(String barrier, boolean robust)
            throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Consumer<Object> count = o -> ran.incrementAndGet();
        try (Reclaimer r = create(barrier, robust)) {
            AtomicReference<Object> cell = new AtomicReference<>(new Object());
            try (Reader reader = new Reader(r, cell)) {
                Core core = core(r);
                HyalinePolicy policy = policy(core);
                // A stale link in an inactive slot: batch A joined the reader's first guard, whose leave missed it.
                assertTrue(reader.inGuard.await(10, TimeUnit.SECONDS));
                HyalineParticipant slot = activeSlot(core);
                retireIntoTheOpenGuard(r, count);
                leaveWithoutSeeingTheList(reader, slot);
                // 1. T's pass reads the head, then the session word.
                Object h = slot.headVolatile();
                long q = slot.sessionVolatile();
                assertTrue(h instanceof Link && !HyalineParticipant.active(q));
                // 2. The reader enters again; batch B joins its new session.
                reader.enterAgain();
                assertTrue(reader.inSecondGuard.await(10, TimeUnit.SECONDS));
                assertEquals(q + 1, slot.sessionVolatile(), "the reader's second guard is not on the same slot");
                retireIntoTheOpenGuard(r, count);
                Object b = slot.headVolatile();
                assertTrue(b instanceof Link link && link.session() == q + 1, "batch B did not join the new session");
                assertEquals(0, ran.get(), "reclaimed while the reader's guard, which both batches joined, is open");
                // 3. T acts on what it read: it must not take B's link, which its new session may still need.
                boolean done = policy.tidy(slot, h, q);
                assertTrue(!done, "the pass did not notice that the list changed under it");
                assertTrue(slot.headVolatile() == b, "the pass took a list holding a link of a session it did not see");
                // It takes a list only with a CAS from the head it read: the list changed, so it took nothing (a pass
                // that took the whole list would hold B's link meanwhile, where the reader's leave cannot find it).
                assertEquals(0, ran.get(), "the pass took a list that changed under it");
                // 4. The reader leaves; then a flush with no guard open anywhere.
                reader.leaveAgain.countDown();
                assertTrue(reader.leftAgain.await(10, TimeUnit.SECONDS));
                r.flush();
                assertEquals(2 * OBJECTS, ran.get(), "flush() with no guard open anywhere returned with "
                        + (2 * OBJECTS - ran.get()) + " of " + 2 * OBJECTS + " objects retired before it unreclaimed");
                // T's pass goes on: it looks at the slot again and finds nothing to do.
                policy.tidy();
                assertNull(slot.headVolatile());
            }
        }
        assertEquals(2 * OBJECTS, ran.get(), "an object was reclaimed twice");
    }
}
