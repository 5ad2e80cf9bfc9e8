package reclaim.impl.crystalline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.crystalline.CrystallineIndices.create;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * {@code Guard.reserve(key, slot)}: "{@code true} when the reservation already held covers {@code key} read before
 * the call"; the caller must "use slot {@code s} for nothing else" between its read of the key and the reserve that
 * validates it. Nested deeper than {@link CrystallineGuard#LEVELS}, every slot of Crystalline-L is the guard-wide
 * index: validating a key in slot 0 activates that index and publishes its era, and a key read before that into slot
 * 1 (which the caller did not use meanwhile) is then reported covered by a reservation that did not exist when it was
 * read. Here its object is unlinked, retired and reclaimed between the read and the reserves (no index of the reader
 * was active, so no retirer could keep it), and {@code reserve(key, 1)} still answers {@code true}.
 * At depth 1 (distinct indices per slot) the same sequence answers false.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReserveAtADeepLevelTest {
    private static final long X = 1; // the key of the object that is unlinked and reclaimed
    private static final long Y = 2; // the key the caller validates in slot 0

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FENCE", "ASYMMETRIC"})
    void aKeyReadBeforeAnotherSlotActivatedTheGuardWideIndexIsNotReportedCovered(String barrier) throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("writer").factory());
        try (Reclaimer r = create(barrier)) {
            AtomicLong source = new AtomicLong(X); // the shared link the reader reads its keys from
            AtomicBoolean reclaimed = new AtomicBoolean();
            Guard g = r.enter();
            int depth = 1;
            try {
                for (; depth < 4; depth++) g = g.nest(); // depth 4: past the LEVELS levels with slots of their own
                long x = source.get(); // the caller reads a key for slot 1 (volatile)
                // Meanwhile a writer unlinks x's object, retires it and flushes: no index of the reader is active,
                // so nothing keeps it, and it is reclaimed.
                writer.submit(() -> {
                    source.set(Y);
                    r.retire(new Object(), o -> reclaimed.set(true));
                    r.flush();
                }).get(10, TimeUnit.SECONDS);
                assertTrue(reclaimed.get(), "setup: the unlinked object was not reclaimed");
                // The caller validates another key in slot 0 with the documented loop.
                long y = source.get();
                while (!g.reserve(y, 0)) y = source.get();
                assertEquals(Y, y);
                // Slot 1 was used for nothing since x was read: reserve must not report x covered.
                assertFalse(g.reserve(x, 1),
                        "reserve(x, 1) answered true (use it) for a key read before any reservation of this guard, whose"
                                + " object was already reclaimed");
            } finally {
                for (; depth > 0; depth--) g.close(); // one guard object, its nesting counted down
            }
        } finally {
            writer.shutdownNow();
        }
    }
}
