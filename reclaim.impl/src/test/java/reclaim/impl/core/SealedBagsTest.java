package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The store of sealed bags counts what it holds, in the shared queue and on participants' stacks. */
class SealedBagsTest {

    private static Batch bagOf(int n) {
        Batch b = new Batch(n);
        for (int i = 0; i < n; i++) b.add(i, o -> {});
        return b;
    }

    @Test
    void theSharedQueueIsOldestFirstAndCounted() {
        SealedBags s = new SealedBags(false);
        Participant p = new Participant(Participant.FREE, null, 4);
        Batch a = bagOf(3);
        Batch b = bagOf(2);
        s.publish(p, a);
        s.add(b);
        assertTrue(s.waiting());
        assertEquals(5, s.objects());
        assertSame(a, s.poll());
        assertEquals(2, s.objects());
        assertSame(b, s.poll());
        assertNull(s.poll());
        assertFalse(s.waiting());
        s.add(new Batch(4)); // empty: nothing to wait for
        assertNull(s.peek());
    }

    @Test
    void perParticipantBagsAreTakenWholeFromEveryParticipant() {
        SealedBags s = new SealedBags(true);
        Participant p = new Participant(Participant.FREE, null, 4);
        Participant q = new Participant(Participant.FREE, null, 4);
        s.publish(p, bagOf(1));
        s.publish(p, bagOf(2));
        s.publish(q, bagOf(4));
        assertNull(s.poll(), "per-participant bags went to the shared queue");
        assertEquals(7, s.objects());
        List<Batch> taken = new ArrayList<>();
        assertEquals(3, s.takeFromParticipants(new Participant[] {p, q}, taken::add));
        assertEquals(7, taken.stream().mapToInt(Batch::size).sum());
        assertFalse(s.waiting());
    }
}
