package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.Batch;
import reclaim.impl.core.CountedBatches;
import reclaim.impl.core.CountedBatches.Counted;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.core.Reclamation;

/**
 * Crystalline-W's insertion into one index, replayed step by step on one thread: the swap of the batch's own link,
 * the owner's deactivation racing it, and the retirer taking its link back. Links are reused with their batch, so the
 * take-back must expect the retirer's own link and nothing it read: these steps check that a link swapped in after a
 * deactivation is walked exactly once, by whom, and that a batch's next insertion reuses its link.
 */
class CrystallineWInsertionTest {
    private final Reclaimer reclaimer = CrystallineWPolicy.create(new Scheme.Crystalline(1, 4, true));
    private final Reclamation reclamation = ReclaimerHandle.coreOf(reclaimer).reclamation();
    /** Four indices, index 0 active at era 5 (as a guard that protected under era 5 leaves it). */
    private final WaitFreeReservations rs = new WaitFreeReservations(4);

    CrystallineWInsertionTest() {
        rs.setEraVolatile(0, 5);
    }

    @AfterEach
    void closeReclaimer() {
        reclaimer.close();
    }

    /** An object of the test and how often its action ran. */
    private static final class Obj {
        final AtomicInteger runs = new AtomicInteger();
        static final Consumer<Obj> FREE = o -> o.runs.incrementAndGet();
    }

    /** A sealed batch of one object; of capacity 2, so that the reclaimer's pool (of batches of 1) never keeps it. */
    private static Batch sealed(Obj o) {
        Batch b = new Batch(2);
        b.add(o, Obj.FREE);
        return b;
    }

    private static Counted counted(Obj o) {
        return CountedBatches.of(sealed(o), 0, null);
    }

    /** The owner's leave of index 0: INACTIVE first, then the list swapped out; walks what it detached. */
    private void ownerLeaves() {
        CrystallineWGuard.Detached d = new CrystallineWGuard.Detached(null, rs.count);
        CrystallineWGuard.detach(rs, 1L, d);
        for (int i = 0; i < d.n; i++) WaitFreeReservations.walk(d.lists[i], reclamation);
    }

    @Test
    void aLinkSwappedInAfterTheOwnerLeftIsTakenBackAndItsBatchReclaimedOnce() {
        Obj x = new Obj();
        Counted c = counted(x);
        // The retirer read index 0's era (5, active); the owner leaves before the retirer's swap.
        ownerLeaves();
        CrystallineWPolicy.insertLink(rs, 0, c, reclamation);
        assertNull(rs.firstVolatile(0), "the link stayed in the list of an index nobody will detach");
        assertEquals(0, x.runs.get(), "reclaimed before the retirer counted its links");
        CountedBatches.inserted(c, 1, reclamation);
        assertEquals(1, x.runs.get());
    }

    @Test
    void aRetirerWhoseLinkIsNoLongerTheHeadLeavesItsLinkToTheNewerRetirer() {
        Obj x = new Obj();
        Obj y = new Obj();
        Counted cx = counted(x);
        Counted cy = counted(y);
        ownerLeaves(); // both retirers read the era before this
        Link lx = CrystallineWPolicy.swapIn(rs, 0, cx, reclamation);
        Link ly = CrystallineWPolicy.swapIn(rs, 0, cy, reclamation); // in front of lx, linked to it
        CrystallineWPolicy.takeBackIfInactive(rs, 0, lx, reclamation);
        assertSame(ly, rs.firstVolatile(0), "the older retirer detached a list whose head is not its link");
        CrystallineWPolicy.takeBackIfInactive(rs, 0, ly, reclamation); // takes both back, walks both
        assertNull(rs.firstVolatile(0));
        CountedBatches.inserted(cx, 1, reclamation);
        CountedBatches.inserted(cy, 1, reclamation);
        assertEquals(1, x.runs.get());
        assertEquals(1, y.runs.get());
    }

    @Test
    void aTakeBackLeavesTheListOfAnIndexActiveAgainToItsOwner() {
        Obj x = new Obj();
        Counted c = counted(x);
        ownerLeaves();
        Link l = CrystallineWPolicy.swapIn(rs, 0, c, reclamation);
        rs.setEraVolatile(0, 7); // the owner protects again (the guard-wide index: no swap on activation)
        CrystallineWPolicy.takeBackIfInactive(rs, 0, l, reclamation);
        assertSame(l, rs.firstVolatile(0), "the list of an active index was detached by a retirer");
        CountedBatches.inserted(c, 1, reclamation);
        assertEquals(0, x.runs.get(), "reclaimed while in the list of an active index");
        ownerLeaves();
        assertEquals(1, x.runs.get());
    }

