package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import reclaim.api.Atom;
import reclaim.api.Guard;
import reclaim.tck.Fixtures.Resource;

/**
 * {@link reclaim.api.Atom}: a resource swapped out of an atom is closed exactly once and never while a reader
 * holds it; {@code compareAndSet} retires only on success, and {@code update}'s losing candidates are closed.
 */
interface AtomConformance extends SchemeUnderTest {

    /**
     * A resource swapped under many readers is closed exactly once and never while read.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void atomClosesEachSwappedResourceOnceAndNeverWhileRead() throws Exception {
        int swaps = 20_000 * scaleFactor();
        ConcurrentLinkedQueue<Resource> created = new ConcurrentLinkedQueue<>();
        Resource first = new Resource(0);
        created.add(first);
        Atom<Resource> atom = new Atom<>(reclaimer(), first, Resource::close);
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> readers = new ArrayList<>();
        CountDownLatch reading = new CountDownLatch(3);
        for (int r = 0; r < 3; r++) {
            readers.add(start("atom-reader-" + r, () -> {
                boolean firstRead = true;
                while (firstRead || !done.get()) {
                    try (Guard g = reclaimer().enter()) {
                        Resource res = atom.load(g);
                        if (res.closed) violations.incrementAndGet();
                        Thread.onSpinWait();
                        if (res.closed) violations.incrementAndGet();
                    }
                    atom.read(res -> {
                        if (res.closed) violations.incrementAndGet();
                        return null;
                    });
                    reads.incrementAndGet();
                    if (firstRead) reading.countDown();
                    firstRead = false;
                }
            }, errors));
        }
        // every reader is in its loop before the swaps start (an unscheduled reader would test nothing)
        assertTrue(reading.await(60, TimeUnit.SECONDS), "readers did not start");
        for (int i = 1; i <= swaps; i++) {
            Resource next = new Resource(i);
            created.add(next);
            switch (i % 3) {
                case 0 -> atom.store(next);
                case 1 -> {
                    try (Guard g = reclaimer().enter()) {
                        Resource old = atom.swap(g, next);
                        assertFalse(old.closed, "swap returned a closed resource");
                    }
                }
                default -> atom.update(cur -> next);
            }
        }
        done.set(true);
        join(readers);
        assertNoErrors(errors);
        assertEquals(0, violations.get(), "a reader saw its resource closed while it held it");
        assertTrue(reads.get() >= 3);
        atom.close();
        assertThrows(IllegalStateException.class, () -> atom.store(new Resource(-1)));
        reclaimer().close();
        for (Resource r : created) assertEquals(1, r.closes.get(), "resource " + r.id + " closed " + r.closes.get() + " times");
    }

    /**
     * Storing or swapping in the value the atom already holds replaces nothing: the value is not retired, its
     * action never runs while it stays in the cell, and it is retired once when it is really replaced.
     */
    @Test
    default void atomStoringTheValueItHoldsRetiresNothing() {
        Resource v = new Resource(1);
        Atom<Resource> atom = new Atom<>(reclaimer(), v, Resource::close);
        atom.store(v);
        try (Guard g = reclaimer().enter()) {
            assertSame(v, atom.swap(g, v), "swap returns the value it kept");
        }
        reclaimer().flush();
        assertEquals(0, v.closes.get(), "a value still held by the atom was reclaimed");
        try (Guard g = reclaimer().enter()) {
            assertSame(v, atom.load(g));
        }
        Resource w = new Resource(2);
        atom.store(w);
        atom.close();
        reclaimer().close(); // reclaims everything retired
        assertEquals(1, v.closes.get(), "the value is retired once, when it is really replaced");
        assertEquals(1, w.closes.get(), "close() retires the value it held, once");
    }

    /**
     * Atom.compareAndSet retires only on success; update's losing candidates are reclaimed, not leaked.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void atomCompareAndSetAndUpdate() throws Exception {
        Resource a = new Resource(1);
        Resource b = new Resource(2);
        Atom<Resource> atom = new Atom<>(reclaimer(), a, Resource::close);
        assertFalse(atom.compareAndSet(b, new Resource(3)));
        assertTrue(atom.compareAndSet(a, b));
        assertEquals(2, (int) atom.read(r -> r.id));
        int threads = 2;
        int updates = 5_000;
        ConcurrentLinkedQueue<Resource> created = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            ts.add(start("updater-" + t, () -> {
                for (int i = 0; i < updates; i++) {
                    atom.update(cur -> {
                        Resource n = new Resource(cur.id + 1);
                        created.add(n);
                        return n;
                    });
                }
            }, errors));
        }
        join(ts);
        assertNoErrors(errors);
        assertEquals(2 + threads * updates, (int) atom.read(r -> r.id), "an update was lost");
        atom.close();
        reclaimer().close();
        assertEquals(1, a.closes.get());
        assertEquals(1, b.closes.get());
        for (Resource r : created) assertEquals(1, r.closes.get(), "candidate " + r.id + " closed " + r.closes.get() + " times");
    }

    /**
     * While the reclaimer is closing (a {@code close()} refused), {@code Atom.close()} is refused on a thread with no
     * guard open (the cell keeps its value) and accepted on the thread whose guard is open (the value is retired
     * there, and the reclaimer's completed close reclaims it once).
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void atomCloseWhileTheReclaimerClosesIsRefusedExceptInsideTheOpenGuard() throws Exception {
        Resource a = new Resource(1);
        Resource b = new Resource(2);
        Atom<Resource> refusedCell = new Atom<>(reclaimer(), a, Resource::close);
        Atom<Resource> acceptedCell = new Atom<>(reclaimer(), b, Resource::close);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread holder = start("holder", () -> {
            try (Guard g = reclaimer().enter()) {
                assertEquals(2, acceptedCell.load(g).id);
                inside.countDown();
                assertTrue(proceed.await(60, TimeUnit.SECONDS));
                acceptedCell.close(); // retired inside the open guard
                assertTrue(acceptedCell.toString().contains("closed"), acceptedCell.toString());
                assertFalse(b.closed, "closed while a guard was open");
            }
        }, errors);
        assertTrue(inside.await(60, TimeUnit.SECONDS));
        assertThrows(IllegalStateException.class, reclaimer()::close);
        assertThrows(IllegalStateException.class, refusedCell::close, "Atom.close() on a thread without a guard");
        assertTrue(refusedCell.toString().contains("open"), "the refused cell closed: " + refusedCell);
        assertFalse(a.closed, "the refused cell's value was closed while the reclaimer was closing");
        proceed.countDown();
        join(List.of(holder));
        assertNoErrors(errors);
        reclaimer().close();
        assertEquals(1, b.closes.get(), "the value retired inside the open guard");
        refusedCell.close(); // the reclaimer closed: the action runs at once
        assertEquals(1, a.closes.get());
    }

    /**
     * Closing a cell after its reclaimer closed runs the action on the calling thread: an exception it throws
     * propagates to the caller, and the cell is closed all the same.
     */
    @Test
    default void atomCloseAfterTheReclaimerClosedPropagatesAThrowingAction() {
        Atom<Resource> cell = new Atom<>(reclaimer(), new Resource(1), r -> {
            throw new IllegalArgumentException("action of " + r.id);
        });
        reclaimer().close();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, cell::close);
        assertEquals("action of 1", e.getMessage());
        assertTrue(cell.toString().contains("closed"), cell.toString());
        cell.close(); // idempotent: nothing runs again
    }
}
