package reclaim.coroutines

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ExecutorCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.supervisorScope
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Atom
import reclaim.api.Reclaimer
import reclaim.api.Scheme
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import java.util.function.Function
import kotlin.coroutines.CoroutineContext

/**
 * The documented promises of `reclaim.coroutines`, checked from the outside, with only the public API: what the
 * helpers return and throw on misuse, what the reclaiming dispatcher and [ReclaimContext] do when the reclaimer
 * is closed or closing, when a coroutine is cancelled inside a block, when the pool under a wrapped dispatcher
 * shuts down, with several reclaimers at once, on pools that reset their workers' thread locals and on virtual
 * threads. Each test names the promise it checks; every scheme present runs it.
 */
class CoroutinesContractProbeTest {

    /** A fixed pool of named platform threads that report what they do not catch, and can be waited for to end. */
    private class Workers(n: Int, name: String) : AutoCloseable {
        val uncaught = Uncaught()
        val threads = ConcurrentLinkedQueue<Thread>()
        private val id = AtomicInteger()
        val executor: ExecutorService = Executors.newFixedThreadPool(n) { r ->
            Thread(r, "$name-${id.incrementAndGet()}").apply {
                isDaemon = true
                uncaughtExceptionHandler = uncaught
                threads.add(this)
            }
        }
        val dispatcher: ExecutorCoroutineDispatcher = executor.asCoroutineDispatcher()

        /** Shuts the pool down and waits (at most 10 s) until each of its threads has ended. */
        fun shutdownAndJoin() {
            executor.shutdown()
            assertTrue(executor.awaitTermination(10, TimeUnit.SECONDS), "the pool did not terminate")
            for (t in threads) t.join(10_000)
            assertTrue(threads.none { it.isAlive }, "threads still alive: $threads")
        }

        override fun close() = shutdownAndJoin()
    }

    private fun assertNothingReported(what: String, vararg queues: ConcurrentLinkedQueue<Throwable>) {
        val all = queues.flatMap { it.toList() }
        assertTrue(all.isEmpty(), "$what: reported ${all.map { it.stackTraceToString() }}")
    }

    /** Waits (at most 10 s) until [condition] holds; fails naming [what] otherwise. Not a sleep: it ends as soon as it holds. */
    private fun awaitUntil(what: String, condition: () -> Boolean) {
        val deadline = System.nanoTime() + 10_000_000_000L
        while (!condition()) {
            check(System.nanoTime() - deadline < 0) { "$what did not happen within 10 s" }
            Thread.onSpinWait()
        }
    }

    private fun assertAllReclaimedOnce(r: Reclaimer) {
        val s = r.stats()
        assertEquals(s.retired(), s.reclaimed(), "after close everything retired is reclaimed: $s")
        assertEquals(0, s.failed(), "a reclaim action failed (run twice?): $s")
    }

    // ---------------------------------------------------------------------------------------------------------
    // Guards.kt: the helpers
    // ---------------------------------------------------------------------------------------------------------

