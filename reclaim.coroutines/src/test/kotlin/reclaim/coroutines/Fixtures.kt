package reclaim.coroutines

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineExceptionHandler
import kotlinx.coroutines.ExecutorCoroutineDispatcher
import kotlinx.coroutines.asCoroutineDispatcher
import reclaim.api.Guard
import reclaim.api.Reclaimer
import reclaim.api.Scheme
import reclaim.api.Stats
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.Executors
import java.util.concurrent.ForkJoinPool
import java.util.concurrent.ForkJoinWorkerThread
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.AtomicReference
import kotlin.coroutines.CoroutineContext

/** The schemes the tests run under: every one the providers present offer, new ones joining by name. */
object Schemes {
    @JvmStatic
    fun names(): List<String> = Reclaimer.availableSchemes().toList()

    /**
     * [names] and the variants a provider creates by name without listing them in `availableSchemes()`
     * (`crystalline-w`), for the tests of what the bridge must hold under every configuration.
     */
    @JvmStatic
    fun withVariants(): List<String> = names() + listOf("crystalline-w").filter { name ->
        name !in names() && runCatching { Reclaimer.create(name).close() }.isSuccess
    }
}

/** Whether [r] reclaims anything before close() (the leak baseline does not). */
fun reclaimsEarly(r: Reclaimer): Boolean = r.scheme() !is Scheme.None

/** A value with a reclaim action that must run exactly once, and never while a reader holds it. */
class Node(val value: Long) {
    @Volatile
    var freed = false

    fun free() {
        check(!freed) { "node $value reclaimed twice" }
        freed = true
        FREED.incrementAndGet()
    }

    companion object {
        val FREED = AtomicLong()
    }
}

/** Swaps the cell's node for a fresh one inside [g] and retires the old one; returns whether it won. */
fun swapAndRetire(g: Guard, cell: AtomicReference<Node>): Boolean {
    val cur = g.protect(cell)
    check(!cur.freed) { "read a reclaimed node ${cur.value}" }
    val next = Node(cur.value + 1)
    if (!cell.compareAndSet(cur, next)) return false
    g.retire(cur) { it.free() }
    return true
}

/**
 * Flushes until nothing is pending, for at most 10 s, and returns the last stats. This checks eventual
 * progress (an idle worker must not hold anybody back forever); it is not a sleep standing in for a signal:
 * the loop ends as soon as the condition holds.
 */
fun Reclaimer.flushUntilNothingPending(): Stats {
    val deadline = System.nanoTime() + 10_000_000_000L
    while (true) {
        flush()
        val s = stats()
        if (s.pending() == 0L || System.nanoTime() - deadline > 0) return s
        Thread.onSpinWait()
    }
}

/** A fixed pool of [n] named platform threads as a dispatcher. */
fun pool(n: Int, name: String): ExecutorCoroutineDispatcher {
    val id = AtomicInteger()
    return Executors.newFixedThreadPool(n) { r -> Thread(r, "$name-${id.incrementAndGet()}").apply { isDaemon = true } }
        .asCoroutineDispatcher()
}

/**
 * A fixed pool of [n] named daemon threads that hand what they do not catch to [uncaught]. Shut it down and await
 * its termination to know that every block ended and every report was made.
 */
fun reportingWorkers(n: Int, name: String, uncaught: Uncaught): java.util.concurrent.ExecutorService {
    val id = AtomicInteger()
    return Executors.newFixedThreadPool(n) { task ->
        Thread(task, "$name-${id.incrementAndGet()}").apply { isDaemon = true; uncaughtExceptionHandler = uncaught }
    }
}

/**
 * Runs [body] with two single-thread workers, a and b (for tests that call the bridge as kotlinx would, on given
 * threads), and shuts them down after.
 */
fun twoWorkers(body: (a: java.util.concurrent.ExecutorService, b: java.util.concurrent.ExecutorService) -> Unit) {
    val a = Executors.newSingleThreadExecutor()
    val b = Executors.newSingleThreadExecutor()
    try {
        body(a, b)
    } finally {
        a.shutdown()
        b.shutdown()
        check(a.awaitTermination(20, java.util.concurrent.TimeUnit.SECONDS) && b.awaitTermination(20, java.util.concurrent.TimeUnit.SECONDS)) {
            "the two workers did not end"
        }
    }
}

/**
 * Closes [this] reclaimer once the workers have finished their last block. A coroutine's completion is
 * visible (join returns) a moment before its worker leaves the block and goes offline; under QSBR close()
 * refuses an online registered thread with IllegalStateException, and completes when called again. The loop
 * ends as soon as close() succeeds (at most 10 s).
 */