    @Test
    void aBatchInsertedAgainReusesItsLinkWithTheEarlierLifesMarkCleared() {
        Obj x = new Obj();
        Batch b = sealed(x);
        Counted c = CountedBatches.of(b, 0, null);
        CrystallineWPolicy.insertLink(rs, 0, c, reclamation);
        Link first = (Link) rs.firstVolatile(0);
        CountedBatches.inserted(c, 1, reclamation);
        ownerLeaves(); // the walk marks the link passed and drops the last reference
        assertEquals(1, x.runs.get());
        assertNull(first.next(), "a reclaimed batch's link keeps its walker's mark");

        // The batch's next life: the same wrapper and link, inserted behind a link of another batch.
        rs.setEraVolatile(0, 9);
        Obj y = new Obj();
        Counted other = counted(y);
        CrystallineWPolicy.insertLink(rs, 0, other, reclamation);
        Obj z = new Obj();
        b.add(z, Obj.FREE);
        Counted again = CountedBatches.of(b, 0, null);
        assertSame(c, again, "the wrapper is reused with its batch");
        CrystallineWPolicy.insertLink(rs, 0, again, reclamation);
        assertSame(first, rs.firstVolatile(0), "the link is reused with its batch");
        CountedBatches.inserted(other, 1, reclamation);
        CountedBatches.inserted(again, 1, reclamation);
        assertEquals(0, y.runs.get() + z.runs.get());
        ownerLeaves(); // one walk through both links
        // The walk trickles where the reclaimer amortizes its heavy barrier: it runs one batch and defers the other to
        // later seals, which flush() runs.
        reclaimer.flush();
        assertEquals(1, y.runs.get());
        assertEquals(1, z.runs.get());
        assertEquals(1, x.runs.get());
    }

    /**
     * The branch of {@link CrystallineWPolicy#swapIn} where a walker passes the link before its retirer linked it,
     * replayed (the swap, the owner's leave walking the link, then the retirer's failed link and its walk of what it
     * displaced), followed by both batches' next lives in one list. The walker's mark must not survive into the link's
     * next life: a link still marked would fail its next linkNext, and its retirer would walk the list it displaced,
     * dropping the reference of a batch still in the list of an active index.
     */
    @Test
    void aLinkPassedBeforeItsRetirerLinkedItIsLinkedNormallyInItsBatchsNextLife() {
        Obj p = new Obj();
        Batch bp = sealed(p);
        Counted cp = CountedBatches.of(bp, 0, null);
        CrystallineWPolicy.insertLink(rs, 0, cp, reclamation);
        Link lp = (Link) rs.firstVolatile(0);
        CountedBatches.inserted(cp, 1, reclamation);

        Obj x = new Obj();
        Batch bx = sealed(x);
        Counted cx = CountedBatches.of(bx, 0, null);
        // swapIn's first steps: the batch's link swapped in front of lp, not yet linked to it.
        Link node = cx.spare(null);
        Object prev = rs.getAndSetFirst(0, node);
        cx.linked();
        assertSame(lp, prev);
        ownerLeaves(); // detaches the list whose head is node; the walk passes node (next still null) and stops
        assertEquals(0, p.runs.get(), "the walker went past a link its retirer had not linked");
        assertFalse(node.linkNext(prev), "the retirer linked a link a walker had passed");
        WaitFreeReservations.walk(prev, reclamation); // swapIn: the retirer walks what it displaced
        assertEquals(1, p.runs.get());
        CrystallineWPolicy.takeBackIfInactive(rs, 0, node, reclamation); // head is null: nothing to take back
        CountedBatches.inserted(cx, 1, reclamation);
        assertEquals(1, x.runs.get());

        // Next lives of both batches (recycled), in index 0 active again: node goes in front of lp.
        rs.setEraVolatile(0, 9);
        Obj p2 = new Obj();
        bp.add(p2, Obj.FREE);
        Counted cp2 = CountedBatches.of(bp, 0, null);
        CrystallineWPolicy.insertLink(rs, 0, cp2, reclamation);
        CountedBatches.inserted(cp2, 1, reclamation);
        Obj x2 = new Obj();
        bx.add(x2, Obj.FREE);
        Counted cx2 = CountedBatches.of(bx, 0, null);
        CrystallineWPolicy.insertLink(rs, 0, cx2, reclamation);
        CountedBatches.inserted(cx2, 1, reclamation);
        assertSame(node, rs.firstVolatile(0), "the link is reused with its batch");
        assertSame(lp, node.next(), "the reused link was not linked to the list it displaced");
        assertEquals(0, p2.runs.get() + x2.runs.get(), "reclaimed while in the list of an active index");
        ownerLeaves();
        reclaimer.flush(); // the walk of two batches may defer one (see above)
        assertEquals(1, p2.runs.get());
        assertEquals(1, x2.runs.get());
        assertEquals(1, p.runs.get());
        assertEquals(1, x.runs.get());
    }
}
