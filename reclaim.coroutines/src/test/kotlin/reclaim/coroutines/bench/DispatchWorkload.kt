package reclaim.coroutines.bench

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import reclaim.api.Reclaimer
import reclaim.api.Scheme
import reclaim.coroutines.ReclaimContext
import reclaim.coroutines.reclaiming
import reclaim.coroutines.reclaimingStayingOnline
import reclaim.coroutines.withGuard
import java.util.concurrent.atomic.AtomicReference
import kotlin.coroutines.CoroutineContext

/**
 * The dispatch-heavy workload of DispatchBenchmark: [COROUTINES] short coroutines per batch on
 * Dispatchers.Default, each doing a guarded read, a yield (a second dispatch), and a guarded read, with every
 * eighth coroutine swapping the cell and retiring the old value. Only the dispatcher differs between modes.
 *
 * @param scheme the reclaimer's scheme; `qsbr-nopass` is QSBR whose quiescent() never advances the grace
 *     period (it isolates what the time-based pass allocates: the partial bag it seals)
 * @param mode `plain` (Dispatchers.Default), `wrapped` (Dispatchers.Default.reclaiming: offline after every
 *     block), `wrapped-online` (registered workers that stay online between blocks: the unsafe alternative),
 *     or `context` (plain Dispatchers.Default with a ReclaimContext)
 */
class DispatchWorkload(scheme: String, mode: String) : AutoCloseable {
    private val reclaimer = if (scheme == "qsbr-nopass") {
        Reclaimer.create(Scheme.Qsbr(64, Long.MAX_VALUE / 4, 100_000_000L)) // quiescent() never advances/seals
    } else {
        Reclaimer.create(scheme)
    }
    private val cell = AtomicReference(Value(0))
    private val context: CoroutineContext = when (mode) {
        "plain" -> Dispatchers.Default
        "wrapped" -> Dispatchers.Default.reclaiming(reclaimer)
        "wrapped-online" -> Dispatchers.Default.reclaimingStayingOnline(reclaimer)
        "context" -> Dispatchers.Default + ReclaimContext(reclaimer)
        else -> throw IllegalArgumentException("unknown mode $mode")
    }

    /** A retired value; its reclaim action does nothing but count, as a pool's release would. */
    class Value(@JvmField val v: Long)

    /** Runs one batch and returns a checksum (so that nothing is optimised away). */
    fun runBatch(): Long = runBlocking {
        var sum = 0L
        repeat(COROUTINES) { i ->
            launch(context) {
                sum += read()
                if (i and 7 == 0) swap()
                yield()
                sum += read()
            }
        }
        sum
    }

    private fun read(): Long = reclaimer.withGuard { g -> g.protect(cell).v }

    private fun swap() = reclaimer.withGuard { g ->
        val cur = g.protect(cell)
        if (cell.compareAndSet(cur, Value(cur.v + 1))) g.retire(cur, RECLAIM)
    }

    /** Closes the reclaimer, retrying while a worker finishes its last block (see closeAfterWorkers). */
    override fun close() {
        val deadline = System.nanoTime() + 10_000_000_000L
        while (true) {
            try {
                reclaimer.close()
                return
            } catch (e: IllegalStateException) {
                if (System.nanoTime() - deadline > 0) throw e
                Thread.onSpinWait()
            }
        }
    }

    companion object {
        /** Coroutines per batch: the benchmark's operations per invocation. */
        const val COROUTINES = 1000
        private val RECLAIM = java.util.function.Consumer<Value> { }
    }
}
