package reclaim.coroutines

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/**
 * Which threads and reclaimers a wrapped dispatcher bridges: a wrapper of a wrapper bridges the reclaimers of
 * both (kotlinx calls only the context's one dispatcher), and a worker whose first bridged block began inside a
 * guard (where registering is refused) is registered at a later block, so that a guard it later leaves open is
 * found, ended and reported as on any worker. The coroutines suspend with `yield()`, which on an executor's dispatcher
 * always ends the block (a `delay` whose time is up before the coroutine suspends would not).
 */
@Timeout(120)
class WrappingAndRegistrationTest {

    private fun worker(name: String): ExecutorService =
        Executors.newSingleThreadExecutor { Thread(it, name).apply { isDaemon = true } }

    private fun stop(w: ExecutorService) {
        w.shutdownNow()
        assertTrue(w.awaitTermination(30, TimeUnit.SECONDS))
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a dispatcher wrapped twice bridges the reclaimers of both wrappers`(scheme: String) {
        val inner = Reclaimer.create(scheme)
        val outer = Reclaimer.create(scheme)
        val w = worker("wrapped-twice")
        val d = w.asCoroutineDispatcher().reclaiming(inner).reclaiming(outer)
        try {
            for (leaked in listOf(inner, outer)) {
                val thrown = runCatching { runBlocking(d) { leaked.enter(); yield() } }.exceptionOrNull()
                assertInstanceOf(IllegalStateException::class.java, thrown,
                    "$scheme: a guard of the ${if (leaked === inner) "inner" else "outer"} wrapper's reclaimer left open, not reported")
                assertTrue(thrown!!.message!!.contains("still open"), thrown.message)
            }
            inner.close() // the guards left open were ended on the live worker: nothing holds either back
            outer.close()
            assertTrue(inner.isClosed && outer.isClosed, scheme)
        } finally {
            stop(w)
            if (!inner.isClosed) inner.close()
            if (!outer.isClosed) outer.close()
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a worker whose first bridged block began inside a guard is bridged from a later block`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val w = worker("first-block-in-a-guard")
        val plain = w.asCoroutineDispatcher()
        val d = plain.reclaiming(r)
        try {
            // A plain coroutine on the worker starts a wrapped one undispatched inside its guard: the wrapped block's
            // start finds the guard open, and the worker's registration is refused there.
            runBlocking(plain) { r.withGuard { _ -> launch(d, start = CoroutineStart.UNDISPATCHED) { } } }
            val thrown = runCatching { runBlocking(d) { r.enter(); yield() } }.exceptionOrNull()
            assertInstanceOf(IllegalStateException::class.java, thrown, "$scheme: a guard left open, not reported")
            r.close() // the guard left open was ended on the live worker
            assertTrue(r.isClosed, scheme)
            val s = r.stats()
            assertEquals(s.retired(), s.reclaimed(), "$scheme: $s")
        } finally {
            stop(w)
            if (!r.isClosed) r.close()
        }
    }
}
