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
import java.util.concurrent.CyclicBarrier
import java.util.concurrent.ExecutorService
import java.util.concurrent.TimeUnit

/**
 * `flowOn` with no dispatcher of its own runs the upstream undispatched: kotlinx enters the thread context on the
 * worker that starts it and, once it has suspended, restores it on the worker that resumes it, with the first
 * worker's state. Correct code that opens no guard at all must not be reported: the bridge must not take the first
 * worker's registration's refusal (it belongs to another thread) for a guard left open. And the end must still be
 * counted, by the first worker: its block depth goes back to 0, and it is offline once the pool is idle.
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
                // The pool is idle now: no worker may be left online (QSBR would wait for it until its next block).
                if (reclaimsEarly(r)) {
                    r.retire(Node(it.toLong())) { n -> n.free() }
                    assertEquals(0L, r.flushUntilNothingPending().pending(), "$scheme: round $it, pending with the pool idle")
                }
            }
            assertEquals(listOf(0, 0), depthsOnEveryWorker(executor, r), "$scheme: each worker's block depth, idle")
            executor.shutdown()
            assertTrue(executor.awaitTermination(30, TimeUnit.SECONDS), "$scheme: the workers ended")
            assertTrue(failures.isEmpty(), "$scheme: ${failures.size} of $ROUNDS rounds failed, first: ${failures.firstOrNull()}")
            assertTrue(uncaught.errors.isEmpty(), "$scheme: reports to the uncaught-exception handler: ${uncaught.errors.firstOrNull()}")
            r.closeAfterWorkers()
        } finally {
            pool.close()
        }
    }

    /**
     * The same interleaving, made deterministic by calling the bridge as kotlinx does: on worker a, a block begins, a
     * nested (undispatched) block begins inside it and opens and closes a guard, the outer block ends; then the nested
     * block's end comes on worker b with a's state. Worker a is then idle, with its depth one too high until it counts
     * the handed-back end at its next block: it must be offline all the same, holding nothing back.
     */
    @ParameterizedTest
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun aWorkerWhoseNestedBlockEndedElsewhereIsOfflineOnceIdle(scheme: String) {
        val r = Reclaimer.create(scheme)
        val bridge = Bridge(arrayOf(r))
        twoWorkers { a, b ->
            val context = CoroutineName("nested")
            val p = a.submit<Any> {
                val outer = bridge.resumed()
                val nested = bridge.resumed()
                r.enter().close() // brings a registered thread online (QSBR)
                bridge.suspended(context, outer) // the outer block ends here; the nested one has not ended yet
                nested
            }.get(20, TimeUnit.SECONDS)
            b.submit { bridge.suspended(context, p) }.get(20, TimeUnit.SECONDS) // the nested block's end, elsewhere
            if (reclaimsEarly(r)) {
                r.retire(Node(1)) { n -> n.free() }
                assertEquals(0L, r.flushUntilNothingPending().pending(), "$scheme: worker a holds nothing back once idle")
            }
            val depth = a.submit<Int> { Bridge.THREAD_PARTICIPATIONS.get().depthOf(r) }.get(20, TimeUnit.SECONDS)
            assertEquals(0, depth, "$scheme: a counted the end")
        }
        r.close()
    }

    /** Runs one task on each of [executor]'s two workers at once; returns the block depth in [r] each reads. */
    private fun depthsOnEveryWorker(executor: ExecutorService, r: Reclaimer): List<Int> {
        val both = CyclicBarrier(2)
        val tasks = List(2) {
            executor.submit<Int> {
                both.await(10, TimeUnit.SECONDS) // so the other task runs on the other worker
                Bridge.THREAD_PARTICIPATIONS.get().depthOf(r)
            }
        }
        return tasks.map { it.get(20, TimeUnit.SECONDS) }
    }

    private companion object {
        /** Without the check of the ending thread, 13 to 472 rounds in 2,000 failed, depending on the scheme. */
        const val ROUNDS = 1000
    }
}
