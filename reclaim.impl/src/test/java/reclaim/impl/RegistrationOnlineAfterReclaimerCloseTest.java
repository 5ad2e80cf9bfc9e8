package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Reclaimer;
import reclaim.api.Registration;

/**
 * {@link Registration#online()}: "@throws IllegalStateException if called inside a guard, from another thread, after
 * {@link Registration#close()}, or when the reclaimer is closed". Every built-in scheme checks the first three; this
 * checks the fourth under every scheme.
 */
class RegistrationOnlineAfterReclaimerCloseTest {

    static Stream<String> schemes() {
        List<String> names = new ArrayList<>(Reclaimer.availableSchemes());
        names.add("crystalline-w");
        return names.stream();
    }

    /** online() of a live, offline registration once its reclaimer is closed is refused. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void onlineOnAClosedReclaimerIsRefused(String name) {
        Reclaimer r = Reclaimer.create(name);
        Registration reg = r.register();
        reg.offline();
        r.close();
        assertThrows(IllegalStateException.class, reg::online, name + ": online() once the reclaimer is closed");
        reg.close();
    }
}
