package reclaim.coroutines

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotSame
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import reclaim.api.Reclaimer
import reclaim.api.Scheme
import java.lang.ref.WeakReference
import java.time.Duration
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import kotlin.coroutines.CoroutineContext

/**
 * The promises of `reclaim.coroutines` as a client that knows only the documentation reads them (the KDoc of
 * `reclaiming`, `ReclaimContext`, `withGuard`, `whileOffline`, the module's package documentation in
 * `module-info.java`, and README's "Kotlin coroutines and virtual threads"), checked from the outside with the
 * public API only, under every scheme (`Schemes.withVariants()`: `Reclaimer.availableSchemes()` and
 * `crystalline-w`). Each test quotes the promise it checks. Synchronization is by latches and deferreds; the only
 * bounded waits are for eventual progress or collection, and they end as soon as their condition holds.
 *
 * What these tests found, each kept as the test of its fix:
 * - a coroutine started undispatched inside another's block that left a guard open failed the starter, and went
 *   on past its suspension point with its guard ended (the bridge checked only the outermost block on a thread);
 * - guards of two reclaimers left open gave two reports, the second to the handler beside the coroutine's failure;
 * - the bridge's map of threads kept an ended worker's entry, and with it a dropped reclaimer, until another new
 *   thread ran its first block (its cleaner did not close it, its actions did not run);
 * - under QSBR a blocking call after a guard in the same block holds grace periods back: documented as a pitfall,
 *   and the test checks the advice (suspend first).
 */
class CoroutinesDocumentedPromisesTest {

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
        val dispatcher = executor.asCoroutineDispatcher()

        /** Shuts the pool down and waits (at most 10 s) until each of its threads has ended. */
        fun shutdownAndJoin() {
            executor.shutdown()
            assertTrue(executor.awaitTermination(10, TimeUnit.SECONDS), "the pool did not terminate")
            for (t in threads) t.join(10_000)
            assertTrue(threads.none { it.isAlive }, "threads still alive: $threads")
        }

