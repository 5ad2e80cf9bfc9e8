package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

/**
 * Reuse of a counted batch ({@link CountedBatches}), step by step on one list head as Hyaline's slot or a
 * Crystalline index holds it: a batch whose count reached zero is recycled through the pool, and its next insertion
 * reuses its wrapper and its links. The steps are the interleavings that the class documentation argues are safe,
 * forced in order on one thread: a retirer whose CAS still expects a link of the batch's earlier life, and a
 * walker's decrement racing the insertion of the batch's next life.
 */
class CountedBatchReuseTest {
    /** The head of a list with a guard and nothing inserted (null in Hyaline's slot and in a Crystalline index; an object here, so that the test can tell it). */
    private static final Object EMPTY = new Object();

    private final BatchPool pool = new BatchPool(1);
    private final Reclamation reclamation =
            new Reclamation(new Telemetry("hyaline", new Capabilities(false, false, Integer.MAX_VALUE, 1, Long.MAX_VALUE)),
                    null, null, pool, 0);

    /** An object of the test and how often its action ran. */
    private static final class Obj {
        final AtomicInteger runs = new AtomicInteger();
        static final Consumer<Obj> FREE = o -> o.runs.incrementAndGet();
    }

    private Batch sealed(Obj o) {
        Batch b = pool.take();
        b.add(o, Obj.FREE);
        return b;
    }

    /** A retirer's insertion into one list, uncontended: the link CASed over the head it read, then the count. */
    private CountedBatches.Link insert(CountedBatches.Counted c, AtomicReference<Object> head) {
        Object prev = head.get();
        CountedBatches.Link l = c.spare(prev);
        assertTrue(head.compareAndSet(prev, l));
        c.linked();
        CountedBatches.inserted(c, 1, reclamation);
        return l;
    }

    @Test
    void aStaleCasOnALinkOfTheBatchsEarlierLifeKeepsTheListWholeAndEveryObjectRunsOnce() {
        AtomicReference<Object> slot = new AtomicReference<>(EMPTY); // a guard is in the slot
        Obj x = new Obj();
        Batch bx = sealed(x);
        CountedBatches.Counted cx = CountedBatches.of(bx, 0, null);
        CountedBatches.Link lx = insert(cx, slot); // life 1 of bx: one link, count 1

        // Retirer R (batch of b) reads the head, lx, and prepares its link; it stalls before its CAS.
        Obj b = new Obj();
        Batch bb = sealed(b);
        CountedBatches.Counted cb = CountedBatches.of(bb, 0, null);
        Object seen = slot.get();
        assertSame(lx, seen);
        CountedBatches.Link lr = cb.spare(seen);

        // The guard leaves (detaches its list) and a guard enters the slot again; the walk drops bx's last reference.
        Object detached = slot.getAndSet(EMPTY);
        CountedBatches.traverse(detached, reclamation);
        assertEquals(1, x.runs.get());
        assertTrue(pool.keeps(bx), "the reclaimed batch went back to the pool");
        assertNull(lx.next(), "a reclaimed batch's link still points into the list it left");

        // Life 2 of bx: the next seal takes it, the insertion renews its wrapper and reuses lx as the slot's head.
        Obj y = new Obj();
        Batch again = sealed(y);
        assertSame(bx, again);
        CountedBatches.Counted cy = CountedBatches.of(again, 0, null);
        assertSame(cx, cy, "the wrapper is reused with its batch");
        assertSame(lx, insert(cy, slot), "the link is reused with its wrapper");
        assertSame(EMPTY, lx.next());

        // R resumes: its CAS expects lx, which is the head again (ABA); it succeeds and R's link goes in front of it.
        assertTrue(slot.compareAndSet(seen, lr));
        cb.linked();
        CountedBatches.inserted(cb, 1, reclamation);
        assertSame(lx, lr.next(), "R's link is a correct front of the current list");
        assertEquals(0, b.runs.get(), "b is in the list of an open guard");
        assertEquals(0, y.runs.get(), "y is in the list of an open guard");

        // The guard leaves: one walk reclaims both, each once; nothing is left counted.
        CountedBatches.traverse(slot.getAndSet(EMPTY), reclamation);
        assertEquals(1, x.runs.get());
        assertEquals(1, y.runs.get());
        assertEquals(1, b.runs.get());
        assertTrue(pool.keeps(bx) || pool.keeps(bb), "the reclaimed batches went back to the pool");
        assertNull(lx.next());
        assertNull(lr.next());
    }

    @Test
    void aWalkerDecrementingBeforeTheRetirerCountsItsLinksNeverReclaimsEarly() {
        AtomicReference<Object> slot = new AtomicReference<>(EMPTY);
        Obj x = new Obj();
        Batch bx = sealed(x);
        insert(CountedBatches.of(bx, 0, null), slot);
        CountedBatches.traverse(slot.getAndSet(EMPTY), reclamation); // life 1 over, bx recycled
        assertEquals(1, x.runs.get());

        // Life 2: the link goes in, the guard leaves and walks it before the retirer adds its count.
        Obj y = new Obj();
        Batch again = sealed(y);
        assertSame(bx, again);
        CountedBatches.Counted c = CountedBatches.of(again, 0, null);
        Object prev = slot.get();
        assertTrue(slot.compareAndSet(prev, c.spare(prev)));
        c.linked();
        CountedBatches.traverse(slot.getAndSet(EMPTY), reclamation); // the count goes to -1: not the last reference
        assertEquals(0, y.runs.get(), "reclaimed before the retirer counted its links");
        CountedBatches.inserted(c, 1, reclamation); // -1 + 1: the retirer's add is the last reference
        assertEquals(1, y.runs.get());

        // Life 3 starts from a zero count again; a wrapper inserted while still counted is refused.
        Obj z = new Obj();
        Batch third = sealed(z);
        assertSame(bx, third);
        CountedBatches.Counted c3 = CountedBatches.of(third, 0, null);
        insert(c3, slot); // count 1: the slot's guard holds it
        assertThrows(IllegalStateException.class, () -> CountedBatches.of(third, 0, null));
        CountedBatches.traverse(slot.getAndSet(EMPTY), reclamation);
        assertEquals(1, z.runs.get());
    }
}
