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
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicInteger

/**
 * A coroutine that yields with a guard open is dispatched again from inside its own block, before the thread it
 * suspended on has left that block: on a pool of two, the other worker can resume it, and run it to its end, before
 * the end of the block is reached. The reclaiming dispatcher checks the guards when the coroutine dispatches itself,
 * so the misuse fails the coroutine every time (the caller of `await()` gets the IllegalStateException) and never
 * lets it complete normally with only a report to a handler.
 */
class GuardLeftOpenAcrossYieldTest {

    @OptIn(DelicateCoroutinesApi::class)
    @ParameterizedTest
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun aCoroutineThatYieldsWithAGuardOpenAlwaysFailsItsCaller(scheme: String) {
        val uncaught = Uncaught()
        val id = AtomicInteger()
        val executor = Executors.newFixedThreadPool(2) { task ->
            Thread(task, "yield-${id.incrementAndGet()}").apply { isDaemon = true; uncaughtExceptionHandler = uncaught }
        }
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
            assertEquals(0, returned, "$scheme: await() returned normally after the misuse")
            assertTrue(others.isEmpty(), "$scheme: other exceptions: $others")
            assertEquals(ROUNDS, failed, "$scheme: every coroutine failed with the report")
            // A task on each worker, to let every block end before we look at what the workers reported.
            runBlocking { List(2) { GlobalScope.async(pool) { } }.forEach { it.await() } }
            assertTrue(uncaught.errors.isEmpty(), "$scheme: reports to the uncaught-exception handler: ${uncaught.errors}")
            r.closeAfterWorkers()
        } finally {
            pool.close()
        }
    }

    private companion object {
        /** Before the dispatch-time check, about 40% of such rounds completed normally on two cores. */
        const val ROUNDS = 200
    }
}
