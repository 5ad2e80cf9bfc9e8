package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A {@code protect} whose slot already holds the node it reads stores nothing, and the node stays protected as if it
 * had (after a renewal of the slot arrays, after an owned guard changed threads, for a node recycled by its action);
 * a {@code protect} that reads another node replaces the hazard, so the old node is no longer held.
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
        onAnotherThread(() -> {
            if (o != null) r.retire(o, x -> freed.incrementAndGet());
            for (int i = 0; i < 4; i++) r.flush();
        });
    }

    private static void onAnotherThread(Runnable task) throws InterruptedException {
        Thread t = new Thread(task, "other");
        t.start();
        t.join();
    }

    private static Reclaimer create(Options.Barrier barrier) {
        return Reclaimer.create(new Scheme.HazardPointers(), Options.DEFAULT.withBarrier(barrier));
    }

    @ParameterizedTest
    @EnumSource(value = Options.Barrier.class, names = {"FENCE", "AUTO"})
    @SuppressWarnings("try") // the outer guard is held open, not used
    void aNodeFoundAgainInARenewedSlotArrayStaysProtected(Options.Barrier barrier) throws Exception {
        try (Reclaimer r = create(barrier)) {
            Object x = new Object();
            AtomicReference<Object> ref = new AtomicReference<>(x);
            AtomicReference<Object> busy = new AtomicReference<>();
            AtomicInteger freed = new AtomicInteger();
            try (Guard outer = r.enter()) {
                try (Guard inner = r.enter()) {
                    assertSame(x, inner.protect(ref, 0)); // kept in level 1, slot 0 after the inner close
                }
                Object[] before = ((HpParticipant) ((HpGuard) outer).record()).hazardsAcquire();
                Object one = new Object();
                Object other = new Object();
                for (int i = 0; i <= HpGuard.RENEW_EVERY + 1; i++) { // stores enough hazards to renew the arrays
                    busy.set((i & 1) == 0 ? one : other);
                    outer.protect(busy, 1);
                }
                assertNotSame(before, ((HpParticipant) ((HpGuard) outer).record()).hazardsAcquire(), "no renewal");
                try (Guard inner = r.enter()) {
                    assertSame(x, inner.protect(ref, 0)); // the renewed array's copy of the slot holds x
                    ref.set(null);
                    retireAndFlushOnAnotherThread(r, x, freed);
                    assertEquals(0, freed.get(), barrier + ": x was reclaimed while a guard that protected it is open");
                }
            }
            retireAndFlushOnAnotherThread(r, null, freed);
            assertEquals(1, freed.get(), barrier + ": x was not reclaimed exactly once after the outermost close");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Options.Barrier.class, names = {"FENCE", "AUTO"})
    void aNodeFoundAgainByTheNextThreadOfAnOwnedGuardStaysProtected(Options.Barrier barrier) throws Exception {
        try (Reclaimer r = create(barrier)) {
            Object x = new Object();
            AtomicReference<Object> ref = new AtomicReference<>(x);
            AtomicInteger freed = new AtomicInteger();
            AtomicReference<OwnedGuard> owned = new AtomicReference<>();
            AtomicReference<Object> seen = new AtomicReference<>();
            onAnotherThread(() -> {
                owned.set(r.enterOwned());
                owned.get().protect(ref, 0);
            });
            onAnotherThread(() -> { // the slot holds x: this protect finds it there
                seen.set(owned.get().protect(ref, 0));
                ref.set(null);
            });
            assertSame(x, seen.get());
            retireAndFlushOnAnotherThread(r, x, freed);
            assertEquals(0, freed.get(), barrier + ": x was reclaimed while the owned guard protects it");
            onAnotherThread(() -> owned.get().close());
            retireAndFlushOnAnotherThread(r, null, freed);
            assertEquals(1, freed.get(), barrier + ": x was not reclaimed exactly once after the owned guard closed");
        }
    }

    @Test
    void aRecycledNodeFoundAgainInItsOldSlotStaysProtected() throws Exception {
        try (Reclaimer r = Reclaimer.create("hp")) {
            Object x = new Object();
            AtomicReference<Object> ref = new AtomicReference<>(x);
            AtomicInteger freed = new AtomicInteger();
            try (Guard g = r.enter()) {
                assertSame(x, g.protect(ref, 0));
            }
            ref.set(null);
            onAnotherThread(() -> { // reclaimed, and put back by its own action: a recycled node
                r.retire(x, o -> {
                    freed.incrementAndGet();
                    ref.set(o);
                });
                for (int i = 0; i < 4; i++) r.flush();
            });
            assertEquals(1, freed.get());
            assertSame(x, ref.get());
            try (Guard g = r.enter()) {
                assertSame(x, g.protect(ref, 0));
                assertSame(x, g.protect(ref, 0)); // found in its slot: no store
                ref.set(null);
                retireAndFlushOnAnotherThread(r, x, freed);
                assertEquals(1, freed.get(), "the recycled node was reclaimed while a guard protects it");
            }
            retireAndFlushOnAnotherThread(r, null, freed);
            assertEquals(2, freed.get(), "the recycled node was not reclaimed exactly once more");
        }
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
