package reclaim.coroutines

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference

/**
 * Guards held by virtual threads across a blocking call: the thread unmounts inside its guard and remounts,
 * possibly on another carrier; what it protected must still be unreclaimed, under every scheme.
 */
class VirtualThreadsTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `thousands of virtual threads keep what they protect across a blocking call`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val waves = 4
        val perWave = 750
        val cell = AtomicReference(Node(0))
        val release = CountDownLatch(1)
        val failures = ConcurrentLinkedQueue<Throwable>()
        val carriersChanged = AtomicInteger()
        val versions = ArrayList<Node>()
        val threads = ArrayList<Thread>()
        repeat(waves) {
            val ready = CountDownLatch(perWave)
            repeat(perWave) {
                threads += Thread.ofVirtual().start {
                    try {
                        r.withGuard { g ->
                            val n = g.protect(cell)
                            val before = carrierName()
                            ready.countDown()
                            release.await() // blocks inside the guard: the virtual thread unmounts
                            if (carrierName() != before) carriersChanged.incrementAndGet()
                            check(!n.freed) { "node ${n.value} reclaimed while a virtual thread held it" }
                        }
                    } catch (t: Throwable) {
                        failures.add(t)
                    }
                }
            }
            ready.await() // this wave holds the current version
            val old = cell.get()
            versions += old
            cell.set(Node(old.value + 1))
            r.retire(old) { it.free() }
            r.flush()
        }
        repeat(1_000) { r.withGuard { g -> swapAndRetire(g, cell) } } // more garbage while they all block
        r.flush()
        for (v in versions) assertFalse(v.freed, "version ${v.value} reclaimed while blocked readers held it")
        release.countDown()
        for (t in threads) t.join()
        assertTrue(failures.isEmpty()) { "failures: " + failures.joinToString { it.toString() } }
        if (reclaimsEarly(r)) {
            val s = r.flushUntilNothingPending()
            assertEquals(0, s.pending(), "$s")
            assertTrue(versions.all { it.freed })
        }
        r.close()
        assertEquals(r.stats().retired(), r.stats().reclaimed())
        println("$scheme: ${waves * perWave} virtual threads, $carriersChanged remounted on another carrier")
    }

    /** The carrier as seen from a virtual thread's toString ("VirtualThread[#id]/runnable@carrier-name"). */
    private fun carrierName(): String = Thread.currentThread().toString().substringAfter('@', "")
}
