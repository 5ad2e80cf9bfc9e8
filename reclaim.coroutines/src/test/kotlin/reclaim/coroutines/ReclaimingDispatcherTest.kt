package reclaim.coroutines

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ExecutorCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.supervisorScope
import kotlinx.coroutines.withContext
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.AtomicReference
import kotlin.coroutines.CoroutineContext

/**
 * The reclaiming dispatcher and [ReclaimContext] with real coroutines (runBlocking, launch, async, delay,
 * withContext, yield) on Dispatchers.Default and on a two-thread pool, under every scheme present. No test
 * calls Registration.quiescent() or anything like it: the bridge does.
 */
class ReclaimingDispatcherTest {

    /** Runs [body] once on wrapped Dispatchers.Default and once on a wrapped two-thread pool. */
    private fun onBoth(r: Reclaimer, body: (CoroutineDispatcher, CoroutineDispatcher) -> Unit) {
        body(Dispatchers.Default.reclaiming(r), Dispatchers.IO.reclaiming(r))
        pool(2, "pool2").use { p -> pool(1, "hop").use { hop -> body(p.reclaiming(r), hop.reclaiming(r)) } }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `reclamation progresses with many coroutines and no explicit quiescent calls`(scheme: String) {
        val r = Reclaimer.create(scheme)
        onBoth(r) { dispatcher, other ->
            val cell = AtomicReference(Node(0))
            val before = r.stats()
            val swaps = runBlocking(dispatcher) {
                (1..400).map { i ->
                    async {
                        var won = 0
                        repeat(20) { k ->
                            if (r.withGuard { g -> swapAndRetire(g, cell) }) won++
                            when {
                                k % 7 == 0 -> delay(1)
                                i % 10 == 0 && k % 5 == 0 -> withContext(other) { // hop threads between guards
                                    if (r.withGuard { g -> swapAndRetire(g, cell) }) won++
                                }
                                else -> yield()
                            }
                        }
                        won
                    }
                }.awaitAll().sum()
            }
            val s = r.stats()
            assertEquals(swaps.toLong(), s.retired() - before.retired(), "every swapped-out node was retired once")
            if (reclaimsEarly(r)) {
                assertTrue(s.reclaimed() > before.reclaimed(), "nothing reclaimed during $swaps retires on $dispatcher: $s")
            }
        }
        r.closeAfterWorkers()
        val s = r.stats()
        assertEquals(s.retired(), s.reclaimed(), "after close everything retired is reclaimed: $s")
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `nothing is reclaimed under a live critical section`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val victim = AtomicReference<Node>()
        pool(2, "live").use { p ->
            val dispatcher = p.reclaiming(r)
            val cell = AtomicReference(Node(0))
            val inside = CountDownLatch(1)
            val release = CountDownLatch(1)
            runBlocking(dispatcher) {
                launch {
                    r.withGuard { g ->
                        val n = g.protect(cell)
                        victim.set(n)
                        inside.countDown()
                        release.await() // blocks this worker inside the guard (no suspension: none can happen here)
                        assertFalse(n.freed, "reclaimed under a live guard")
                    }
                }
                launch {
                    inside.await()
                    repeat(2_000) {
                        r.withGuard { g -> swapAndRetire(g, cell) }
                        if (it % 100 == 0) r.flush()
                        yield()
                    }
                    r.flush()
                    assertFalse(victim.get().freed, "reclaimed while a guard that protected it is open")
                    release.countDown()
                }
            }
            if (reclaimsEarly(r)) {
                val s = r.flushUntilNothingPending()
                assertEquals(0, s.pending(), "after the guard closed everything is reclaimable: $s")
                assertTrue(victim.get().freed)
            }
        }
        r.closeAfterWorkers()
        assertEquals(r.stats().retired(), r.stats().reclaimed())
        assertTrue(victim.get().freed, "reclaimed at the latest by close()")
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `a suspended coroutine holds nobody back`(scheme: String) {
        val r = Reclaimer.create(scheme)
        onBoth(r) { dispatcher, _ ->
            val cell = AtomicReference(Node(0))
            val gate = CompletableDeferred<Unit>()
            val parked = CompletableDeferred<Unit>()
            runBlocking {
                val sleeper = launch(dispatcher) {
                    r.withGuard { g -> swapAndRetire(g, cell) } // this worker used a guard (under QSBR: went online)
                    parked.complete(Unit)
                    gate.await() // suspended indefinitely, on a worker that now idles
                }
                parked.await()
                repeat(500) { r.withGuard { g -> swapAndRetire(g, cell) } } // the test thread, unregistered
                if (reclaimsEarly(r)) {
                    val s = r.flushUntilNothingPending()
                    assertEquals(0, s.pending(), "a suspended coroutine held reclamation back: $s")
                }
                gate.complete(Unit)
                sleeper.join()
            }
        }
        r.closeAfterWorkers()
        assertEquals(r.stats().retired(), r.stats().reclaimed())
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `an idle wrapped worker does not stall reclamation`(scheme: String) {
        val r = Reclaimer.create(scheme)
        pool(2, "idle").use { p ->
            val dispatcher = p.reclaiming(r)
            val cell = AtomicReference(Node(0))
            runBlocking(dispatcher) {
                repeat(200) { launch { r.withGuard { g -> swapAndRetire(g, cell) }; yield(); r.withGuard { g -> g.protect(cell) } } }
            }
            // Both workers ran guarded work and now idle (parked in the pool). Another thread retires and flushes.
            val mine = (1..100).map { Node(-it.toLong()) }
            for (n in mine) r.retire(n) { it.free() }
            if (reclaimsEarly(r)) {
                val s = r.flushUntilNothingPending()
                assertEquals(0, s.pending(), "idle workers hold reclamation back: $s")
                assertEquals(0, s.stalled(), "idle workers reported as stalled: $s")
                assertTrue(mine.all { it.freed })
            }
        }
        r.closeAfterWorkers()
        assertEquals(r.stats().retired(), r.stats().reclaimed())
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `cancellation in the middle of work loses nothing`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val freedBefore = Node.FREED.get()
        val swaps = AtomicLong()
        val cell = AtomicReference(Node(0))
        onBoth(r) { dispatcher, other ->
            runBlocking {
                val enough = CompletableDeferred<Unit>()
                val work = launch(dispatcher) {
                    repeat(100) { i ->
                        launch {
                            while (true) {
                                val won = r.withGuard { g -> swapAndRetire(g, cell) }
                                if (won && swaps.incrementAndGet() >= 3_000) enough.complete(Unit)
                                if (i % 3 == 0) withContext(other) { yield() } else yield()
                            }
                        }
                    }
                }
                enough.await()
                work.cancelAndJoin()
            }
        }
        val retired = r.stats().retired()
        assertEquals(swaps.get(), retired, "every won swap retired exactly once, cancelled or not")
        r.closeAfterWorkers() // would throw if a cancelled coroutine had left a guard open
        val s = r.stats()
        assertEquals(s.retired(), s.reclaimed(), "nothing lost: $s")
        assertEquals(retired, Node.FREED.get() - freedBefore, "each retired node reclaimed exactly once")
    }

    /** A supervised launch on [context] leaves a guard open across a suspension: its handler gets the one report. */
    private fun assertLeakReported(r: Reclaimer, context: CoroutineContext) {
        val reports = Reports()
        runBlocking {
            supervisorScope {
                val job = launch(context + reports) {
                    r.enter().use { yield() } // misuse: a Java-API guard open across a suspension
                }
                job.join()
                assertTrue(job.isCancelled, "the offending coroutine failed")
            }
        }
        val e = assertInstanceOf(IllegalStateException::class.java, reports.errors.single())
        assertTrue(e.message!!.contains("still open") && e.message!!.contains("withGuard"), e.message)
        r.closeAfterWorkers() // the bridge closed the guard on the thread that opened it (GuardLeftOpenTest)
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `a guard left open across a suspension is reported on a wrapped dispatcher`(scheme: String) {
        val r = Reclaimer.create(scheme)
        pool(1, "leak").use { p -> assertLeakReported(r, p.reclaiming(r)) }
        val r2 = Reclaimer.create(scheme) // a limitedParallelism view of a wrapped dispatcher is wrapped too
        pool(1, "leak-view").use { p -> assertLeakReported(r2, p.reclaiming(r2).limitedParallelism(1)) }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `a guard opened before the block is not taken for a leak`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val reports = Reports()
        pool(1, "outer").use { p ->
            val wrapped = p.reclaiming(r)
            runBlocking(wrapped) { r.withGuard { } } // the pool's thread is now registered
            val ran = (p.executor as java.util.concurrent.ExecutorService).submit<Boolean> {
                r.withGuard { _ -> // a plain task on the same thread holds a guard, and starts a coroutine in place
                    var inner = false
                    runBlocking(reports) {
                        launch(wrapped, start = CoroutineStart.UNDISPATCHED) { inner = r.withGuard { true } }.join()
                    }
                    inner
                }
            }.get()
            assertTrue(ran)
        }
        assertTrue(reports.errors.isEmpty(), "reported: ${reports.errors}")
        r.closeAfterWorkers()
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `a guard left open across a suspension is reported by ReclaimContext`(scheme: String) {
        val r = Reclaimer.create(scheme)
        pool(1, "leak-ctx").use { p -> assertLeakReported(r, p + ReclaimContext(r)) }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#names")
    fun `ReclaimContext on plain dispatchers progresses and leaves idle threads offline`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        val wrapped = Dispatchers.Default.reclaiming(r)
        pool(2, "plain").use { p: ExecutorCoroutineDispatcher ->
            val retiredBefore = r.stats().retired()
            val swaps = runBlocking(p + ReclaimContext(r)) {
                coroutineScope {
                    (1..200).map { i ->
                        async {
                            var won = 0
                            repeat(10) {
                                if (r.withGuard { g -> swapAndRetire(g, cell) }) won++
                                if (i % 4 == 0) withContext(wrapped) { if (r.withGuard { g -> swapAndRetire(g, cell) }) won++ }
                                yield()
                            }
                            won
                        }
                    }.awaitAll().sum()
                }
            }
            assertEquals(swaps.toLong(), r.stats().retired() - retiredBefore)
            if (reclaimsEarly(r)) {
                val s = r.flushUntilNothingPending()
                assertEquals(0, s.pending(), "threads of the plain pool hold reclamation back: $s")
            }
        }
        r.closeAfterWorkers()
        assertEquals(r.stats().retired(), r.stats().reclaimed())
    }
}
