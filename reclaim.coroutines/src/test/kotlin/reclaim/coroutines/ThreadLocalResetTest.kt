package reclaim.coroutines

import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.asCoroutineDispatcher
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import java.util.concurrent.ForkJoinPool
import java.util.concurrent.atomic.AtomicReference

/**
 * Pools whose workers lose their thread locals while they live: the common pool's workers do whenever they run
 * out of work, and so does any ForkJoinPool worker made with `preserveThreadLocals = false`. The bridge registers
 * each worker once per reclaimer; a reset must not make it register again (the reclaimer would keep the old
 * registration's participant, held by a live thread, for as long as the worker lives: one more per reset).
 */
class ThreadLocalResetTest {

    /** A thread local of the test's own: gone after a reset, so a round can tell that one happened. */
    private val marker = ThreadLocal<Any>()

    /** One round on [dispatcher]: guarded work; returns whether the worker's thread locals were reset before it. */
    private fun round(r: Reclaimer, dispatcher: kotlinx.coroutines.CoroutineDispatcher, cell: AtomicReference<Node>): Boolean =
        runBlocking(dispatcher) {
            val reset = marker.get() == null
            marker.set(Any())
            r.withGuard { g -> swapAndRetire(g, cell) }
            delay(1) // a second block, after a suspension
            r.withGuard { g -> g.protect(cell) }
            reset
        }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a worker whose thread locals are reset keeps its one registration`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        ResettingPool().use { p ->
            val dispatcher = p.dispatcher.reclaiming(r)
            round(r, dispatcher, cell)
            p.awaitReset()
            val participants = r.stats().participants()
            val rounds = 30
            var resets = 0
            repeat(rounds) {
                if (round(r, dispatcher, cell)) resets++
                p.awaitReset()
            }
            assertEquals(rounds, resets, "every round ran after a reset of the worker's thread locals")
            assertEquals(participants, r.stats().participants(), "participants after $resets resets: ${r.stats()}")
            assertTrue(p.uncaught.errors.isEmpty(), "${p.uncaught.errors}")
            if (reclaimsEarly(r)) assertEquals(0, r.flushUntilNothingPending().pending(), "${r.stats()}")
        }
        r.closeAfterWorkers()
        assertEquals(r.stats().retired(), r.stats().reclaimed())
    }

    /**
     * After resets the worker's guard is still the one its registration probes: a guard left open across a
     * suspension is found, ended and reported as on any other worker.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a guard left open after resets is still found and ended`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        ResettingPool().use { p ->
            val dispatcher = p.dispatcher.reclaiming(r)
            repeat(3) {
                round(r, dispatcher, cell)
                p.awaitReset()
            }
            val thrown = runCatching { runBlocking(dispatcher) { r.enter().use { delay(20_000) } } }.exceptionOrNull()
            val e = assertInstanceOf(IllegalStateException::class.java, thrown, thrown?.stackTraceToString())
            assertFalse(e is kotlinx.coroutines.CancellationException, "cancelled, not failed: $e")
            assertTrue(e.message!!.contains("still open"), e.message)
            repeat(1_000) { r.retire(Node(-it.toLong())) { n -> n.free() } }
            val s = if (reclaimsEarly(r)) r.flushUntilNothingPending() else r.stats()
            if (reclaimsEarly(r)) assertEquals(0, s.pending(), "the guard still holds reclamation back: $s")
            assertEquals(0, s.stalled(), "$s")
        }
        r.closeAfterWorkers()
        assertEquals(r.stats().retired(), r.stats().reclaimed())
    }

    /**
     * The common pool as a dispatcher: its workers lose their thread locals whenever they go idle, which here is
     * after every round. The count of participants stays within the pool's workers, the test thread and one
     * spare, however many rounds run.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `the common pool as a dispatcher does not grow the participants`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        val dispatcher = ForkJoinPool.commonPool().asCoroutineDispatcher().reclaiming(r)
        repeat(40) {
            round(r, dispatcher, cell)
            ForkJoinPool.commonPool().awaitQuiescence(10, java.util.concurrent.TimeUnit.SECONDS)
        }
        val bound = ForkJoinPool.getCommonPoolParallelism() + 2
        assertTrue(r.stats().participants() <= bound, "${r.stats()} after 40 rounds (bound $bound)")
        r.closeAfterWorkers()
        assertEquals(r.stats().retired(), r.stats().reclaimed())
    }
}
