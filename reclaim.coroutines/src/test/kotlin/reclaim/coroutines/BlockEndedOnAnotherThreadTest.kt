package reclaim.coroutines

import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import java.util.concurrent.TimeUnit

/**
 * `flowOn` with no dispatcher of its own runs the upstream undispatched: kotlinx enters the thread context on the
 * worker that starts it and, once it has suspended, restores it on the worker that resumes it, with the first
 * worker's state. Correct code that opens no guard at all must not be reported: the bridge must not take the first
 * worker's registration's refusal (it belongs to another thread) for a guard left open.
 */
class BlockEndedOnAnotherThreadTest {

    @ParameterizedTest
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun aFlowOnWithoutADispatcherIsNotReportedAsMisuse(scheme: String) {
        val uncaught = Uncaught()
        val executor = reportingWorkers(2, "flowon", uncaught)
        val pool = executor.asCoroutineDispatcher()
        val r = Reclaimer.create(scheme)
        val failures = mutableListOf<Throwable>()
        try {
            val dispatcher = pool.reclaiming(r)
            repeat(ROUNDS) {
                try {
                    runBlocking {
                        withContext(dispatcher) {
                            var sum = 0
                            flow { repeat(3) { emit(it); yield() } }.flowOn(CoroutineName("upstream")).collect { sum += it; yield() }
                            assertEquals(3, sum)
                        }
                    }
                } catch (e: Throwable) {
                    failures += e
                }
            }
            executor.shutdown()
            assertTrue(executor.awaitTermination(30, TimeUnit.SECONDS), "$scheme: the workers ended")
            assertTrue(failures.isEmpty(), "$scheme: ${failures.size} of $ROUNDS rounds failed, first: ${failures.firstOrNull()}")
            assertTrue(uncaught.errors.isEmpty(), "$scheme: reports to the uncaught-exception handler: ${uncaught.errors.firstOrNull()}")
            r.closeAfterWorkers()
        } finally {
            pool.close()
        }
    }

    private companion object {
        /** Without the check of the ending thread, 13 to 472 rounds in 2,000 failed, depending on the scheme. */
        const val ROUNDS = 1000
    }
}
