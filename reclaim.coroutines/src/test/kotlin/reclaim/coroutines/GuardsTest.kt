package reclaim.coroutines

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Atom
import reclaim.api.Reclaimer
import reclaim.api.Scheme
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicReference

/**
 * The Kotlin helpers: withGuard (and its Java twin), Atom.withValue, Registration.whileOffline.
 *
 * The crossinline rule is a compile-time check and has no test source that must not compile: writing
 * `reclaimer.withGuard { g -> delay(1) }` inside a suspend function fails with "Suspension functions can only
 * be called within coroutine body" (checked by hand with kotlin 2.4.21; see withGuard's KDoc).
 */
class GuardsTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `withGuard returns the block's value and closes the guard, also when the block throws`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(7))
        assertEquals(7L, r.withGuard { g -> g.protect(cell).value })
        assertEquals(7L, withGuard(r) { g -> g.protect(cell).value }) // the Java method
        val failure = assertThrows(IllegalArgumentException::class.java) {
            r.withGuard<Unit> { g -> g.protect(cell); throw IllegalArgumentException("boom") }
        }
        assertEquals("boom", failure.message)
        assertThrows(IllegalStateException::class.java) { withGuard<Unit>(r) { throw IllegalStateException("java") } }
        r.close() // throws if any of these guards were still open
        assertThrows(IllegalStateException::class.java) { r.withGuard { } }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `a registration's withGuard opens the thread's guard, which holds back what it read`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(3))
        r.register().use { reg ->
            assertEquals(3L, reg.withGuard { g -> g.protect(cell).value })
            lateinit var old: Node
            reg.withGuard { outer ->
                old = outer.protect(cell)
                r.withGuard { inner -> assertTrue(inner === outer, "another guard than the thread's") }
                assertTrue(swapAndRetire(outer, cell))
                r.flush()
                assertFalse(old.freed, "reclaimed while the registration's guard still holds it")
            }
            val failure = assertThrows(IllegalArgumentException::class.java) {
                reg.withGuard<Unit> { throw IllegalArgumentException("boom") }
            }
            assertEquals("boom", failure.message)
            reg.offline() // QSBR: an online registered thread would hold close() back
        }
        r.close() // throws if a guard were still open
        assertThrows(IllegalStateException::class.java) { r.register() }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `withGuard nests, and a retire inside waits for the outermost close`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        lateinit var old: Node
        r.withGuard { outer ->
            old = outer.protect(cell)
            r.withGuard { inner -> assertTrue(swapAndRetire(inner, cell)) }
            r.flush()
            assertFalse(old.freed, "reclaimed while the outer guard still holds it")
        }
        if (reclaimsEarly(r)) {
            r.flushUntilNothingPending()
            assertTrue(old.freed)
        }
        r.close()
        assertTrue(old.freed)
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `Atom withValue reads the current value under a guard`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val first = Node(1)
        val atom = Atom(r, first) { n: Node -> n.free() }
        val seen = atom.withValue { n ->
            atom.store(Node(2)) // a writer replaces it while we read: ours stays valid until the block ends
            r.flush()
            assertFalse(n.freed)
            n.value
        }
        assertEquals(1L, seen)
        assertEquals(2L, atom.withValue { it.value })
        atom.close()
        val empty = Atom<Node>(r, null) { it.free() }
        assertNull(empty.withValue { it })
        r.close()
        assertTrue(first.freed)
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `whileOffline lets others reclaim while a registered thread blocks, and brings it back online`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val other = Executors.newSingleThreadExecutor()
        try {
            val cell = AtomicReference(Node(0))
            r.register().use { reg ->
                r.withGuard { g -> g.protect(cell) } // under QSBR the registered thread is online from here on
                val retired = Node(-1)
                val reclaimed = reg.whileOffline {
                    other.submit<Boolean> { // the blocking call: another thread retires and flushes meanwhile
                        r.retire(retired) { it.free() }
                        r.flush()
                        retired.freed
                    }.get()
                }
                assertEquals(reclaimsEarly(r), reclaimed, "while offline the registered thread holds nobody back")
                val afterwards = Node(-2)
                val heldBack = !other.submit<Boolean> {
                    r.retire(afterwards) { it.free() }
                    r.flush()
                    afterwards.freed
                }.get()
                if (r.scheme() is Scheme.Qsbr) assertTrue(heldBack, "back online: QSBR waits for this thread's quiescent state")
                assertThrows(IllegalStateException::class.java) { r.withGuard { reg.whileOffline { } } }
                reg.offline()
            }
        } finally {
            other.shutdown()
        }
        r.close()
        assertEquals(r.stats().retired(), r.stats().reclaimed())
    }
}