        override fun close() = shutdownAndJoin()
    }

    private fun contexts(r: Reclaimer, d: kotlinx.coroutines.CoroutineDispatcher): List<Pair<String, CoroutineContext>> =
        listOf("reclaiming" to d.reclaiming(r), "ReclaimContext" to d + ReclaimContext(r))

    private fun assertNothingReported(what: String, vararg queues: ConcurrentLinkedQueue<Throwable>) {
        val all = queues.flatMap { it.toList() }
        assertTrue(all.isEmpty(), "$what: reported ${all.map { it.stackTraceToString() }}")
    }

    private fun assertAllReclaimedOnce(r: Reclaimer) {
        val s = r.stats()
        assertEquals(s.retired(), s.reclaimed(), "after close everything retired is reclaimed: $s")
    }

    /** Whether [e], its causes or suppressed exceptions include the bridge's report ("still open"). */
    private fun namesTheMisuse(e: Throwable?): Boolean {
        if (e == null) return false
        val all = generateSequence(e) { it.cause }.flatMap { sequenceOf(it) + it.suppressed.asSequence() }
        return all.any { it is IllegalStateException && it.message?.contains("still open") == true }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Guards left open: which coroutine fails, and how often
    // ---------------------------------------------------------------------------------------------------------

    /**
     * ReclaimingDispatcher.kt: "A guard opened with [Reclaimer.enter] and still open when the coroutine suspends
     * (or completes) is closed on the thread that opened it ... Then the coroutine fails with one
     * [IllegalStateException] that names the misuse, as if its body had thrown it ... What the guard protected is
     * no longer protected, and the coroutine's next suspension point throws."
     *
     * The guilty coroutine is started with `CoroutineStart.UNDISPATCHED` (in a scope of its own) by another
     * coroutine on the same wrapped dispatcher, so its first block runs inside the starter's block on the same
     * thread. The promise is about "the coroutine" that suspended with the guard open: that one must fail, and must
     * not go on past its suspension point; the starter, which did nothing wrong, must complete normally.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a guard left open by a coroutine started undispatched fails that coroutine, not the one that started it`(scheme: String) {
        val r = Reclaimer.create(scheme)
        Hopping("undispatched").use { hop ->
            for ((name, context) in contexts(r, hop)) {
                val reports = Reports() // the starter's
                val guiltyReports = Reports()
                val scope = CoroutineScope(SupervisorJob() + reports)
                val gate = CompletableDeferred<Unit>()
                val wentOn = AtomicBoolean()
                val guilty = CompletableDeferred<Job>()
                val starter = runBlocking {
                    val a = scope.async(context) {
                        guilty.complete(scope.launch(context + guiltyReports, start = CoroutineStart.UNDISPATCHED) {
                            r.enter().use {
                                gate.await() // suspends with the guard open: the misuse
                                wentOn.set(true)
                            }
                        })
                        yield() // the starter's own block ends here, with no guard of its own open
                        42
                    }
                    val result = runCatching { a.await() }
                    gate.complete(Unit)
                    guilty.await().join()
                    result
                }
                val guiltyFailure = guiltyReports.errors.firstOrNull()
                scope.cancel()
                assertAll(
                    name,
                    { assertEquals(42, starter.getOrNull(), "$name: the starter failed instead: ${starter.exceptionOrNull()}") },
                    { assertFalse(wentOn.get(), "$name: the guilty coroutine went on past its suspension point with its guard ended") },
                    { assertTrue(namesTheMisuse(guiltyFailure), "$name: the guilty coroutine did not fail with the report: ${guiltyReports.errors.map { it.toString() }}") },
                    { assertTrue(reports.errors.isEmpty() && hop.uncaught.errors.isEmpty(), "$name: reported for the starter: ${(reports.errors + hop.uncaught.errors).map { it.toString() }}") },
                )
                hop.uncaught.errors.clear()
            }
        }
        r.closeAfterWorkers()
        assertAllReclaimedOnce(r)
    }

    /**
     * README: "the coroutine fails with one `IllegalStateException` that names the misuse, as if its body had
     * thrown it: `runBlocking` and `await()` throw it"; ReclaimingDispatcher.kt "@param reclaimers the reclaimers
     * whose quiescent states the blocks' ends are". One coroutine that leaves a guard of each of the two reclaimers
     * of one dispatcher open across one suspension fails once: the caller of runBlocking gets one exception, and
     * nothing else goes to the handler or to a thread's uncaught-exception handler (both guards are ended).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a coroutine that leaves guards of two reclaimers open fails with one IllegalStateException`(scheme: String) {
        val r1 = Reclaimer.create(scheme)
        val r2 = Reclaimer.create(scheme)
        Hopping("two-open").use { hop ->
            for ((name, context) in listOf<Pair<String, CoroutineContext>>(
                "reclaiming" to hop.reclaiming(r1, r2),
                "ReclaimContext" to hop + ReclaimContext(r1, r2),
            )) {
                val reports = Reports()
                val thrown = runCatching {
                    runBlocking(context + reports) {
                        r1.enter().use { r2.enter().use { delay(20_000) } }
                    }
                }.exceptionOrNull()
                val all = listOfNotNull(thrown) + reports.errors + hop.uncaught.errors
                assertInstanceOf(IllegalStateException::class.java, thrown, "$name: ${thrown?.stackTraceToString()}")
                assertEquals(1, all.size, "$name: one exception, not ${all.map { it.toString() }}")
                for (r in listOf(r1, r2)) {
                    repeat(100) { r.retire(Node(-it.toLong())) { n -> n.free() } }
                    if (reclaimsEarly(r)) assertEquals(0, r.flushUntilNothingPending().pending(), "$name: a guard still holds ${r.stats()}")
                }
                hop.uncaught.errors.clear()
            }
        }
        r1.closeAfterWorkers()
        r2.closeAfterWorkers()
        assertAllReclaimedOnce(r1)
        assertAllReclaimedOnce(r2)
    }

    /**
     * README "Misuse is reported, and the reclaimer survives it: a guard ... still open when its coroutine
     * suspends ... is closed by the bridge on the thread that opened it ...; it holds nobody back, and `close()`
     * succeeds", when a `close()` was already refused because of that guard (Reclaimer: "called while guards are
     * still open ..., it throws IllegalStateException ...; the open guards finish normally, and a later close()
     * completes"). The coroutine then suspends with the guard open and resumes on another thread: the bridge must
     * still end the guard, report the misuse once, and let the next close() complete.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a guard left open while a close() was refused is ended at the suspension, and the next close() completes`(scheme: String) {
        val r = Reclaimer.create(scheme)
        Hopping("closing-leak").use { hop ->
            val reports = Reports()
            val opened = CountDownLatch(1)
            val refusedClose = CountDownLatch(1)
            val thrown = runCatching {
                runBlocking {
                    val d = async(hop.reclaiming(r) + reports) {
                        r.enter().use {
                            opened.countDown()
                            refusedClose.await()
                            delay(20_000) // suspends with the guard open: the misuse
                        }
                    }
                    opened.await()
                    val refused = runCatching { r.close() }.exceptionOrNull()
                    assertInstanceOf(IllegalStateException::class.java, refused, "close() did not refuse an open guard")
                    refusedClose.countDown()
                    d.await()
                }
            }.exceptionOrNull()
            val all = listOfNotNull(thrown) + reports.errors + hop.uncaught.errors
            assertEquals(1, all.size, "one exception, not ${all.map { it.toString() }}")
            assertTrue(namesTheMisuse(all.single()), all.single().stackTraceToString())
            assertFalse(all.single().message!!.contains("could not be closed"), "the guard was not ended: ${all.single().message}")
            r.closeAfterWorkers()
        }
        assertTrue(r.isClosed)
        assertAllReclaimedOnce(r)
    }

    // ---------------------------------------------------------------------------------------------------------
    // What is not misuse: owned guards, exceptions and cancellation, throwing reclaim actions
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Reclaimer.enterOwned: "For code that hops threads inside one section"; OwnedGuard: "A registered thread's
     * quiescent states and offline() do not affect an owned guard it holds". The bridge's misuse detection is about
     * "A guard opened with [Reclaimer.enter]" only: an owned guard held across a suspension, resumed on another
     * thread and closed there, is correct use. Nothing is reported, what it protected stays unreclaimed until it
     * closes, and the reclaimer reclaims it and closes after.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `an owned guard held across a suspension keeps what it protected, is not reported, and closes on the other thread`(scheme: String) {
        val r = Reclaimer.create(scheme)
        Hopping("owned").use { hop ->
            for ((name, context) in contexts(r, hop)) {
                val reports = Reports()
                val cell = AtomicReference(Node(0))
                val protectedOne = CompletableDeferred<Node>()
                val held = AtomicReference<Node>()
                val gate = CompletableDeferred<Unit>()
                val threads = runBlocking {
                    val d = async(context + reports) {
                        val g = r.enterOwned()
                        try {
                            val opened = Thread.currentThread()
                            held.set(g.protect(cell))
                            yield() // suspends: resumes on the other thread of the hopping dispatcher
                            val resumed = Thread.currentThread()
                            protectedOne.complete(held.get())
                            gate.await()
                            val seen = g.protect(cell)
                            check(!held.get().freed) { "$name: a node protected by an open owned guard was reclaimed" }
                            check(!seen.freed)
                            opened to resumed
                        } finally {
                            g.close()
                        }
                    }
                    val n = protectedOne.await()
                    r.withGuard { g -> check(cell.compareAndSet(g.protect(cell), Node(1))) }
                    r.retire(n) { it.free() }
                    repeat(3) { r.flush() }
                    val heldBack = !n.freed
                    gate.complete(Unit)
                    val threads = d.await()
                    assertTrue(heldBack, "$name: reclaimed while the owned guard was open")
                    threads
                }
                assertNotSame(threads.first, threads.second, "$name: the coroutine did not move")
                assertNothingReported(name, reports.errors, hop.uncaught.errors)
                if (reclaimsEarly(r)) assertEquals(0, r.flushUntilNothingPending().pending(), "$name: ${r.stats()}")
            }
        }
        r.closeAfterWorkers()
        assertAllReclaimedOnce(r)
    }

    /**
     * Guards.kt withGuard: "the guard is opened before the block and closed after it, also when it throws"; the
     * bridge reports only "a guard ... still open when the coroutine suspends (or completes)". An exception thrown
     * inside withGuard in a coroutine on a wrapped dispatcher (or with ReclaimContext) reaches the caller as the
     * same exception, nothing is reported, what the block retired before throwing is reclaimed once, and the
     * reclaimer closes.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `an exception thrown inside withGuard in a coroutine reaches the caller unchanged, and the guard is closed`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        Workers(1, "throwing").use { w ->
            for ((name, context) in contexts(r, w.dispatcher)) {
                val reports = Reports()
                val retiredBefore = r.stats().retired()
                val boom = IllegalArgumentException("boom")
                val thrown = runCatching {
                    runBlocking(context + reports) {
                        yield()
                        r.withGuard { g ->
                            check(swapAndRetire(g, cell))
                            throw boom
                        }
                    }
                }.exceptionOrNull()
                assertSame(boom, thrown, "$name: ${thrown?.stackTraceToString()}")
                assertEquals(1L, r.stats().retired() - retiredBefore, name)
                assertNothingReported(name, reports.errors, w.uncaught.errors)
            }
        }
        r.closeAfterWorkers()
        assertAllReclaimedOnce(r)
        assertEquals(0, r.stats().failed())
    }

    /**
     * Reclaimer: "Containment. A reclaim action that throws is counted in Stats.failed() and reported ...; the
     * other actions still run"; ReclaimingDispatcher.kt: the end of the block "announces a quiescent state ... (at
     * most every passIntervalNanos it also advances the grace period and reclaims)", so reclaim actions run at the
     * end of blocks too (here under QSBR with a pass at every quiescent state). Actions that throw, wherever they
     * run, fail no coroutine and reach no handler; after close the stats add up: every object retired is
     * reclaimed once, and every one of them is counted as failed.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `reclaim actions that throw at the end of a block fail no coroutine, and the stats add up`(scheme: String) {
        val named = Reclaimer.create(scheme)
        val r = if (named.scheme() is Scheme.Qsbr) {
            named.close()
            Reclaimer.create(Scheme.Qsbr(1, 0, 100_000_000L))
        } else {
            named
        }
        val ran = AtomicInteger()
        Workers(2, "throwing-actions").use { w ->
            for ((name, context) in contexts(r, w.dispatcher)) {
                val reports = Reports()
                val cell = AtomicReference(Node(0))
                runBlocking(context + reports) {
                    repeat(20) {
                        launch {
                            r.withGuard { g ->
                                val cur = g.protect(cell)
                                if (cell.compareAndSet(cur, Node(cur.value + 1))) {
                                    g.retire(cur) { ran.incrementAndGet(); throw IllegalStateException("action of ${it.value}") }
                                }
                            }
                            yield()
                        }
                    }
                }
                assertNothingReported(name, reports.errors, w.uncaught.errors)
            }
        }
        r.closeAfterWorkers()
        val s = r.stats()
        assertAll(
            { assertEquals(s.retired(), s.reclaimed(), "$s") },
            { assertEquals(s.retired(), s.failed(), "every action threw: $s") },
            { assertEquals(s.retired(), ran.get().toLong(), "each action ran once: $s, ran ${ran.get()}") },
            { assertTrue(s.retired() > 0, "$s") },
        )
    }

    // ---------------------------------------------------------------------------------------------------------
    // Quiescence and offline workers
    // ---------------------------------------------------------------------------------------------------------

    /**
     * ReclaimingDispatcher.kt Pitfalls: "**Blocking after a guard in the same block.** Under QSBR a block's first
     * guard brings its registered worker online, and the worker stays online until the block ends ... Suspend before
     * blocking (`yield()`), or block in `withContext(Dispatchers.IO.reclaiming(r)) { }`, whose block starts offline."
     * Here a coroutine reads under `withGuard`, suspends (`yield()`), then blocks in its next block, outside every
     * guard: a grace period (Reclaimer.synchronize: "returns once every guard that was open when it was called has
     * closed") does not wait for the blocking call, under every scheme.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a blocking call after a suspension that follows a guard holds nobody back`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        Workers(1, "blocking").use { w ->
            for ((name, context) in contexts(r, w.dispatcher)) {
                val blocking = CountDownLatch(1)
                val release = CountDownLatch(1)
                val graceful = runBlocking {
                    val job = launch(context) {
                        r.withGuard { g -> g.protect(cell) }
                        yield() // the block ends here: the worker goes offline
                        blocking.countDown()
                        release.await() // a blocking call, outside every guard, in a block that used none
                    }
                    blocking.await()
                    val done = try {
                        r.synchronize(Duration.ofSeconds(30))
                    } finally {
                        release.countDown()
                    }
                    job.join()
                    done
                }
                assertTrue(graceful, "$name: a grace period waited for a worker that blocks outside every guard (${r.stats()})")
            }
        }
        r.closeAfterWorkers()
    }

    /**
     * ReclaimingDispatcher.kt: "the end of the block announces a quiescent state ([reclaim.api.Registration.quiescent]:
     * at most every `passIntervalNanos` it also advances the grace period and reclaims, light-qsbr's
     * `maybe_pass_epoch`)"; README "no explicit quiescent calls". Under QSBR with the fence barrier (the asymmetric
     * one tries once per about a thousand objects retired), batches of one and a pass at every quiescent state, an
     * object retired by a lone coroutine is reclaimed by the ends of its own later blocks: no flush(), no other
     * thread, nothing but suspensions.
     */
    @org.junit.jupiter.api.Test
    fun `under QSBR the ends of blocks advance the grace period and reclaim, with no flush`() {
        for (useContext in listOf(false, true)) {
            val r = Reclaimer.create(Scheme.Qsbr(1, 0, 100_000_000L), reclaim.api.Options.DEFAULT.withBarrier(reclaim.api.Options.Barrier.FENCE))
            val cell = AtomicReference(Node(0))
            val name = if (useContext) "ReclaimContext" else "reclaiming"
            Workers(1, "qsbr-pass").use { w ->
                val context: CoroutineContext = if (useContext) w.dispatcher + ReclaimContext(r) else w.dispatcher.reclaiming(r)
                val (old, suspensions) = runBlocking(context) {
                    val old = r.withGuard { g -> g.protect(cell).also { check(swapAndRetire(g, cell)) } }
                    var k = 0
                    while (!old.freed && k < 1_000) {
                        yield() // the end of a block: quiescent, with a pass
                        k++
                    }
                    old to k
                }
                assertTrue(old.freed, "$name: not reclaimed after $suspensions block ends: ${r.stats()}")
            }
            r.close()
            assertAllReclaimedOnce(r)
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Workers that end
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Uses a fresh reclaimer of [scheme] on a two-thread pool (through the bridge, or with each thread registering
     * itself and ending registered), retires [n] nodes counted in [freed], lets the pool's threads end, and returns
     * only a weak reference to the reclaimer: the caller holds nothing else of it.
     */
    private fun useOnEndedPool(scheme: String, viaBridge: Boolean, n: Int, freed: AtomicInteger): WeakReference<Reclaimer> {
        val r = Reclaimer.create(scheme)
        val w = Workers(2, if (viaBridge) "dropped-bridge" else "dropped-plain")
        try {
            if (viaBridge) {
                runBlocking(w.dispatcher.reclaiming(r)) {
                    repeat(n) { i -> launch { r.withGuard { g -> g.retire(Node(i.toLong())) { freed.incrementAndGet() } }; yield() } }
                }
            } else {
                val start = CountDownLatch(2)
                (0 until 2).map { t ->
                    w.executor.submit {
                        val reg = r.register() // never closed: the thread ends registered
                        start.countDown()
                        start.await()
                        for (i in t until n step 2) reg.withGuard { g -> g.retire(Node(i.toLong())) { freed.incrementAndGet() } }
                        reg.offline()
                    }
                }.forEach { it.get() }
            }
        } finally {
            w.shutdownAndJoin()
        }
        assertNothingReported("pool", w.uncaught.errors)
        return WeakReference(r)
    }

    /**
     * Collects garbage until [ref] is cleared and [freed] reaches [n], for at most 2 s (the control needs a few
     * collections); returns whether both happened. Ends as soon as they have.
     */
    private fun collected(ref: WeakReference<Reclaimer>, freed: AtomicInteger, n: Int): Boolean {
        val deadline = System.nanoTime() + 2_000_000_000L
        while (ref.get() != null || freed.get() < n) {
            if (System.nanoTime() - deadline > 0) return false
            System.gc()
            Thread.onSpinWait()
        }
        return true
    }

    /**
     * ReclaimingDispatcher.kt: a worker "stays registered until it ends (a thread that ends registered is swept by
     * the reclaimer)"; Reclaimer: "A reclaimer dropped without close() does not stay reachable through the threads
     * that used it: once it is unreachable (no registration of it is alive), the built-in implementation closes it
     * on a cleaner thread ... Reclaim actions then run at a time the garbage collector chooses." Once every worker
     * of a wrapped pool has ended, no registration the bridge made is alive: a reclaimer the application then drops
     * must become unreachable and be closed, its reclaim actions run, as it is when the same threads registered
     * themselves and ended registered (checked first, as the control).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a reclaimer dropped after its wrapped pool ended is not kept reachable by the bridge`(scheme: String) {
        val n = 40
        val plainFreed = AtomicInteger()
        val plain = useOnEndedPool(scheme, viaBridge = false, n = n, freed = plainFreed)
        assertTrue(collected(plain, plainFreed, n), "control: the reclaimer of threads that ended registered was not collected and closed (freed ${plainFreed.get()} of $n)")
        val bridgedFreed = AtomicInteger()
        val bridged = useOnEndedPool(scheme, viaBridge = true, n = n, freed = bridgedFreed)
        if (collected(bridged, bridgedFreed, n)) return
        val reachable = bridged.get() != null
        val ran = bridgedFreed.get()
        // For the report: whether a new thread's first block on any wrapped dispatcher (another reclaimer) lets go of it.
        val other = Reclaimer.create(scheme)
        Workers(1, "newcomer").use { w -> runBlocking(w.dispatcher.reclaiming(other)) { other.withGuard { } } }
        other.close()
        val afterNewcomer = collected(bridged, bridgedFreed, n)
        fail<Unit>(
            "the reclaimer used through a wrapped pool whose threads all ended is still reachable ($reachable) and its " +
                "actions ran $ran of $n times; after a new thread ran its first block on another wrapped dispatcher it " +
                (if (afterNewcomer) "was collected and closed" else "still was not collected"),
        )
    }

    /**
     * ReclaimingDispatcher.kt "@receiver the dispatcher that runs the blocks (... a fixed pool's
     * `asCoroutineDispatcher()`, ...)": the wrapper adds nothing to what its receiver does with a block, so on a pool
     * that was shut down a new coroutine is refused as it is on the plain dispatcher (kotlinx cancels it), its body
     * never runs, the bridge reports nothing, and the reclaimer, whose guards the coroutine would have used, closes
     * with everything retired before reclaimed once.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a coroutine launched on a wrapped dispatcher after its pool shut down is cancelled, and nothing is reported`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        val w = Workers(1, "after-shutdown")
        val reports = Reports()
        runBlocking(w.dispatcher.reclaiming(r)) { r.withGuard { g -> swapAndRetire(g, cell) } }
        w.shutdownAndJoin()
        for ((name, context) in contexts(r, w.dispatcher)) {
            val ran = AtomicBoolean()
            val cancelled = runBlocking {
                kotlinx.coroutines.supervisorScope {
                    val job = launch(context + reports) {
                        ran.set(true)
                        r.withGuard { g -> swapAndRetire(g, cell) }
                        delay(1)
                    }
                    job.join()
                    job.isCancelled
                }
            }
            assertTrue(cancelled, "$name: the coroutine was not cancelled")
            assertFalse(ran.get(), "$name: the body ran although the pool was shut down")
        }
        r.closeAfterWorkers()
        assertNothingReported("after shutdown", reports.errors, w.uncaught.errors)
        assertAllReclaimedOnce(r)
        assertEquals(1L, r.stats().retired())
    }

    // ---------------------------------------------------------------------------------------------------------
    // The helpers' documented misuse
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Guards.kt whileOffline: "Call it outside every guard ... @throws IllegalStateException if called inside a
     * guard or on another thread than the registered one", and "if ... the block ... closed the registration (the
     * thread cannot come back online then)". Inside a guard it refuses before running the block, under every
     * scheme (Registration.offline: "@throws IllegalStateException if called inside a guard, from another thread,
     * or after close()"), after which the guard still works and closes; after the registration was closed it
     * refuses too.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `whileOffline inside a guard, or on a closed registration, throws IllegalStateException without running the block`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val ran = AtomicInteger()
        val cell = AtomicReference(Node(0))
        r.register().use { reg ->
            val inside = reg.withGuard { g ->
                val e = runCatching { reg.whileOffline { ran.incrementAndGet() } }.exceptionOrNull()
                g.protect(cell) // the guard still works
                e
            }
            assertInstanceOf(IllegalStateException::class.java, inside, "inside a guard: $inside")
            assertEquals(0, ran.get(), "the block ran inside a guard")
            val closedInBlock = runCatching { reg.whileOffline { reg.close() } }.exceptionOrNull()
            assertInstanceOf(IllegalStateException::class.java, closedInBlock, "the block closed the registration: $closedInBlock")
            val after = runCatching { reg.whileOffline { ran.incrementAndGet() } }.exceptionOrNull()
            assertInstanceOf(IllegalStateException::class.java, after, "after close: $after")
            assertEquals(0, ran.get(), "the block ran on a closed registration")
        }
        r.close()
        assertTrue(r.isClosed)
    }

    /**
     * ReclaimContext.kt Pitfalls: "On a dispatcher made with [reclaiming] it is unnecessary"; it is also harmless:
     * with both, a guard left open across a suspension is still ended and reported once (not once per element),
     * and a coroutine that uses guards correctly reports nothing.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.coroutines.Schemes#withVariants")
    fun `a ReclaimContext on a wrapped dispatcher is harmless, and a leak is still reported once`(scheme: String) {
        val r = Reclaimer.create(scheme)
        val cell = AtomicReference(Node(0))
        Hopping("both").use { hop ->
            val context = hop.reclaiming(r) + ReclaimContext(r)
            val reports = Reports()
            runBlocking(context + reports) {
                repeat(20) { launch { r.withGuard { g -> swapAndRetire(g, cell) }; yield(); r.withGuard { g -> g.protect(cell) } } }
            }
            assertNothingReported("correct use", reports.errors, hop.uncaught.errors)
            val thrown = runCatching { runBlocking(context + reports) { r.enter().use { delay(20_000) } } }.exceptionOrNull()
            val all = listOfNotNull(thrown) + reports.errors + hop.uncaught.errors
            assertEquals(1, all.size, "one exception, not ${all.map { it.toString() }}")
            assertTrue(namesTheMisuse(all.single()), all.single().stackTraceToString())
            assertFalse(all.single() is CancellationException)
        }
        if (reclaimsEarly(r)) assertEquals(0, r.flushUntilNothingPending().pending(), "${r.stats()}")
        r.closeAfterWorkers()
        assertAllReclaimedOnce(r)
    }
}
