package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A {@code protect} whose slot already holds the node it reads stores nothing, and the node stays protected as if it
 * had; a {@code protect} that reads another node replaces the hazard, so the old node is no longer held.
 */
class HpRepeatedProtectTest {

    /** A holder whose field is read with {@code protect(field, holder, slot)}. */
    static final class Cell {
        volatile Object value;

        Cell(Object value) {
            this.value = value;
        }
    }

    private static final VarHandle VALUE;

    static {
        try {
            VALUE = MethodHandles.lookup().findVarHandle(Cell.class, "value", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static void retireAndFlushOnAnotherThread(Reclaimer r, Object o, AtomicInteger freed)
            throws InterruptedException {
        Thread t = new Thread(() -> {
            if (o != null) r.retire(o, x -> freed.incrementAndGet());
            for (int i = 0; i < 4; i++) r.flush();
        }, "retirer");
        t.start();
        t.join();
    }

    @Test
    @SuppressWarnings("try") // the outer guard is held open, not used
    void aNodeProtectedAgainInTheSameSlotByTheNextInnerGuardStaysProtected() throws Exception {
        try (Reclaimer r = Reclaimer.create("hp")) {
            Object x = new Object();
            AtomicReference<Object> ref = new AtomicReference<>(x);
            AtomicInteger freed = new AtomicInteger();
            try (Guard outer = r.enter()) {
                try (Guard inner = r.enter()) {
                    assertSame(x, inner.protect(ref, 0));
                }
                try (Guard inner = r.enter()) { // the slot still holds x: this protect finds it there
                    assertSame(x, inner.protect(ref, 0));
                    ref.set(new Object());
                    retireAndFlushOnAnotherThread(r, x, freed);
                    assertEquals(0, freed.get(), "x was reclaimed while a guard that protected it is open");
                }
            }
            retireAndFlushOnAnotherThread(r, null, freed);
            assertEquals(1, freed.get(), "the outermost close released x");
        }
    }

    @Test
    void aFieldProtectedTwiceInOneGuardStaysProtected() throws Exception {
        try (Reclaimer r = Reclaimer.create("hp")) {
            Object x = new Object();
            Cell cell = new Cell(x);
            AtomicInteger freed = new AtomicInteger();
            try (Guard g = r.enter()) {
                assertSame(x, g.protect(VALUE, cell, 1));
                assertSame(x, g.protect(VALUE, cell, 1));
                cell.value = null;
                retireAndFlushOnAnotherThread(r, x, freed);
                assertEquals(0, freed.get(), "x was reclaimed while the guard that protected it twice is open");
            }
            retireAndFlushOnAnotherThread(r, null, freed);
            assertEquals(1, freed.get(), "the guard's close released x");
        }
    }

    @Test
    void protectingAnotherNodeInTheSlotReleasesTheFirst() throws Exception {
        try (Reclaimer r = Reclaimer.create("hp")) {
            Object x = new Object();
            Object y = new Object();
            AtomicReference<Object> ref = new AtomicReference<>(x);
            AtomicInteger freed = new AtomicInteger();
            try (Guard g = r.enter()) {
                assertSame(x, g.protect(ref, 0));
                ref.set(y);
                retireAndFlushOnAnotherThread(r, x, freed);
                assertEquals(0, freed.get(), "x was reclaimed while its hazard is published");
                assertSame(y, g.protect(ref, 0)); // the slot now holds y
                retireAndFlushOnAnotherThread(r, null, freed);
                assertEquals(1, freed.get(), "x is still held after its slot moved on to y");
            }
        }
    }
}
