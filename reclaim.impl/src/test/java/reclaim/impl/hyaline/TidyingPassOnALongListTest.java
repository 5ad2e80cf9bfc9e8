package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.hyaline.HyalineSlots.activeSlot;
import static reclaim.impl.hyaline.HyalineSlots.core;
import static reclaim.impl.hyaline.HyalineSlots.create;
import static reclaim.impl.hyaline.HyalineSlots.leaveWithoutSeeingTheList;
import static reclaim.impl.hyaline.HyalineSlots.length;
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
 * The tidying pass ({@code HyalinePolicy.tidy(slot, head, session)}) must never hold a link of a session that began
 * after its read of the slot's session word: while it holds one, that session's leave finds the head without it, and a
 * {@code flush()} on another thread, with no guard open anywhere, finds it neither in the slot nor anywhere else (see
 * {@link FlushRacingATidyingPassTest}). A pass that took a list longer than its scan limit (4096 links) with a swap,
 * rather than with a CAS from the head it read, took whatever had been pushed in front of that head since:
 *
 * <ol>
 *   <li>Slot r is inactive (session q, even) and holds more than 4096 links of ended sessions (made as
 *       {@link LateInsertionIntoALeftSlotTest} makes one: the list taken while the guard is open and put back after it
 *       left). The pass of a collection on thread T reads the head h, then q.</li>
 *   <li>The reader enters on r (session q + 1); a retire and a flush insert batch B in front of h, stamped q + 1.</li>
 *   <li>T's attempt goes on with (h, q).</li>
 * </ol>
 *
 * Links in a slot's list are never changed while they are in it ({@code CountedBatches.Link}): if B's link never left
 * the list, it is still the head with its {@code next} still h. (The scan also stops at its limit where its plain reads
 * wander into another list through a recycled link, so a long list is not needed in the slot itself to reach it.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TidyingPassOnALongListTest {
    /** More stale links than the pass scans before it falls back to a swap. */
    private static final int STALE = 4200;

    @ParameterizedTest(name = "{0}, robust={1}")
    @CsvSource({"FENCE, true", "FENCE, false", "ASYMMETRIC, true", "ASYMMETRIC, false"})
    void theTidyingPassDoesNotTakeALinkOfALaterSessionFromALongList(String barrier, boolean robust) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Consumer<Object> count = o -> ran.incrementAndGet();
        try (Reclaimer r = create(barrier, robust, 1)) { // a link per retired object
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
                assertEquals(STALE, length(slot.headVolatile()), "not every batch joined the open guard's slot");
                leaveWithoutSeeingTheList(reader, slot);
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