fun Reclaimer.closeAfterWorkers() {
    val deadline = System.nanoTime() + 10_000_000_000L
    while (true) {
        try {
            close()
            return
        } catch (e: IllegalStateException) {
            if (System.nanoTime() - deadline > 0) throw e
            Thread.onSpinWait()
        }
    }
}

/** Collects what the threads it is installed on did not catch (the bridge reports to it when nobody else takes it). */
class Uncaught : Thread.UncaughtExceptionHandler {
    val errors = ConcurrentLinkedQueue<Throwable>()

    override fun uncaughtException(t: Thread, e: Throwable) {
        errors.add(e)
    }
}

/** Collects what a coroutine's CoroutineExceptionHandler receives. */
class Reports : CoroutineExceptionHandler {
    val errors = ConcurrentLinkedQueue<Throwable>()
    override val key get() = CoroutineExceptionHandler
    override fun handleException(context: CoroutineContext, exception: Throwable) {
        errors.add(exception)
    }
}

/**
 * A dispatcher over two single-thread executors that sends each dispatch to the other thread than the one
 * before: a lone coroutine that starts on `name-a` and suspends resumes on `name-b`, every time. Both threads
 * report what they do not catch to [uncaught].
 */
class Hopping(name: String) : CoroutineDispatcher(), AutoCloseable {
    val uncaught = Uncaught()
    private val threads = arrayOf("$name-a", "$name-b")
    private val executors = Array(2) { i ->
        Executors.newSingleThreadExecutor { r ->
            Thread(r, threads[i]).apply { isDaemon = true; uncaughtExceptionHandler = uncaught }
        }
    }
    private val next = AtomicInteger()

    /** How many blocks it was handed so far: a coroutine's start, then one per resumption after a suspension. */
    val dispatches: Int get() = next.get()

    override fun dispatch(context: CoroutineContext, block: Runnable) = executors[next.getAndIncrement() and 1].execute(block)

    override fun close() = executors.forEach { it.shutdown() }

    override fun toString() = "Hopping(${threads.joinToString()})"
}

/**
 * Passes every block on to [delegate] (the same threads, the same queues) and counts them. A coroutine started
 * on it is dispatched once to start and once more each time it resumes after a suspension, so a count of one
 * for a lone coroutine says that it ran from start to end on one thread in one block: a suspension point that
 * returned without suspending (a `delay` whose time was up before the coroutine got to suspend) ended nothing.
 */
class Counting(private val delegate: CoroutineDispatcher) : CoroutineDispatcher() {
    private val count = AtomicInteger()

    /** How many blocks it was handed so far. */
    val dispatches: Int get() = count.get()

    override fun isDispatchNeeded(context: CoroutineContext): Boolean = delegate.isDispatchNeeded(context)

    override fun dispatch(context: CoroutineContext, block: Runnable) {
        count.incrementAndGet()
        delegate.dispatch(context, block)
    }

    override fun toString() = "Counting($delegate)"
}

/**
 * A one-worker ForkJoinPool whose worker's thread locals are cleared whenever it runs out of work, as the common
 * pool's workers' are ([ForkJoinWorkerThread]'s `preserveThreadLocals = false`). [awaitReset] waits until that has
 * happened: the worker clears them before it parks, so a parked worker has lost them since its last task.
 */
class ResettingPool : AutoCloseable {
    val uncaught = Uncaught()
    private val workers = ConcurrentLinkedQueue<Thread>()
    val pool = ForkJoinPool(1, { p ->
        object : ForkJoinWorkerThread(null, p, false) {}.also { it.uncaughtExceptionHandler = uncaught; workers.add(it) }
    }, null, false)
    val dispatcher = pool.asCoroutineDispatcher()

    /** Waits (at most 10 s) until every worker is parked, that is idle with its thread locals cleared. */
    fun awaitReset() {
        val deadline = System.nanoTime() + 10_000_000_000L
        while (!workers.all { it.state == Thread.State.WAITING || it.state == Thread.State.TIMED_WAITING || !it.isAlive }) {
            check(System.nanoTime() - deadline < 0) { "the pool's workers did not go idle: ${workers.map { "${it.name} ${it.state}" }}" }
            Thread.onSpinWait()
        }
    }

    override fun close() = pool.shutdown()
}

/** Waits (at most 10 s) until [q] holds something; fails naming [what] otherwise. */
fun awaitNonEmpty(q: java.util.Queue<*>, what: String) {
    val deadline = System.nanoTime() + 10_000_000_000L
    while (q.isEmpty()) {
        check(System.nanoTime() - deadline < 0) { "$what did not arrive within 10 s" }
        Thread.onSpinWait()
    }
}