    /** Guards.kt: Registration.withGuard "@throws IllegalStateException on another thread than the registered one,
     *  after the registration was closed, or when the reclaimer is closed". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `Registration withGuard refuses with IllegalStateException on another thread, after close and once the reclaimer closed, without running the block`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val other = Executors.newSingleThreadExecutor()
        val ran = AtomicInteger()
        try {
            r.register().use { reg ->
                val elsewhere = other.submit<Throwable?> { runCatching { reg.withGuard { ran.incrementAndGet() } }.exceptionOrNull() }.get()
                assertInstanceOf(IllegalStateException::class.java, elsewhere, "another thread: $elsewhere")
                assertEquals(0, ran.get(), "the block ran on another thread")
                assertEquals(5, reg.withGuard { 5 }, "still usable on its own thread")
                reg.offline()
            }
        } finally {
            other.shutdown()
        }
        val closedReg = r.register()
        closedReg.offline()
        closedReg.close()
        assertThrows(IllegalStateException::class.java) { closedReg.withGuard { ran.incrementAndGet() } }
        assertEquals(0, ran.get(), "the block ran after the registration was closed")

        val live = r.register()
        live.offline()
        r.close()
        assertThrows(IllegalStateException::class.java) { live.withGuard { ran.incrementAndGet() } }
        assertEquals(0, ran.get(), "the block ran on a closed reclaimer")
        live.close() // a no-op once the reclaimer is closed
    }

    /** Guards.kt: the Java withGuard "@throws IllegalStateException if the reclaimer is closed"; Atom.withValue
     *  "@throws IllegalStateException if the cell or its reclaimer is closed". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `the Java withGuard and Atom withValue refuse with IllegalStateException once the cell or the reclaimer is closed`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val ran = AtomicInteger()
        val closedCell = Atom(r, Node(1)) { n: Node -> n.free() }
        closedCell.close()
        assertThrows(IllegalStateException::class.java) { closedCell.withValue { ran.incrementAndGet() } }
        assertEquals(0, ran.get(), "withValue ran its block on a closed cell")
        assertEquals(3, withGuard(r, Function { 3 }), "the Java form returns the block's value")

        val openCell = Atom(r, Node(2)) { n: Node -> n.free() }
        r.close() // the withValue above must have closed its guard, or this throws
        assertThrows(IllegalStateException::class.java) { openCell.withValue { ran.incrementAndGet() } }
        assertThrows(IllegalStateException::class.java) { withGuard(r, Function { ran.incrementAndGet() }) }
        assertEquals(0, ran.get(), "a block ran on a closed reclaimer")
        assertAllReclaimedOnce(r)
    }

    /** Guards.kt: whileOffline "brings it back online after it, also when it throws"; "@throws
     *  IllegalStateException if called inside a guard or on another thread than the registered one". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `whileOffline rethrows the block's exception and is back online after it, and refuses another thread without running the block`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val other = Executors.newSingleThreadExecutor()
        val ran = AtomicBoolean()
        try {
            r.register().use { reg ->
                val elsewhere = other.submit<Throwable?> { runCatching { reg.whileOffline { ran.set(true) } }.exceptionOrNull() }.get()
                assertInstanceOf(IllegalStateException::class.java, elsewhere, "another thread: $elsewhere")
                assertFalse(ran.get(), "the block ran on another thread")
                assertThrows(IllegalStateException::class.java) { r.withGuard { reg.whileOffline { ran.set(true) } } }
                assertFalse(ran.get(), "the block ran inside a guard")

                val boom = assertThrows(IllegalArgumentException::class.java) { reg.whileOffline<Unit> { throw IllegalArgumentException("boom") } }
                assertEquals("boom", boom.message)
                if (r.scheme() is Scheme.Qsbr) {
                    val later = Node(-7)
                    val reclaimedByOther = other.submit<Boolean> {
                        r.retire(later) { it.free() }
                        r.flush()
                        later.freed
                    }.get()
                    assertFalse(reclaimedByOther, "after a throwing block the thread is not back online: QSBR did not wait for it")
                }
                reg.offline()
            }
        } finally {
            other.shutdown()
        }
        r.close()
        assertAllReclaimedOnce(r)
    }

    // ---------------------------------------------------------------------------------------------------------
    // ReclaimContext.kt and reclaiming(): construction
    // ---------------------------------------------------------------------------------------------------------

    /** ReclaimContext.kt and ReclaimingDispatcher.kt: "@throws IllegalArgumentException if no reclaimer is given". */
    @Test
    fun `ReclaimContext and reclaiming without a reclaimer throw IllegalArgumentException`() {
        assertThrows(IllegalArgumentException::class.java) { ReclaimContext() }
        assertThrows(IllegalArgumentException::class.java) { Dispatchers.Default.reclaiming() }
    }

