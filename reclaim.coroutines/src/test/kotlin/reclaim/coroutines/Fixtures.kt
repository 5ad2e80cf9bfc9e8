package reclaim.coroutines

import kotlinx.coroutines.ExecutorCoroutineDispatcher
import kotlinx.coroutines.asCoroutineDispatcher
import reclaim.api.Guard
import reclaim.api.Reclaimer
import reclaim.api.Scheme
import reclaim.api.Stats
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.AtomicReference

/** The schemes the tests run under: every one the providers present offer, new ones joining by name. */
object Schemes {
    @JvmStatic
    fun names(): List<String> = Reclaimer.availableSchemes().toList()
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
