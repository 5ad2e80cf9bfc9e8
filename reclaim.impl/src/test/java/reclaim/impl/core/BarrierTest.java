package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The barrier strategy where the heavy barrier is available: this suite runs with native access enabled for
 * reclaim.impl on Linux (x86-64 or AArch64), where membarrier(2) is expected to work; the fallback without native
 * access is {@link BarrierFallbackTest}.
 */
class BarrierTest {

    @org.junit.jupiter.api.BeforeEach
    void runsWithNativeAccess() {
        // The default surefire execution grants it; a run that selects this class into the execution without
        // native access (BarrierFallbackTest's) skips it.
        org.junit.jupiter.api.Assumptions.assumeTrue(BarrierTest.class.getModule().isNativeAccessEnabled(),
                "runs in the surefire execution with native access");
    }

    @Test
    void theHeavyBarrierIsAvailableWithNativeAccessOnLinux() {
        assertNull(Membarrier.unavailableReason(), "membarrier should be usable in this test JVM");
        Membarrier.run(); // and runs
    }

    @Test
    void autoPicksTheAsymmetricStrategyWhereItIsAvailable() {
        try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(), Options.DEFAULT)) {
            assertSame(Options.Barrier.ASYMMETRIC, r.stats().barrier());
            assertTrue(r.stats().toString().contains("barrier=asymmetric"), r.stats().toString());
            assertTrue(r.toString().contains("asymmetric barrier"), r.toString());
        }
    }

    @Test
    void eachStrategyCanBeForcedForEveryScheme() {
        for (String name : new String[] {"qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w", "none"}) {
            Scheme s = Scheme.named(name);
            for (Options.Barrier b : new Options.Barrier[] {Options.Barrier.FENCE, Options.Barrier.ASYMMETRIC}) {
                try (Reclaimer r = Reclaimer.create(s, Options.DEFAULT.withBarrier(b))) {
                    assertSame(b, r.stats().barrier(), name);
                    assertSame(b, ReclaimerHandle.coreOf(r).barrier.kind(), name);
                }
            }
        }
    }

    /** A guard's protect, a writer's unlink and retire, and a flush: nothing reclaimed while protected, all at close. */
    @Test
    void aProtectedObjectSurvivesAScanUnderTheAsymmetricStrategy() {
        for (String name : new String[] {"ebr", "hp", "hyaline", "crystalline", "crystalline-w"}) {
            try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC))) {
                AtomicInteger freed = new AtomicInteger();
                Object first = new Object();
                AtomicReference<Object> head = new AtomicReference<>(first);
                long before = Membarrier.calls();
                try (Guard g = r.enter()) {
                    assertSame(first, g.protect(head, 0));
                    Thread writer = Thread.ofPlatform().start(() -> {
                        head.set(new Object());
                        r.retire(first, o -> freed.incrementAndGet());
                        r.flush();
                    });
                    join(writer);
                    assertEquals(0, freed.get(), name + ": reclaimed while protected");
                }
                r.flush();
                r.flush();
                assertEquals(1, freed.get(), name + ": reclaimed once the guard closed");
                assertTrue(Membarrier.calls() > before, name + ": the scans (or the batch insertion) ran membarrier");
            }
        }
    }

    /** Joins {@code t}, failing the test if the caller is interrupted. */
    static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
