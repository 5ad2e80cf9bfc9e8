package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * Checked mode inside the engine: unchecked reclaimers carry none of its structures (the guard enter() returns is
 * the thread's guard itself, the core has no tracking), checked ones carry all of them; the system property turns it
 * on; the guard's memory of what it read is as long as documented and no longer; descriptions never throw.
 */
class RetireCheckTest {
    static Stream<String> schemes() {
        return Stream.of("qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w", "none");
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void uncheckedReclaimersCarryNoneOfTheCheckedStructures(String scheme) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT);
        try {
            assertSame(ReclaimerHandle.class, r.getClass(), "unchecked handle");
            assertNull(ReclaimerHandle.coreOf(r).check, "unchecked core tracks retires");
            try (Guard g = r.enter()) {
                ThreadGuard tg = assertInstanceOf(ThreadGuard.class, g, "enter() returns the thread's guard itself");
                assertNull(tg.checked, "a checked view was made");
            }
        } finally {
            r.close();
        }
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void checkedReclaimersCarryThem(String scheme) {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withChecked(true));
        try {
            assertInstanceOf(CheckedReclaimerHandle.class, r);
            assertNotNull(ReclaimerHandle.coreOf(r).check);
            try (Guard g = r.enter(); Guard nested = r.enter()) {
                assertInstanceOf(CheckedGuard.class, g);
                assertSame(g, nested, "one view per thread guard, reused");
                assertSame(r, g.reclaimer());
            }
        } finally {
            r.close();
        }
    }

    @Test
    void theSystemPropertyTurnsCheckedModeOn() {
        String before = System.getProperty(Options.CHECKED_PROPERTY);
        System.setProperty(Options.CHECKED_PROPERTY, "true");
        Reclaimer r;
        try {
            r = Reclaimer.create("ebr");
        } finally {
            if (before == null) System.clearProperty(Options.CHECKED_PROPERTY);
            else System.setProperty(Options.CHECKED_PROPERTY, before);
        }
        try {
            Object o = new Object();
            r.retire(o, x -> {});
            assertThrows(IllegalStateException.class, () -> r.retire(o, x -> {}));
        } finally {
            r.close();
        }
    }

    /** The guard remembers its last {@link CheckedGuard#REMEMBERED} protects, and forgets them when it closes. */
    @Test
    void aGuardRemembersItsLastProtectsUntilItCloses() {
        Reclaimer r = Reclaimer.create(Scheme.named("ebr"), Options.DEFAULT.withChecked(true));
        try {
            AtomicReference<Object> source = new AtomicReference<>(new Object());
            AtomicReference<Object> other = new AtomicReference<>("other");
            AtomicInteger runs = new AtomicInteger();
            try (Guard g = r.enter()) {
                Object o = g.protect(source);
                for (int i = 0; i < CheckedGuard.REMEMBERED - 1; i++) g.protect(other);
                assertThrows(IllegalStateException.class, () -> g.retire(o, x -> runs.incrementAndGet()),
                        "read " + CheckedGuard.REMEMBERED + " protects ago: still remembered");
                g.protect(other);
                assertDoesNotThrow(() -> g.retire(o, x -> runs.incrementAndGet()), "one protect too many ago: forgotten");
            }
            AtomicReference<Object> kept = new AtomicReference<>(new Object());
            Object q;
            try (Guard g = r.enter()) {
                q = g.protect(kept);
                assertThrows(IllegalStateException.class, () -> g.retire(q, x -> runs.incrementAndGet()));
            }
            try (Guard g = r.enter()) { // what the previous guard read is forgotten: not detected, as documented
                assertDoesNotThrow(() -> g.retire(q, x -> runs.incrementAndGet()));
            }
            r.close();
            assertEquals(2, runs.get(), "the accepted retires ran; the refused ones did not");
        } finally {
            r.close();
        }
    }

    @Test
    void descriptionsNameTheObjectAndNeverThrow() {
        Object failing = new Object() {
            @Override
            public String toString() {
                throw new UnsupportedOperationException("no text");
            }
        };
        String d = RetireCheck.describe(failing);
        assertTrue(d.contains(Integer.toHexString(System.identityHashCode(failing))), d);
        assertTrue(d.contains("toString() threw java.lang.UnsupportedOperationException"), d);
        String longText = "x".repeat(1_000);
        String l = RetireCheck.describe(longText);
        assertTrue(l.length() < 300 && l.contains("java.lang.String@") && l.endsWith("...)"), l);
    }
}
