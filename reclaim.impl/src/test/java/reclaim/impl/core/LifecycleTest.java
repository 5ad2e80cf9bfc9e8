package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What close() relies on: a collection counts itself in unless the core is closing, and the count is exact. */
class LifecycleTest {

    @Test
    void aCollectionIsRefusedOnceTheCoreIsClosingAndLeavesNoCountBehind() {
        Lifecycle l = new Lifecycle() {};
        assertTrue(l.tryBeginWork());
        assertEquals(1, l.inFlightVolatile());
        l.setStateVolatile(Lifecycle.CLOSING);
        assertFalse(l.tryBeginWork(), "a collection started while closing");
        assertEquals(1, l.inFlightVolatile(), "a refused collection left its count behind");
        l.endWork();
        assertEquals(0, l.inFlightVolatile());
    }

    @Test
    void workThatMustRunIsCountedWhateverTheState() {
        Lifecycle l = new Lifecycle() {};
        l.setStateVolatile(Lifecycle.CLOSING);
        l.beginWork();
        assertFalse(l.awaitQuiet(System.nanoTime() + 1_000_000, new Backoff()), "quiet with work in flight");
        l.endWork();
        assertTrue(l.awaitQuiet(System.nanoTime(), new Backoff()), "not quiet with nothing in flight");
    }
}
