package reclaim.coroutines

import org.junit.jupiter.api.Assertions.assertAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import reclaim.api.Registration
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicReference

/**
 * Guards.kt whileOffline, when [Registration.online] refuses after the block: "If the reclaimer's `close()` began
 * during the block, the thread cannot come back online (the registration refuses) and need not ...: it stays
 * offline, and the block's result is returned, or its exception thrown, as usual"; its `@throws` names only a call
 * inside a guard, on another thread, or a block that left a guard open. Which of these it was is told by probing
 * the registration with a guard of its own ([usable]).
 */
class WhileOfflineRefusedOnlineTest {

    /**
     * A provider's registration that cannot open guards (Registration.enter: "@throws UnsupportedOperationException
     * if the provider's registrations cannot open guards") and whose online() refuses once its reclaimer is closed
     * (Registration.online: "@throws IllegalStateException ... when the reclaimer is closed"). The reclaimer closes
     * during the block: the block's value must come out, not the probe's UnsupportedOperationException.
     */
    @Test
    fun `whileOffline on a registration that cannot open guards returns the block's value when the reclaimer closed during the block`() {
        val closed = AtomicBoolean()
        val reg = object : Registration {
            override fun online() {
                check(!closed.get()) { "online() after the reclaimer was closed" }
            }

            override fun close() {}
        }
        val outcome = runCatching { reg.whileOffline { closed.set(true); 7 } }
        assertEquals(7, outcome.getOrNull(), "whileOffline threw ${outcome.exceptionOrNull()} instead of the block's value")
    }

    /**
     * A reclaim action that close() itself runs (on the closing thread, while it drains) and that goes offline
     * around some work with the thread's registration: the reclaimer is closing, so online() refuses; on any other
     * thread whileOffline then returns the block's value (checked here too), and so it must on the closing thread,
     * where close() grants its own actions a guard (a probe that opened one took the reclaimer for usable).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `whileOffline in a reclaim action run by close() returns the block's value, as on any other thread`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val closing = AtomicBoolean()
        val inAction = AtomicReference<Result<Int>>()
        val reg = r.register()
        r.retire(Node(1)) { n ->
            n.free()
            if (closing.get()) inAction.set(runCatching { reg.whileOffline { 7 } })
        }
        reg.offline() // under QSBR an online registered thread would keep close() from completing
        closing.set(true)
        r.close()
        reg.close()
        // The same call on a thread that is not close()'s, with the reclaimer closed after its offline():
        val elsewhere = AtomicReference<Result<Int>>()
        val r2 = Reclaimer.create(scheme)
        r2.register().use { reg2 -> elsewhere.set(runCatching { reg2.whileOffline { r2.close(); 7 } }) }
        assertTrue(r.isClosed, "close() did not complete")
        assertAll(
            { assertEquals(7, elsewhere.get().getOrNull(), "outside close(): ${elsewhere.get().exceptionOrNull()}") },
            { assertFalse(inAction.get() == null, "the action did not run during close()") },
            {
                assertEquals(7, inAction.get()?.getOrNull(), "in close()'s reclaim action whileOffline threw "
                        + inAction.get()?.exceptionOrNull() + " instead of the block's value")
            },
        )
    }
}