    /** ReclaimContext.kt: "a second ReclaimContext replaces the first (same Key)"; toString "a description naming
     *  the reclaimers' schemes". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a second ReclaimContext replaces the first, and its toString names the schemes`(scheme: String) {
        val r1 = Reclaimer.create(scheme)
        val r2 = Reclaimer.create(scheme)
        val first = ReclaimContext(r1)
        val second = ReclaimContext(r1, r2)
        val context: CoroutineContext = Dispatchers.Default + first + second
        assertSame(second, context[ReclaimContext])
        assertTrue(second.toString().contains(r1.scheme().name()), second.toString())
        r1.close()
        r2.close()
    }

    // ---------------------------------------------------------------------------------------------------------
    // Registration of workers
    // ---------------------------------------------------------------------------------------------------------

    /** ReclaimingDispatcher.kt "Registers once. The first block a platform thread runs registers it
     *  ([Reclaimer.register]) ... Virtual threads are not registered"; ReclaimContext.kt likewise; README "Do not
     *  register virtual threads ... records are leased per guard: thousands of virtual threads share a handful". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a platform worker is registered by the bridge and a virtual thread is not`(scheme: String) {
        val r = Reclaimer.create(scheme)
        Workers(1, "registered").use { w ->
            for ((name, context) in listOf<Pair<String, CoroutineContext>>(
                "reclaiming" to w.dispatcher.reclaiming(r),
                "ReclaimContext" to w.dispatcher + ReclaimContext(r),
            )) {
                val refused = runBlocking(context) {
                    r.withGuard { }
                    yield()
                    runCatching { r.register().use { it.offline() } }.exceptionOrNull()
                }
                assertInstanceOf(IllegalStateException::class.java, refused, "$name: the worker was not registered by the bridge")
            }
            assertNothingReported("platform", w.uncaught.errors)
        }
        r.closeAfterWorkers()

        val v = Reclaimer.create(scheme)
        Executors.newVirtualThreadPerTaskExecutor().use { vexec ->
            val vt = vexec.asCoroutineDispatcher()
            for ((name, context) in listOf<Pair<String, CoroutineContext>>(
                "reclaiming" to vt.reclaiming(v),
                "ReclaimContext" to vt + ReclaimContext(v),
            )) {
                val cell = AtomicReference(Node(0))
                runBlocking(context) {
                    (1..300).map {
                        launch {
                            v.withGuard { g -> swapAndRetire(g, cell) }
                            yield()
                            v.withGuard { g -> g.protect(cell) }
                        }
                    }
                    v.withGuard { }
                    yield()
                    assertTrue(Thread.currentThread().isVirtual)
                    v.register().use { it.offline() } // throws if the bridge registered this virtual thread
                }
                val participants = v.stats().participants()
                assertTrue(participants <= 32, "$name: ${v.stats()} after 300 coroutines on virtual threads")
            }
        }
        v.close() // unregistered virtual threads are online only inside their guards: nothing to wait for
        assertAllReclaimedOnce(v)
    }

    /** ReclaimingDispatcher.kt: "it stays registered until it ends (a thread that ends registered is swept by the
     *  reclaimer)": pools that come and go do not grow the reclaimer's records, and it closes after them. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `the records of pool workers that ended are swept, so pools that come and go do not grow the participants`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        var afterFirst = -1
        repeat(6) { round ->
            val w = Workers(2, "round$round")
            try {
                runBlocking(w.dispatcher.reclaiming(r)) {
                    repeat(50) { launch { r.withGuard { g -> swapAndRetire(g, cell) }; yield(); r.withGuard { g -> g.protect(cell) } } }
                }
            } finally {
                w.shutdownAndJoin()
            }
            assertNothingReported("round $round", w.uncaught.errors)
            if (round == 0) afterFirst = r.stats().participants()
        }
        assertTrue(r.stats().participants() <= afterFirst + 2, "after 6 pools of 2 threads: ${r.stats()} (after the first: $afterFirst)")
        r.close() // every worker ended: none can be online
        assertAllReclaimedOnce(r)
    }

    /** ReclaimingDispatcher.kt "also across resets of its thread locals by its pool", for [ReclaimContext]
     *  ("On the thread that runs a block it behaves as the reclaiming dispatcher does"). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `ReclaimContext on a pool that resets its workers' thread locals keeps one registration per worker`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        ResettingPool().use { p ->
            val context = p.dispatcher + ReclaimContext(r)
            val round: () -> Unit = {
                runBlocking(context) {
                    r.withGuard { g -> swapAndRetire(g, cell) }
                    yield()
                    r.withGuard { g -> g.protect(cell) }
                }
                p.awaitReset()
            }
            round()
            val participants = r.stats().participants()
            repeat(20) { round() }
            assertEquals(participants, r.stats().participants(), "participants after 20 resets: ${r.stats()}")
            assertNothingReported("resetting pool", p.uncaught.errors)
        }
        r.closeAfterWorkers()
        assertAllReclaimedOnce(r)
    }

    // ---------------------------------------------------------------------------------------------------------
    // Several reclaimers
    // ---------------------------------------------------------------------------------------------------------

    /** ReclaimContext.kt "pass several reclaimers to one element"; ReclaimingDispatcher.kt "@param reclaimers the
     *  reclaimers whose quiescent states the blocks' ends are": each one progresses, idles offline, closes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `one dispatcher or element for two reclaimers makes both progress and both close`(scheme: String) {
        val r1 = Reclaimer.create(scheme)
        val r2 = Reclaimer.create(scheme)
        Workers(2, "two").use { w ->
            for ((name, context) in listOf<Pair<String, CoroutineContext>>(
                "reclaiming" to w.dispatcher.reclaiming(r1, r2),
                "ReclaimContext" to w.dispatcher + ReclaimContext(r1, r2),
            )) {
                val c1 = AtomicReference(Node(0))
                val c2 = AtomicReference(Node(0))
                val before1 = r1.stats().retired()
                val before2 = r2.stats().retired()
                val swaps = runBlocking(context) {
                    (1..100).map {
                        async {
                            var won = 0L
                            repeat(10) {
                                if (r1.withGuard { g -> swapAndRetire(g, c1) }) won++
                                if (r2.withGuard { g -> swapAndRetire(g, c2) }) won += 1L shl 32
                                yield()
                            }
                            won
                        }
                    }.awaitAll().sum()
                }
                assertEquals(swaps and 0xffffffffL, r1.stats().retired() - before1, name)
                assertEquals(swaps ushr 32, r2.stats().retired() - before2, name)
                if (reclaimsEarly(r1)) {
                    assertEquals(0, r1.flushUntilNothingPending().pending(), "$name: the first reclaimer is held back: ${r1.stats()}")
                    assertEquals(0, r2.flushUntilNothingPending().pending(), "$name: the second reclaimer is held back: ${r2.stats()}")
                }
            }
            assertNothingReported("two reclaimers", w.uncaught.errors)
        }
        r1.closeAfterWorkers()
        r2.closeAfterWorkers()
        assertAllReclaimedOnce(r1)
        assertAllReclaimedOnce(r2)
    }

    /** ReclaimingDispatcher.kt "Ends guards left open ... Then the coroutine fails with one IllegalStateException",
     *  for the second of two reclaimers one dispatcher (or element) bridges. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a guard of the second of two reclaimers left open across a suspension is ended and reported once`(scheme: String) {
        val r1 = Reclaimer.create(scheme)
        val r2 = Reclaimer.create(scheme)
        Hopping("two-leak").use { hop ->
            for ((name, context) in listOf<Pair<String, CoroutineContext>>(
                "reclaiming" to hop.reclaiming(r1, r2),
                "ReclaimContext" to hop + ReclaimContext(r1, r2),
            )) {
                val reports = Reports()
                val thrown = runCatching {
                    runBlocking(context + reports) {
                        r1.withGuard { }
                        r2.enter().use { delay(20_000) }
                    }
                }.exceptionOrNull()
                val all = listOfNotNull(thrown) + reports.errors + hop.uncaught.errors
                assertEquals(1, all.size, "$name: ${all.map { it.toString() }}")
                val e = assertInstanceOf(IllegalStateException::class.java, all.single(), name)
                assertFalse(e is CancellationException, "$name: cancelled, not failed: $e")
                assertTrue(e.message!!.contains("still open"), "$name: ${e.message}")
                repeat(200) { r2.retire(Node(-it.toLong())) { n -> n.free() } }
                if (reclaimsEarly(r2)) assertEquals(0, r2.flushUntilNothingPending().pending(), "$name: the guard still holds r2 back: ${r2.stats()}")
                hop.uncaught.errors.clear()
            }
        }
        r1.closeAfterWorkers()
        r2.closeAfterWorkers()
        assertAllReclaimedOnce(r1)
        assertAllReclaimedOnce(r2)
    }

    // ---------------------------------------------------------------------------------------------------------
    // Closed and closing reclaimers
    // ---------------------------------------------------------------------------------------------------------

    /**
     * README "Under QSBR, reclaimer.close() called the moment the last coroutine completes can find a worker still
     * finishing that block (online) and throw IllegalStateException; calling close() again completes it." Made
     * deterministic: the worker is held in its block, after its guard, while close() is called. Under QSBR that
     * close() is refused; under the others it completes at once. Either way the block then ends with nothing
     * reported, the coroutine returns its value, and a later close() completes, with everything reclaimed once.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `close() called while a worker is still in the block that used a guard completes when called again, and nothing is reported`(scheme: String) {
        for (useContext in listOf(false, true)) {
            val r = Reclaimer.create(scheme)
            val w = Workers(1, "closing-online")
            val reports = Reports()
            val cell = AtomicReference(Node(0))
            val inside = CountDownLatch(1)
            val release = CountDownLatch(1)
            val context = if (useContext) w.dispatcher + ReclaimContext(r) else w.dispatcher.reclaiming(r)
            val first = runBlocking {
                val job = async(context + reports) {
                    r.withGuard { g -> swapAndRetire(g, cell) } // under QSBR: the worker is online from here
                    inside.countDown()
                    release.await() // still in the block, outside every guard
                    42
                }
                inside.await()
                val refused = runCatching { r.close() }.exceptionOrNull()
                release.countDown()
                assertEquals(42, job.await())
                refused
            }
            val name = if (useContext) "ReclaimContext" else "reclaiming"
            if (r.scheme() is Scheme.Qsbr) {
                assertInstanceOf(IllegalStateException::class.java, first, "$name: QSBR closed under an online registered worker")
            } else {
                assertNull(first, "$name: close() refused with no guard open: ${first?.stackTraceToString()}")
            }
            r.closeAfterWorkers()
            w.shutdownAndJoin() // every block has ended: anything the bridge reported is in by now
            assertNothingReported(name, reports.errors, w.uncaught.errors)
            assertAllReclaimedOnce(r)
        }
    }

    /**
     * Reclaimer: "called while guards are still open ..., it throws IllegalStateException ...; the open guards
     * finish normally, and a later close() completes"; README "the coroutine's next suspension point throws" only
     * for a guard left open: a coroutine whose withGuard block was open while close() was refused finishes
     * normally, its block's end reports nothing, and the later close() completes.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a close refused while a coroutine's withGuard is open completes after it, and the block's end reports nothing`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val w = Workers(1, "closing-guard")
        val reports = Reports()
        val cell = AtomicReference(Node(0))
        val inside = CountDownLatch(1)
        val release = CountDownLatch(1)
        val refused = runBlocking {
            val job = async(w.dispatcher.reclaiming(r) + reports) {
                val won = r.withGuard { g ->
                    val swapped = swapAndRetire(g, cell)
                    inside.countDown()
                    release.await() // the guard is open while close() is called
                    swapped
                }
                yield() // the end of a block with the reclaimer closing
                won
            }
            inside.await()
            val refused = runCatching { r.close() }.exceptionOrNull()
            release.countDown()
            assertTrue(job.await(), "the coroutine did not finish normally")
            refused
        }
        assertInstanceOf(IllegalStateException::class.java, refused, "close() did not refuse an open guard")
        r.closeAfterWorkers()
        w.shutdownAndJoin()
        assertNothingReported("closing", reports.errors, w.uncaught.errors)
        assertAllReclaimedOnce(r)
    }

    /** Guards.kt withGuard "@throws IllegalStateException if the reclaimer is closed", inside coroutines on a
     *  wrapped dispatcher or with ReclaimContext after the reclaimer closed: the coroutine sees that exception and
     *  nothing else; blocks that do not touch the reclaimer run as before, on known and on new workers. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `after the reclaimer closed, wrapped dispatchers still run coroutines and withGuard throws IllegalStateException in them`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        Workers(1, "known").use { known ->
            Workers(1, "fresh").use { fresh ->
                runBlocking(known.dispatcher.reclaiming(r)) { r.withGuard { g -> swapAndRetire(g, cell) }; yield() }
                r.closeAfterWorkers()
                for ((name, context) in listOf<Pair<String, CoroutineContext>>(
                    "known reclaiming" to known.dispatcher.reclaiming(r),
                    "known ReclaimContext" to known.dispatcher + ReclaimContext(r),
                    "fresh reclaiming" to fresh.dispatcher.reclaiming(r),
                    "fresh ReclaimContext" to fresh.dispatcher + ReclaimContext(r),
                )) {
                    val reports = Reports()
                    val seen = runBlocking(context + reports) {
                        val e = runCatching { r.withGuard { 1 } }.exceptionOrNull()
                        yield()
                        delay(1)
                        e
                    }
                    assertInstanceOf(IllegalStateException::class.java, seen, name)
                    assertNothingReported(name, reports.errors)
                }
                known.shutdownAndJoin()
                fresh.shutdownAndJoin()
                assertNothingReported("closed", known.uncaught.errors, fresh.uncaught.errors)
            }
        }
        assertAllReclaimedOnce(r)
    }

    // ---------------------------------------------------------------------------------------------------------
    // Cancellation, completion, pool shutdown
    // ---------------------------------------------------------------------------------------------------------

    /**
     * A coroutine cancelled while its worker is inside withGuard: the block cannot suspend, so it runs to its end,
     * the guard closes, what it retired is retired once; the next suspension point throws CancellationException,
     * and nothing is reported. With a guard from Reclaimer.enter() open instead, the cancelled coroutine's `delay`
     * throws without suspending (README: "A suspension point that returns without suspending ... leaves the
     * coroutine on its thread, where the guard's own close() ends it: correct use, and nothing is reported").
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a coroutine cancelled inside a guard finishes the guard, retires once, and nothing is reported`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        Workers(1, "cancelled").use { w ->
            for ((name, context) in listOf<Pair<String, CoroutineContext>>(
                "reclaiming" to w.dispatcher.reclaiming(r),
                "ReclaimContext" to w.dispatcher + ReclaimContext(r),
            )) {
                for (javaGuard in listOf(false, true)) {
                    val what = "$name, ${if (javaGuard) "enter().use" else "withGuard"}"
                    val reports = Reports()
                    val inside = CountDownLatch(1)
                    val release = CountDownLatch(1)
                    val pastSuspension = AtomicBoolean()
                    val retiredBefore = r.stats().retired()
                    val won = AtomicBoolean()
                    runBlocking {
                        supervisorScope {
                            val job = launch(context + reports) {
                                if (javaGuard) {
                                    r.enter().use { g ->
                                        inside.countDown()
                                        release.await()
                                        won.set(swapAndRetire(g, cell))
                                        delay(20_000) // cancelled: throws without suspending
                                    }
                                } else {
                                    r.withGuard { g ->
                                        inside.countDown()
                                        release.await()
                                        won.set(swapAndRetire(g, cell))
                                    }
                                }
                                yield()
                                pastSuspension.set(true)
                            }
                            inside.await()
                            job.cancel()
                            release.countDown()
                            job.join()
                            assertTrue(job.isCancelled, what)
                        }
                    }
                    assertFalse(pastSuspension.get(), "$what: the coroutine went on past a suspension point after its cancellation")
                    assertTrue(won.get(), what)
                    assertEquals(1L, r.stats().retired() - retiredBefore, "$what: retired once")
                    assertNothingReported(what, reports.errors, w.uncaught.errors)
                }
            }
        }
        r.closeAfterWorkers() // throws if a cancelled coroutine had left a guard open
        assertAllReclaimedOnce(r)
    }

    /** ReclaimingDispatcher.kt "A coroutine that completed with the guard open can no longer fail: the report goes
     *  to its CoroutineExceptionHandler, else to the thread's uncaught-exception handler." (the "else" half). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a coroutine that completes with a guard open and has no handler is reported to the thread's uncaught-exception handler`(scheme: String) {
        val r = Reclaimer.create(scheme)
        Hopping("completed-uncaught").use { hop ->
            for ((name, context) in listOf<Pair<String, CoroutineContext>>(
                "reclaiming" to hop.reclaiming(r),
                "ReclaimContext" to hop + ReclaimContext(r),
            )) {
                val thrown = runCatching {
                    runBlocking { supervisorScope { launch(context) { r.enter() }.join() } }
                }.exceptionOrNull()
                assertNull(thrown, "$name: ${thrown?.stackTraceToString()}")
                awaitNonEmpty(hop.uncaught.errors, "$name: the report to the uncaught-exception handler")
                val e = assertInstanceOf(IllegalStateException::class.java, hop.uncaught.errors.single(), name)
                assertTrue(e.message!!.contains("still open"), "$name: ${e.message}")
                hop.uncaught.errors.clear()
                repeat(100) { r.retire(Node(-it.toLong())) { n -> n.free() } }
                if (reclaimsEarly(r)) assertEquals(0, r.flushUntilNothingPending().pending(), "$name: ${r.stats()}")
            }
        }
        r.closeAfterWorkers()
        assertAllReclaimedOnce(r)
    }

    /**
     * A pool under a wrapped dispatcher shut down while a coroutine is suspended on it: the coroutine's resumption
     * is refused (kotlinx cancels it), the reclaimer closes afterwards and reclaims what the coroutines retired
     * exactly once, and the bridge reports nothing.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a wrapped pool shut down under a suspended coroutine leaves the reclaimer closable with everything reclaimed once`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        val w = Workers(2, "shutdown")
        val reports = Reports()
        val suspended = CountDownLatch(1)
        val gate = kotlinx.coroutines.CompletableDeferred<Unit>()
        val thrown = runCatching {
            runBlocking {
                supervisorScope {
                    val job = launch(w.dispatcher.reclaiming(r) + reports) {
                        r.withGuard { g -> swapAndRetire(g, cell) }
                        suspended.countDown()
                        gate.await()
                        r.withGuard { g -> swapAndRetire(g, cell) }
                    }
                    suspended.await()
                    w.shutdownAndJoin()
                    gate.complete(Unit)
                    job.join()
                    assertTrue(job.isCancelled, "the coroutine resumed on a pool that was shut down")
                }
            }
        }.exceptionOrNull()
        assertNull(thrown, thrown?.stackTraceToString())
        r.closeAfterWorkers()
        assertNothingReported("shutdown", reports.errors, w.uncaught.errors)
        assertAllReclaimedOnce(r)
        assertTrue(r.stats().retired() >= 1)
    }

    /**
     * Guards.kt whileOffline: "@return what [block] returned"; "brings it back online after it, also when it
     * throws"; "@throws IllegalStateException if called inside a guard or on another thread than the registered
     * one". Going offline is what lets close() complete (Reclaimer.close: "a registered thread is online (the
     * calling thread included: take it offline ... first)"), so a reclaimer may close while the block runs: the
     * block's result, or its exception, must still come out.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `whileOffline returns the block's value, or rethrows its exception, when the reclaimer closed during the block`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val value = r.register().use { reg -> runCatching { reg.whileOffline { r.close(); 7 } } }
        val r2 = Reclaimer.create(scheme)
        val thrown = r2.register().use { reg ->
            runCatching { reg.whileOffline<Unit> { r2.close(); throw IllegalArgumentException("boom") } }.exceptionOrNull()
        }
        assertAll(
            { assertTrue(r.isClosed && r2.isClosed, "close() did not complete with the registered thread offline") },
            { assertEquals(7, value.getOrNull(), "the block's value was lost: ${value.exceptionOrNull()}") },
            { assertInstanceOf(IllegalArgumentException::class.java, thrown, "the block's exception was replaced by: $thrown") },
        )
    }

    /**
     * README: "the coroutine fails with one IllegalStateException that names the misuse, as if its body had thrown
     * it ... What the guard protected is no longer protected, and the coroutine's next suspension point throws."
     * Here the guard is left open in the body of a supervisorScope: the coroutine that suspended is the scope's.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a guard left open in a supervisorScope body fails that body at its next suspension point with one IllegalStateException`(scheme: String) {
        val r = Reclaimer.create(scheme)
        Hopping("supervised-body").use { hop ->
            val reports = Reports()
            val gate = kotlinx.coroutines.CompletableDeferred<Unit>()
            val wentOn = AtomicBoolean()
            val thrown = runCatching {
                runBlocking {
                    val d = async(hop.reclaiming(r) + reports) {
                        supervisorScope {
                            r.enter().use {
                                gate.await() // suspends with the guard open
                                wentOn.set(true)
                            }
                        }
                    }
                    // until the bridge has acted: the coroutine failed, or its report went to the handler
                    awaitUntil("the bridge's report") { d.isCancelled || reports.errors.isNotEmpty() || hop.uncaught.errors.isNotEmpty() }
                    gate.complete(Unit)
                    d.await()
                }
            }.exceptionOrNull()
            val all = listOfNotNull(thrown) + reports.errors + hop.uncaught.errors
            assertFalse(wentOn.get(), "the coroutine went on past its next suspension point with its guard ended: ${all.map { it.toString() }}")
            assertEquals(1, all.size, "one exception, not ${all.map { it.toString() }}")
            val e = assertInstanceOf(IllegalStateException::class.java, all.single())
            assertTrue(e.message!!.contains("still open"), e.message)
        }
        r.closeAfterWorkers()
        assertAllReclaimedOnce(r)
    }

    /**
     * README "Misuse is reported, and the reclaimer survives it: a guard opened with Reclaimer.enter() and still
     * open when its coroutine suspends ... it holds nobody back, and close() succeeds", on a wrapped dispatcher
     * whose threads are virtual (the pitfall: "on them the element neither announces nor detects anything (an
     * unregistered thread is online only inside its guards, so it never holds anybody back)").
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a guard left open across a suspension on a virtual thread does not keep the reclaimer from closing`(scheme: String) {
        val r = Reclaimer.create(scheme)
        Executors.newVirtualThreadPerTaskExecutor().use { vexec ->
            val vt = vexec.asCoroutineDispatcher()
            // nothing detects it there: the coroutine resumes on another virtual thread, whose close() refuses
            val thrown = runCatching { runBlocking(vt.reclaiming(r)) { r.enter().use { delay(1) } } }.exceptionOrNull()
            assertInstanceOf(IllegalStateException::class.java, thrown, thrown?.stackTraceToString())
        }
        repeat(100) { r.retire(Node(-it.toLong())) { n -> n.free() } }
        if (reclaimsEarly(r)) assertEquals(0, r.flushUntilNothingPending().pending(), "the ended virtual thread's guard holds reclamation back: ${r.stats()}")
        r.closeAfterWorkers()
        assertAllReclaimedOnce(r)
    }
}
