package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import reclaim.api.Stats;

/**
 * Containment: a reclaim action that throws is counted in {@code Stats.failed()} and stops no other action.
 */
interface ContainmentConformance extends SchemeUnderTest {

    /** An action that throws is counted, and every other action still runs. */
    @Test
    default void throwingActionsAreContainedAndCounted() {
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 200; i++) {
            if (i % 4 == 0) {
                reclaimer().retire(i, x -> {
                    throw new IllegalStateException("deliberate failure of action " + x);
                });
            } else {
                reclaimer().retire(i, x -> ran.incrementAndGet());
            }
        }
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertEquals(150, ran.get());
            assertEquals(50, reclaimer().stats().failed());
        }
        reclaimer().close();
        Stats s = reclaimer().stats();
        assertEquals(150, ran.get());
        assertEquals(50, s.failed());
        assertEquals(200, s.reclaimed());
        assertEquals(200, s.retired());
    }
}
