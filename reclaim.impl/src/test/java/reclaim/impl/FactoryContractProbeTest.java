package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The factories seen from outside: the system properties {@code reclaim.scheme}, {@code reclaim.barrier} and
 * {@code reclaim.checked} reach every factory that reads them ({@code create()}, {@code create(String)},
 * {@code create(Scheme)}) and a bad value is refused naming the property; the names {@code Scheme.named} accepts
 * all create a reclaimer whose scheme has that short name; and a reclaim action that a flush outside every guard
 * runs may wait for a grace period.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FactoryContractProbeTest {

    static Stream<String> schemes() {
        List<String> names = new ArrayList<>(Reclaimer.availableSchemes());
        names.add("crystalline-w");
        return names.stream();
    }

    /** Sets a system property for the call and restores what it was. */
    private static <T> T withProperty(String key, String value, Supplier<T> call) {
        String before = System.getProperty(key);
        System.setProperty(key, value);
        try {
            return call.get();
        } finally {
            if (before == null) System.clearProperty(key);
            else System.setProperty(key, before);
        }
    }

    /** availableSchemes() lists names of Scheme.NAMES only, in that order, and every one of them. */
    @Test
    void availableSchemesFollowsNamesOrderAndLeavesOutCrystallineW() {
        List<String> available = new ArrayList<>(Reclaimer.availableSchemes());
        List<String> expected = new ArrayList<>(Scheme.NAMES);
        expected.retainAll(available);
        assertEquals(expected, available);
        assertEquals(Scheme.NAMES, available, "the built-in provider creates every scheme of NAMES");
        assertFalse(available.contains("crystalline-w"));
    }

    /** Every name and alias Scheme.named accepts, in any case and with blanks, creates that scheme. */
    @Test
    void everyAcceptedNameCreatesItsScheme() {
        String[][] cases = {{"crystalline-w", "crystalline-w"}, {" CRYSTALLINE-L\t", "crystalline"},
            {"\nHazardPointers ", "hp"}, {"hazard-pointers", "hp"}, {"Qsbr", "qsbr"}, {"NONE", "none"}};
        for (String[] c : cases) {
            try (Reclaimer r = Reclaimer.create(c[0])) {
                assertEquals(c[1], r.scheme().name(), c[0]);
                assertEquals(c[1], r.stats().scheme(), c[0]);
            }
        }
        for (String bad : List.of("", "  ", "hazard pointers", "crystalline_w", "ebr2")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Reclaimer.create(bad), "'" + bad + "'");
            for (String n : Scheme.NAMES) assertTrue(e.getMessage().contains(n), e.getMessage());
        }
    }

    /** create() reads reclaim.scheme; an unknown value is refused naming it. */
    @Test
    void createReadsTheSchemeProperty() {
        assertEquals("crystalline-w", withProperty(Reclaimer.SCHEME_PROPERTY, "crystalline-w", () -> {
            try (Reclaimer r = Reclaimer.create()) {
                return r.scheme().name();
            }
        }));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> withProperty(Reclaimer.SCHEME_PROPERTY, "rcu", Reclaimer::create));
        assertTrue(e.getMessage().contains("rcu"), e.getMessage());
    }

    /**
     * reclaim.checked=true makes create(String) and create(Scheme) checked (a second retire is refused);
     * reclaim.barrier=fence gives fences; bad values are refused naming the property.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void theFactoriesApplyTheSystemProperties(String name) {
        for (Supplier<Reclaimer> factory : List.<Supplier<Reclaimer>>of(() -> Reclaimer.create(name),
                () -> Reclaimer.create(Scheme.named(name)))) {
            withProperty(Options.CHECKED_PROPERTY, " True ", () -> {
                try (Reclaimer r = factory.get()) {
                    Object o = new Object();
                    r.retire(o, x -> {});
                    assertThrows(IllegalStateException.class, () -> r.retire(o, x -> {}),
                            name + ": -Dreclaim.checked=true did not make the reclaimer checked");
                }
                return null;
            });
            withProperty(Options.BARRIER_PROPERTY, "FENCE", () -> {
                try (Reclaimer r = factory.get()) {
                    assertEquals(Options.Barrier.FENCE, r.stats().barrier());
                }
                return null;
            });
            IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                    () -> withProperty(Options.BARRIER_PROPERTY, "membarrier", factory));
            assertTrue(b.getMessage().contains(Options.BARRIER_PROPERTY) && b.getMessage().contains("membarrier"), b.getMessage());
            IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
                    () -> withProperty(Options.CHECKED_PROPERTY, "on", factory));
            assertTrue(c.getMessage().contains(Options.CHECKED_PROPERTY) && c.getMessage().contains("on"), c.getMessage());
        }
    }

    /**
     * A reclaim action that a flush() outside every guard runs is outside every guard too: it may wait for a grace
     * period, which passes at once with no guard open.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void anActionRunByAFlushOutsideGuardsMayWaitForAGracePeriod(String name) {
        AtomicReference<Object> result = new AtomicReference<>();
        try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.FENCE))) {
            r.retire(new Object(), o -> {
                try {
                    result.set(r.synchronize(Duration.ofSeconds(10)));
                } catch (Throwable e) {
                    result.set(e);
                }
            });
            r.flush();
            if (!name.equals("none")) assertEquals(Boolean.TRUE, result.get(), "synchronize() in an action run by flush()");
        }
        if (name.equals("none")) assertEquals(Boolean.TRUE, result.get(), "synchronize() in an action run by close()");
    }
}
