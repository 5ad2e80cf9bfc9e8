package reclaim.coroutines

import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import java.util.concurrent.TimeUnit

/**
 * A coroutine started undispatched inside a guard its starter holds open (`withGuard { launch(start = UNDISPATCHED)
 * { … } }`) that leaves a guard of its own open: its guard is one more level of the thread's open guard, which the API
 * does not tell apart from the starter's, so (as documented) the misuse is found when the starter's block ends, and
 * reported once, as the starter's; the guard is ended there, and the reclaimer reclaims and closes.
 */
class GuardLeftOpenInsideTheStartersGuardTest {

    @ParameterizedTest
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun aGuardLeftOpenByAChildStartedInsideTheStartersGuardIsReportedOnceAsTheStarters(scheme: String) {
        val uncaught = Uncaught()
        val executor = reportingWorkers(1, "inside-guard", uncaught)
        val pool = executor.asCoroutineDispatcher()
        val r = Reclaimer.create(scheme)
        val failures = mutableListOf<Throwable>()
        try {
            try {
                runBlocking(pool.reclaiming(r) + CoroutineName("starter")) {
                    r.withGuard { _ ->
                        launch(CoroutineName("child"), start = CoroutineStart.UNDISPATCHED) {
                            r.enter() // misuse: never closed
                            yield()
                        }
                    }
                    yield() // the starter's block ends here, with the child's guard still open on the worker
                }
            } catch (e: Throwable) {
                failures += e
            }
            executor.shutdown()
            assertTrue(executor.awaitTermination(30, TimeUnit.SECONDS), "$scheme: the worker ended")
            val reports = failures + uncaught.errors
            assertEquals(1, reports.size, "$scheme: reports: $reports")
            val message = reports.first().message ?: ""
            assertTrue(reports.first() is IllegalStateException && message.contains("still open"), "$scheme: $message")
            assertTrue(message.contains("starter"), "$scheme: the report names the starter: $message")
            if (reclaimsEarly(r)) { // the guard was ended on the worker: nothing is held back
                r.retire(Node(1)) { n -> n.free() }
                assertEquals(0L, r.flushUntilNothingPending().pending(), "$scheme: pending after the report")
            }
            r.closeAfterWorkers()
        } finally {
            pool.close()
        }
    }
}
