package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The store of sealed bags counts what it holds, in the shared queue and on participants' stacks. */
class SealedBagsTest {

    private static Batch bagOf(int n) {
        Batch b = new Batch(n);
        for (int i = 0; i < n; i++) b.add(i, o -> {});
        return b;
    }

    private static Batch bagOf(int n, long tag) {
        Batch b = bagOf(n);
        b.tag(tag);
        return b;
    }

    @Test
    void theSharedStackIsTakenWholeNewestFirstAndCounted() {
        SealedBags s = new SealedBags(false);
        Participant p = new Participant(Participant.FREE, null, 4);
        Batch a = bagOf(3);
        Batch b = bagOf(2);
        s.publish(p, a);
        s.add(b);
        assertTrue(s.waiting());
        assertEquals(5, s.objects());
        Batch chain = s.takeAll();
        assertSame(b, chain);
        assertSame(a, chain.next());
        assertNull(a.next());
        assertEquals(0, s.objects());
        assertFalse(s.waiting());
        assertNull(s.takeAll());
        s.add(new Batch(4)); // empty: nothing to wait for
        assertTrue(s.sharedEmpty());
    }

    @Test
    void aChainPutBackIsCountedAndTakenAgainWhole() {
        SealedBags s = new SealedBags(false);
        Batch a = bagOf(3);
        Batch b = bagOf(2);
        a.link(b);
        s.addChain(a);
        s.add(bagOf(1));
        assertEquals(6, s.objects());
        int bags = 0;
        long objects = 0;
        for (Batch x = s.takeAll(); x != null; x = x.next()) {
            bags++;
            objects += x.size();
        }
        assertEquals(3, bags);
        assertEquals(6, objects);
        assertEquals(0, s.objects());
    }

    @Test
    void theTagHintIsTheSmallestTagUntilATakeResetsIt() {
        SealedBags s = new SealedBags(false);
        assertEquals(Long.MAX_VALUE, s.minTagHint());
        s.add(bagOf(1, 7));
        s.add(bagOf(1, 5));
        s.add(bagOf(1, 9));
        assertEquals(5, s.minTagHint());
        Batch chain = s.takeAll();
        assertEquals(Long.MAX_VALUE, s.minTagHint(), "nothing left: no bag holds the hint down");
        // Put back the two youngest: the hint is their smallest tag.
        Batch keep = null;
        for (Batch x = chain, next; x != null; x = next) {
            next = x.next();
            x.link(null);
            if (x.tag() != 5) {
                x.link(keep);
                keep = x;
            }
        }
        s.addChain(keep);
        assertEquals(7, s.minTagHint());
    }

    @Test
    void concurrentPushesAndTakesLoseNoBagAndLeaveTheHintAtMostEveryTag() throws Exception {
        SealedBags s = new SealedBags(false);
        int pushers = 3;
        int each = 20_000;
        AtomicLong takenObjects = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        Thread taker = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                for (Batch x = s.takeAll(); x != null; x = x.next()) takenObjects.addAndGet(x.size());
            }
        });
        Thread[] ts = new Thread[pushers];
        for (int t = 0; t < pushers; t++) {
            ts[t] = Thread.ofPlatform().start(() -> {
                // Decreasing tags: every push must lower the hint, racing with the taker's raises.
                for (int i = 0; i < each; i++) s.add(bagOf(1 + (i & 3), each - i));
            });
        }
        for (Thread t : ts) t.join();
        done.set(true);
        taker.join();
        // Every push has completed: the hint is at most the tag of every bag left.
        long hint = s.minTagHint();
        long min = Long.MAX_VALUE;
        for (Batch x = s.takeAll(); x != null; x = x.next()) {
            takenObjects.addAndGet(x.size());
            min = Math.min(min, x.tag());
        }
        assertTrue(hint <= min, "hint " + hint + " above a bag's tag " + min);
        long expected = 0;
        for (int i = 0; i < each; i++) expected += 1 + (i & 3);
        assertEquals(pushers * expected, takenObjects.get(), "a bag was lost or taken twice");
        assertEquals(0, s.objects());
    }

    @Test
    void perParticipantBagsAreTakenWholeFromEveryParticipant() {
        SealedBags s = new SealedBags(true);
        Participant p = new Participant(Participant.FREE, null, 4);
        Participant q = new Participant(Participant.FREE, null, 4);
        s.publish(p, bagOf(1));
        s.publish(p, bagOf(2));
        s.publish(q, bagOf(4));
        assertNull(s.takeAll(), "per-participant bags went to the shared stack");
        assertEquals(7, s.objects());
        List<Batch> taken = new ArrayList<>();
        assertEquals(3, s.takeFromParticipants(new Participant[] {p, q}, taken::add));
        assertEquals(7, taken.stream().mapToInt(Batch::size).sum());
        assertFalse(s.waiting());
    }
}
