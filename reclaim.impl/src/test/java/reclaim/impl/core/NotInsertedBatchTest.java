package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Born;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A counting scheme's insertion that fails before it publishes a link (an allocation, or a sweep of an ended
 * thread's participant whose seal fails) sends the batch back to the store, and a later collection inserts it again.
 * What the failed attempt counted among the objects a stalled reader may hold ({@code pendingBound()}'s old objects)
 * must be taken back with it, or the bound only grows. White-box: the failing attempt is replayed by hand, its
 * counting and then its sending back, as {@code insert}'s catch does.
 */
class NotInsertedBatchTest {
    record Old(long birthEra) implements Born {}

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hyaline", "crystalline", "crystalline-w"})
    void aBatchSentBackBeforeItsLinksWerePublishedIsCountedOnceWhenInsertedAgain(String scheme) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme));
        Core core = ((GuardLookup) r).core;
        CountingPolicy policy = (CountingPolicy) core.policy;
        AtomicInteger ran = new AtomicInteger();
        Batch b = new Batch(core.batchSize());
        for (int i = 0; i < 4; i++) b.add(new Old(1), o -> ran.incrementAndGet());
        policy.sealing(b);
        long before = policy.oldPending();
        policy.counted(b, Long.MAX_VALUE); // every object born before the oldest reservation: counted old
        assertEquals(before + 4, policy.oldPending(), scheme);
        policy.notInserted(b); // the attempt failed before its first link
        assertEquals(before, policy.oldPending(), scheme + ": taken back with the batch");
        r.flush(); // inserted again (no guard open: reclaimed at once)
        assertEquals(4, ran.get(), scheme + ": the batch was reclaimed, once");
        r.close();
        assertEquals(before, policy.oldPending(), scheme + ": nothing counted once everything was reclaimed");
    }
}
