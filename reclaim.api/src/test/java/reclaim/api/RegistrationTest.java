package reclaim.api;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The defaults a third-party provider's registration inherits. */
class RegistrationTest {

    /** A registration that implements nothing but close(). */
    static final class Minimal implements Registration {
        @Override
        public void close() {}
    }

    @Test
    void quiescentStateCallsDefaultToNothing() {
        Minimal reg = new Minimal();
        assertDoesNotThrow(reg::quiescent);
        assertDoesNotThrow(reg::offline);
        assertDoesNotThrow(reg::online);
    }

    @Test
    void enterIsRefusedWithTheWayOutWhenTheProviderCannotOpenGuards() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, new Minimal()::enter);
        assertTrue(e.getMessage().contains(Minimal.class.getName()), e.getMessage());
        assertTrue(e.getMessage().contains("Reclaimer.enter()"), e.getMessage());
    }
}
