package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import reclaim.api.Atom;
import reclaim.api.Reclaimer;

/**
 * An {@link Atom} whose reclaimer was closed first. Its javadoc: "Every value that is replaced is retired with the
 * cell's action, which runs exactly once", {@code store} and {@code compareAndSet} "@throws IllegalStateException if
 * the cell or the reclaimer is closed", and {@code close()} declares no exception. A refused call should leave
 * the cell as it was: otherwise the value it took out is never reclaimed (a resource leaked).
 */
class AtomOnAClosedReclaimerTest {

    /** A resource that counts its reclaim actions. */
    static final class Res {
        final AtomicInteger closes = new AtomicInteger();

        void close() {
            closes.incrementAndGet();
        }
    }

    /** store() refused on a closed reclaimer must not have replaced the value (which it then never retires). */
    @Test
    void aStoreRefusedBecauseTheReclaimerIsClosedLeavesTheCellUnchanged() {
        Reclaimer r = Reclaimer.create("ebr");
        Res old = new Res();
        Res next = new Res();
        Atom<Res> atom = new Atom<>(r, old, Res::close);
        r.close();
        assertThrows(IllegalStateException.class, () -> atom.store(next));
        // compareAndSet(x, x) only reads the cell: true if it holds x
        assertTrue(atom.compareAndSet(old, old) || old.closes.get() == 1,
                "store() threw IllegalStateException, yet the old value left the cell (it now holds the new one: "
                        + atom.compareAndSet(next, next) + ") and its action never ran (" + old.closes.get() + " runs)");
    }

    /** compareAndSet() refused on a closed reclaimer must not have replaced the value either. */
    @Test
    void aCompareAndSetRefusedBecauseTheReclaimerIsClosedLeavesTheCellUnchanged() {
        Reclaimer r = Reclaimer.create("ebr");
        Res old = new Res();
        Res next = new Res();
        Atom<Res> atom = new Atom<>(r, old, Res::close);
        r.close();
        assertThrows(IllegalStateException.class, () -> atom.compareAndSet(old, next));
        assertTrue(atom.compareAndSet(old, old) || old.closes.get() == 1,
                "compareAndSet() threw IllegalStateException, yet the old value left the cell and its action never ran");
    }

    /** Atom.close() declares no exception; after the reclaimer closed it throws and loses the value it held. */
    @Test
    void closingACellAfterItsReclaimerThrowsNothingAndLosesNothing() {
        Reclaimer r = Reclaimer.create("ebr");
        Res held = new Res();
        Atom<Res> atom = new Atom<>(r, held, Res::close);
        r.close();
        try {
            atom.close();
        } catch (IllegalStateException e) {
            throw new AssertionError("Atom.close() (no @throws) threw after the reclaimer was closed, and the value it"
                    + " held was taken out without its action (" + held.closes.get() + " runs): " + e.getMessage(), e);
        }
    }
}
