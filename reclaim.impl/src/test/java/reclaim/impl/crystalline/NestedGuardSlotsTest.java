package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.crystalline.CrystallineIndices.create;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * {@code Guard.close()} under Crystalline-L: a nested guard's slots are those of its depth, and the next guard nested at
 * that depth takes them over (protecting in slot 0 at a moved era releases what slot 0 held in the guard that closed),
 * while what a nested guard protected without a slot stays protected until the outermost guard closes, whatever the
 * guards nested after it do with their slots.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NestedGuardSlotsTest {

    /** Unlinks {@code x} from {@code cell}, retires it and flushes, on another thread. */
    private static void unlinkAndRetire(ExecutorService writer, Reclaimer r, AtomicReference<Object> cell, Object x,
            AtomicBoolean reclaimed) throws Exception {
        writer.submit(() -> {
            cell.set(new Object());
            r.retire(x, o -> reclaimed.set(true));
            r.flush();
        }).get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FENCE", "ASYMMETRIC"})
    void whatANestedGuardProtectedWithoutASlotStaysUntilTheOutermostCloses(String barrier) throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("writer").factory());
        try (Reclaimer r = create(barrier)) {
            Object x = new Object();
            AtomicReference<Object> cell = new AtomicReference<>(x);
            AtomicReference<Object> other = new AtomicReference<>(new Object());
            AtomicBoolean reclaimed = new AtomicBoolean();
            try (Guard outer = r.enter()) {
                try (Guard a = outer.nest()) {
                    assertSame(x, a.protect(cell));
                    a.protect(other, 0);
                }
                unlinkAndRetire(writer, r, cell, x, reclaimed);
                try (Guard b = outer.nest()) {
                    b.protect(other, 0); // the next guard at that depth, same slot, at a moved era
                    b.protect(other, 1);
                }
                r.flush();
                assertFalse(reclaimed.get(), "reclaimed what a nested guard protected without a slot while the outermost is open");
            }
            r.flush();
            assertTrue(reclaimed.get(), "not reclaimed once the outermost guard closed");
        } finally {
            writer.shutdownNow();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FENCE", "ASYMMETRIC"})
    void theNextGuardAtADepthTakesOverItsSlots(String barrier) throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("writer").factory());
        try (Reclaimer r = create(barrier)) {
            Object x = new Object();
            AtomicReference<Object> cell = new AtomicReference<>(x);
            AtomicReference<Object> other = new AtomicReference<>(new Object());
            AtomicBoolean reclaimed = new AtomicBoolean();
            try (Guard outer = r.enter()) {
                try (Guard a = outer.nest()) {
                    assertSame(x, a.protect(cell, 0));
                }
                unlinkAndRetire(writer, r, cell, x, reclaimed);
                assertFalse(reclaimed.get(), "reclaimed while slot 0 of the closed nested guard still held it");
                try (Guard b = outer.nest()) {
                    b.protect(other, 1); // another slot: slot 0 still holds x
                    r.flush();
                    assertFalse(reclaimed.get(), "reclaimed when the next nested guard used another slot");
                    b.protect(other, 0); // slot 0 at a moved era: what it held is released
                }
                r.flush();
                assertTrue(reclaimed.get(), "the next guard at that depth did not take over slot 0");
            }
        } finally {
            writer.shutdownNow();
        }
    }
}
