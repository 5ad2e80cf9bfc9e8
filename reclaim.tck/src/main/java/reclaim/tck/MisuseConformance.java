package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.tck.Fixtures.assertNpe;
import static reclaim.tck.Fixtures.assertNullArgumentsNamed;
import static reclaim.tck.Fixtures.reserve;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;

/**
 * Misuse: wrong use of the API fails at once and clearly: null arguments name the parameter, bad slots are
 * rejected, guards and registrations used from another thread, after close or inside a guard are refused,
 * and a closed reclaimer refuses new work.
 */
interface MisuseConformance extends SchemeUnderTest {

    /** Null arguments are rejected with the parameter's name. */
    @Test
    default void nullArgumentsAreRejectedByName() {
        assertNpe("object", () -> reclaimer().retire(null, x -> {}));
        assertNpe("action", () -> reclaimer().retire("x", null));
        try (Guard g = reclaimer().enter()) {
            assertNullArgumentsNamed(g);
        }
        assertNpe("scheme", () -> Reclaimer.create((String) null));
    }

    /** Slots: 0 .. MIN_SLOTS-1 and slots() - 1 work; a negative slot and slots() itself are clear errors. */
    @Test
    default void slotsAreChecked() {
        AtomicReference<String> ref = new AtomicReference<>("v");
        Fixtures.Holder holder = new Fixtures.Holder();
        try (Guard g = reclaimer().enter()) {
            assertTrue(g.slots() >= Guard.MIN_SLOTS);
            for (int s = 0; s < Guard.MIN_SLOTS; s++) assertEquals("v", g.protect(ref, s));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.protect(ref, -1));
            assertTrue(e.getMessage().contains("-1"), e.getMessage());
            // slots() itself is out of range, even where it is Integer.MAX_VALUE (schemes without per-pointer slots)
            assertThrows(IllegalArgumentException.class, () -> g.protect(ref, g.slots()));
            assertThrows(IllegalArgumentException.class, () -> g.protect(Fixtures.Holder.NODE, holder, g.slots()));
            assertNull(g.protect(Fixtures.Holder.NODE, holder, g.slots() - 1));
            AtomicLong cell = new AtomicLong(42);
            for (int s = 0; s < Guard.MIN_SLOTS; s++) assertEquals(42, reserve(g, cell, s));
            assertTrue(g.reserve(0, 0), "reserving 0 needs no re-read");
            IllegalArgumentException k = assertThrows(IllegalArgumentException.class, () -> g.reserve(1, -1));
            assertTrue(k.getMessage().contains("-1"), k.getMessage());
            assertThrows(IllegalArgumentException.class, () -> g.reserve(1, g.slots()));
        }
    }

    /**
     * A guard used after close, closed twice, or used from another thread fails clearly.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void guardMisuseIsReported() throws Exception {
        AtomicReference<String> ref = new AtomicReference<>("v");
        Guard g = reclaimer().enter();
        assertSame(reclaimer(), g.reclaimer());
        AtomicReference<Throwable> fromOther = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                g.protect(ref);
            } catch (Throwable e) {
                fromOther.set(e);
            }
        });
        t.start();
        t.join();
        assertTrue(fromOther.get() instanceof IllegalStateException, "protect from another thread: " + fromOther.get());
        AtomicReference<Throwable> nestFromOther = new AtomicReference<>();
        Thread n = new Thread(() -> {
            try {
                g.nest().close();
            } catch (Throwable e) {
                nestFromOther.set(e);
            }
        });
        n.start();
        n.join();
        assertTrue(nestFromOther.get() instanceof IllegalStateException, "nest() from another thread: " + nestFromOther.get());
        g.close();
        assertThrows(IllegalStateException.class, g::nest);
        assertThrows(IllegalStateException.class, () -> g.protect(ref));
        assertThrows(IllegalStateException.class, () -> g.reserve(1, 0));
        assertThrows(IllegalStateException.class, () -> g.retire("x", x -> {}));
        assertThrows(IllegalStateException.class, g::close);
    }

    /** After close, enter, retire and register fail with IllegalStateException; stats still work. */
    @Test
    default void useAfterCloseIsReported() {
        reclaimer().close();
        assertThrows(IllegalStateException.class, reclaimer()::enter);
        assertThrows(IllegalStateException.class, () -> reclaimer().retire("x", x -> {}));
        assertThrows(IllegalStateException.class, reclaimer()::register);
        assertThrows(IllegalStateException.class, reclaimer()::flush);
        assertNotNull(reclaimer().stats());
    }

    /**
     * register(): twice is an error, closing on another thread is an error, closing twice is fine.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void registrationMisuseIsReported() throws Exception {
        Registration reg = reclaimer().register();
        assertThrows(IllegalStateException.class, reclaimer()::register);
        AtomicReference<Throwable> fromOther = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                reg.close();
            } catch (Throwable e) {
                fromOther.set(e);
            }
        });
        t.start();
        t.join();
        assertTrue(fromOther.get() instanceof IllegalStateException, "close from another thread: " + fromOther.get());
        try (Guard g = reclaimer().enter()) {
            g.retire("x", x -> {});
        }
        reg.close();
        reg.close();
        try (Registration again = reclaimer().register()) {
            assertNotNull(again);
        }
    }

    /**
     * Registration.enter() refuses another thread, a closed registration and a closed reclaimer.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void registrationEnterMisuseIsReported() throws Exception {
        Registration reg = reclaimer().register();
        AtomicReference<Throwable> fromOther = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                reg.enter().close();
            } catch (Throwable e) {
                fromOther.set(e);
            }
        });
        t.start();
        t.join();
        assertTrue(fromOther.get() instanceof IllegalStateException, "enter from another thread: " + fromOther.get());
        Guard g = reg.enter();
        g.close();
        assertThrows(IllegalStateException.class, g::close, "a guard entered through the registration closed twice");
        reg.close();
        IllegalStateException closedReg = assertThrows(IllegalStateException.class, reg::enter);
        assertTrue(closedReg.getMessage().contains("registration"), closedReg.getMessage());
        try (Registration live = reclaimer().register()) {
            live.offline(); // an online QSBR thread would hold close() back
            reclaimer().close();
            assertThrows(IllegalStateException.class, live::enter, "enter through a registration after close()");
        }
    }

    /** register() inside a guard is refused, also on a thread that already holds a record from earlier guards. */
    @Test
    default void registerInsideAGuardIsRefused() {
        try (Guard g = reclaimer().enter()) { // the first guard: some schemes keep the record from now on
            g.retire("x", x -> {});
        }
        try (Guard g = reclaimer().enter()) {
            assertThrows(IllegalStateException.class, reclaimer()::register, "register() inside a guard");
            assertNotNull(g);
        }
        try (Registration reg = reclaimer().register()) { // outside: fine, and the refused call registered nothing
            assertNotNull(reg);
            reg.offline();
        }
    }
}
