package reclaim.coroutines

import kotlinx.coroutines.DelicateCoroutinesApi
import kotlinx.coroutines.GlobalScope
import kotlinx.coroutines.async
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import java.util.concurrent.TimeUnit

/**
 * A coroutine that yields with a guard open is dispatched again from inside its own block, before the thread it
 * suspended on has left that block: on a pool of two, the other worker can resume it, and run it to its end, before
 * the end of the block is reached. That is the race the documentation states: the misuse is still reported exactly
 * once, either as the coroutine's failure (the caller of `await()` gets the IllegalStateException) or, when it
 * completed first, to the thread's uncaught-exception handler; never twice, never as another exception, and the
 * reclaimer still closes.
 */
class GuardLeftOpenAcrossYieldTest {

    @OptIn(DelicateCoroutinesApi::class)
    @ParameterizedTest
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun aCoroutineThatYieldsWithAGuardOpenIsReportedOnceToItsCallerOrItsHandler(scheme: String) {
        val uncaught = Uncaught()
        val executor = reportingWorkers(2, "yield", uncaught)
        val pool = executor.asCoroutineDispatcher()
        val r = Reclaimer.create(scheme)
        try {
            val dispatcher = pool.reclaiming(r)
            var failed = 0
            var returned = 0
            val others = mutableListOf<Throwable>()
            runBlocking {
                repeat(ROUNDS) {
                    val d = GlobalScope.async(dispatcher) {
                        r.enter() // the misuse: never closed, open across the yield()
                        yield()
                        1
                    }
                    try {
                        d.await()
                        returned++
                    } catch (e: IllegalStateException) {
                        if (e.message?.contains("still open") == true) failed++ else others += e
                    } catch (e: Throwable) {
                        others += e
                    }
                }
            }
            assertTrue(others.isEmpty(), "$scheme: other exceptions: $others")
            // Every block ended, and every report made, once the workers have run all their tasks and ended.
            executor.shutdown()
            assertTrue(executor.awaitTermination(30, TimeUnit.SECONDS), "$scheme: the workers ended")
            val reported = uncaught.errors.toList()
            assertTrue(reported.all { it is IllegalStateException && it.message!!.contains("still open") },
                "$scheme: handler reports: $reported")
            assertEquals(returned, reported.size, "$scheme: each coroutine that completed first was reported to the handler")
            assertEquals(ROUNDS, failed + reported.size, "$scheme: one report per misuse: $failed failed, $returned completed")
            r.closeAfterWorkers()
        } finally {
            pool.close()
        }
    }

    private companion object {
        /** On two cores, some 10–40% of such rounds complete before the report. */
        const val ROUNDS = 200
    }
}
