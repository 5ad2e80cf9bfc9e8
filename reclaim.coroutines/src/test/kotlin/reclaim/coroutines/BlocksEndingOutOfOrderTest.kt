package reclaim.coroutines

import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean

/**
 * Blocks do not always end in the reverse order of their starts: a block that kotlinx began undispatched on worker
 * a (flowOn with no dispatcher of its own) may end on worker b after a has ended other blocks and begun new ones.
 * Each block's end must still be judged against its own start: a guard that was open when the block began is not
 * the block's leak, and one that was not is. The first two tests call the bridge in the order kotlinx does; the last
 * runs the same interleaving through kotlinx.
 */
class BlocksEndingOutOfOrderTest {

    /**
     * On a: a block O begins, then a block N that will end on b; O's code opens a guard (withGuard) and starts a
     * coroutine undispatched inside it (block L); N ends on b; L suspends, the guard legitimately open. Nothing may be
     * reported, and the guard stays withGuard's to close.
     */
    @ParameterizedTest
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun aGuardOpenAroundAnUndispatchedStartIsNotALeakWhenAnEarlierBlockEndsElsewhere(scheme: String) {
        val r = Reclaimer.create(scheme)
        val bridge = Bridge(arrayOf(r))
        val reports = Reports()
        twoWorkers { a, b ->
            val closed = a.submit<Boolean> {
                val o = bridge.resumed()
                val n = bridge.resumed() // ends on b
                val g = r.enter() // withGuard {
                val l = bridge.resumed() // launch(start = UNDISPATCHED) {
                b.submit { bridge.suspended(CoroutineName("N"), n) }.get(20, TimeUnit.SECONDS)
                bridge.suspended(CoroutineName("L") + reports, l) // yield() }: the guard is the outer code's
                g.close() // } of withGuard: must still be open
                bridge.suspended(CoroutineName("O"), o)
                true
            }.get(20, TimeUnit.SECONDS)
            assertTrue(closed)
        }
        assertTrue(reports.errors.isEmpty(), "$scheme: a guard open before the block began was reported: ${reports.errors.firstOrNull()}")
        r.closeAfterWorkers()
    }

    /**
     * On a: a block P opens a guard and starts L undispatched inside it, which begins two blocks (a flowOn's, to end on
     * b) and suspends; the guard closes and P ends. Then block C opens a guard and leaves it open across its
     * suspension, while one of the two ends on b. C's misuse must be reported and its guard ended, though the starts
     * of L and of the flowOn's blocks found a guard open.
     */
    @ParameterizedTest
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun aGuardLeftOpenIsReportedWhenAnEarlierBlockEndsElsewhere(scheme: String) {
        val r = Reclaimer.create(scheme)
        val bridge = Bridge(arrayOf(r))
        val reports = Reports()
        twoWorkers { a, b ->
            a.submit {
                val p = bridge.resumed()
                val g = r.enter() // withGuard {
                val l = bridge.resumed() // launch(start = UNDISPATCHED) {
                val upstream = bridge.resumed() // flowOn's undispatched contexts, up and down: both end on b
                val downstream = bridge.resumed()
                bridge.suspended(CoroutineName("L"), l) // L's first suspension, inside the guard
                g.close() // }
                bridge.suspended(CoroutineName("P"), p)
                val c = bridge.resumed()
                r.enter() // misuse: never closed
                b.submit { bridge.suspended(CoroutineName("downstream"), downstream) }.get(20, TimeUnit.SECONDS)
                bridge.suspended(CoroutineName("C") + reports, c)
                b.submit { bridge.suspended(CoroutineName("upstream"), upstream) }.get(20, TimeUnit.SECONDS)
            }.get(20, TimeUnit.SECONDS)
        }
        assertEquals(1, reports.errors.size, "$scheme: reports of C's guard left open: ${reports.errors}")
        val message = reports.errors.first().message!!
        assertTrue(message.contains("when C suspended"), message)
        // The guard was ended on a: nothing holds reclamation back, and close() completes.
        if (reclaimsEarly(r)) {
            r.retire(Node(1)) { n -> n.free() }
            assertEquals(0L, r.flushUntilNothingPending().pending(), "$scheme: a guard is still open on a")
        }
        r.closeAfterWorkers()
    }

    /**
     * The first interleaving through kotlinx: one coroutine collects a flow with flowOn(CoroutineName) while another,
     * on the same two workers, starts a child undispatched inside withGuard. Correct code: no failure, no report.
     * (Before each block's state carried its own start probe, 1 to 19 rounds sufficed to fail it.)
     */
    @ParameterizedTest
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun flowOnBesideAnUndispatchedStartInsideAGuardIsNotReported(scheme: String) {
        val uncaught = Uncaught()
        val executor = reportingWorkers(2, "out-of-order", uncaught)
        val pool = executor.asCoroutineDispatcher()
        val r = Reclaimer.create(scheme)
        val failures = ConcurrentLinkedQueue<Throwable>()
        try {
            val dispatcher = pool.reclaiming(r)
            repeat(ROUNDS) {
                try {
                    runBlocking {
                        withContext(dispatcher) {
                            val stop = AtomicBoolean()
                            launch {
                                repeat(20) {
                                    flow { repeat(3) { emit(it); yield() } }.flowOn(CoroutineName("upstream")).collect { yield() }
                                }
                                stop.set(true)
                            }
                            launch {
                                while (!stop.get()) {
                                    coroutineScope {
                                        r.withGuard { _ ->
                                            launch(CoroutineName("guarded-child"), start = CoroutineStart.UNDISPATCHED) { yield() }
                                        }
                                    }
                                    yield()
                                }
                            }
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
        const val ROUNDS = 200
    }
}
