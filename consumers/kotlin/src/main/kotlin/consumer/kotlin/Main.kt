// The consumer check's Kotlin program (.ci/consumers): README.md's "Kotlin coroutines and virtual threads" section
// made runnable. Its block is a fragment (cell, index, key and the launched body are left to the reader), so this
// file fills them in, and uses withGuard, reclaiming, ReclaimContext and withValue the way the block shows them.
package consumer.kotlin

import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.AtomicReference
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import reclaim.api.Atom
import reclaim.api.Reclaimer
import reclaim.coroutines.ReclaimContext
import reclaim.coroutines.reclaiming
import reclaim.coroutines.withGuard
import reclaim.coroutines.withValue

/** A node recycled through a pool, say: reclaiming it means handing it back (here: counting it). */
class Node(val value: Long)

/** Stands for a mapped file or a native handle: closed once, after its last reader. */
class Index(private val entries: Map<String, Int>) {
    fun lookup(key: String): Int? = entries[key]
}

val retiredNodes = AtomicLong()
val reclaimedNodes = AtomicLong()
val closedIndexes = AtomicLong()
val hits = AtomicLong()

/** Replaces the node in [cell] by its successor and retires the old one, in one critical section. */
fun bump(reclaimer: Reclaimer, cell: AtomicReference<Node>): Long = reclaimer.withGuard { g ->
    var cur = g.protect(cell)                                   // inline, allocation-free, cannot suspend inside
    while (!cell.compareAndSet(cur, Node(cur.value + 1))) cur = g.protect(cell)
    g.retire(cur) { reclaimedNodes.incrementAndGet() }
    retiredNodes.incrementAndGet()
    cur.value
}

fun main() {
    val reclaimer = Reclaimer.create("qsbr")
    val cell = AtomicReference(Node(0))
    val index = Atom(reclaimer, Index(mapOf("a" to 1))) { closedIndexes.incrementAndGet() }
    val dispatcher = Dispatchers.Default.reclaiming(reclaimer)   // also Dispatchers.IO, a pool's asCoroutineDispatcher()

    runBlocking {
        withContext(dispatcher) {
            repeat(100) {
                launch {
                    bump(reclaimer, cell)
                    delay(10)                                   // end of a block: quiescent state, worker offline
                    if (index.withValue { ix -> ix.lookup("a") } == 1) hits.incrementAndGet() // Atom<T> helper, same rules
                }
            }
        }
        List(10) {                                              // for a dispatcher you do not wrap
            launch(Dispatchers.IO + ReclaimContext(reclaimer)) {
                bump(reclaimer, cell)
                delay(10)
            }
        }.joinAll()
    }
    index.store(Index(mapOf("a" to 2)))                         // the first index is closed after its last reader
    index.close()
    try {
        reclaimer.close()
    } catch (e: IllegalStateException) {
        // README, pitfalls: under QSBR a worker may still be finishing its last block; close() again completes it
        reclaimer.close()
    }
    println("kotlin: retired ${retiredNodes.get()} nodes, reclaimed ${reclaimedNodes.get()}; closed ${closedIndexes.get()} indexes; ${hits.get()} reads of a=1")
    println(reclaimer.stats())
}
