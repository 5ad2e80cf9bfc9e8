package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * Runs in a JVM without native access for reclaim.impl (its own surefire execution): the default strategy falls back
 * to fences, quietly, and a forced asymmetric strategy is refused with the flag to add.
 */
class BarrierFallbackTest {

    @org.junit.jupiter.api.BeforeEach
    void runsWithoutNativeAccess() {
        // Its surefire execution ("without-native-access") grants none; a run that selects it into another JVM skips it.
        org.junit.jupiter.api.Assumptions.assumeFalse(BarrierFallbackTest.class.getModule().isNativeAccessEnabled(),
                "runs in the surefire execution without native access");
    }

    @Test
    void withoutNativeAccessAutoFallsBackToFencesWithoutTheJdkWarning() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            String why = Membarrier.unavailableReason(); // the first use: every check runs now
            assertNotNull(why);
            assertTrue(why.contains("--enable-native-access="), why);
            for (String name : new String[] {"qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w", "none"}) {
                try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT)) {
                    assertSame(Options.Barrier.FENCE, r.stats().barrier(), name);
                    try (var g = r.enter()) {
                        g.retire(new Object(), o -> { });
                    }
                }
            }
        } finally {
            System.setErr(err);
        }
        String printed = captured.toString(StandardCharsets.UTF_8);
        assertFalse(printed.contains("restricted method"), "the JDK warned on the console:\n" + printed);
    }

    @Test
    void aForcedAsymmetricStrategyIsRefusedNamingTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Reclaimer.create(new Scheme.HazardPointers(), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC)));
        assertTrue(e.getMessage().contains("asymmetric") && e.getMessage().contains("--enable-native-access="), e.getMessage());
    }
}
