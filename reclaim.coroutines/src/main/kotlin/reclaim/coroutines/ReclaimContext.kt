package reclaim.coroutines

import kotlinx.coroutines.ThreadContextElement
import reclaim.api.Reclaimer
import kotlin.coroutines.AbstractCoroutineContextElement
import kotlin.coroutines.CoroutineContext

/**
 * A coroutine context element that does for coroutines on a dispatcher you do not wrap what
 * [reclaiming] does for a wrapped one: at every suspension (and at completion) the thread announces a
 * quiescent state of [reclaimers] and goes offline, and a guard opened with [Reclaimer.enter] and still open
 * is closed on that thread and reported: the coroutine fails with an [IllegalStateException] (see
 * [reclaiming], also for the one race: a coroutine resumed on another worker before the end of its block may
 * complete first, and the report then goes to its handler).
 *
 * ```
 * launch(Dispatchers.IO + ReclaimContext(reclaimer)) {
 *     val v = reclaimer.withGuard { g -> g.protect(cell) }
 *     readFile()                       // suspends: quiescent, offline; no guard may be open here
 * }
 * ```
 *
 * On the thread that runs a block it behaves as the reclaiming dispatcher does: a platform thread is
 * registered with each reclaimer once (the first time it runs such a block), stays offline between blocks,
 * comes online at its first guard in a block, and announces a quiescent state and goes offline when the block
 * ends. Use it on pool threads: a thread that also uses guards of the same reclaimer outside coroutines
 * (for example the thread that calls `runBlocking`) becomes a registered thread, and under QSBR a registered
 * thread that leaves a guard stays online until it announces a quiescent state or goes offline (see
 * [reclaim.api.Registration]).
 *
 * ### Reentrancy and thread-safety
 * The element holds no per-block state: [updateThreadContext] returns the calling thread's own record, which
 * [restoreThreadContext] receives back on the same thread, so a coroutine that resumes on thread 2 while
 * thread 1 is still in [restoreThreadContext] for it is safe (see [ThreadContextElement]).
 *
 * ### Pitfalls
 * - One per context: a second `ReclaimContext` replaces the first (same [Key]); pass several reclaimers to one
 *   element instead.
 * - On a dispatcher made with [reclaiming] it is unnecessary, and a second thread-context element makes
 *   kotlinx allocate per dispatch.
 * - Virtual threads are not registered; on them the element neither announces nor detects anything (an
 *   unregistered thread is online only inside its guards, so it never holds anybody back).
 *
 * @param reclaimers the reclaimers (at least one)
 * @throws IllegalArgumentException if no reclaimer is given
 */
public class ReclaimContext(vararg reclaimers: Reclaimer) :
    AbstractCoroutineContextElement(Key), ThreadContextElement<Any> {

    /** The key of [ReclaimContext] in a coroutine context. */
    public companion object Key : CoroutineContext.Key<ReclaimContext>

    private val bridge = Bridge(reclaimers)

    /**
     * Called by kotlinx.coroutines when the coroutine starts or resumes on the current thread: registers the
     * thread on first use and notes whether a guard is already open.
     *
     * @param context the coroutine's context
     * @return the state [restoreThreadContext] needs (the thread's own record, and what the probe found)
     */
    override fun updateThreadContext(context: CoroutineContext): Any = bridge.resumed()

    /**
     * Called by kotlinx.coroutines when the coroutine leaves the current thread (it suspended or completed):
     * announces a quiescent state, goes offline, and closes and reports a guard left open.
     *
     * @param context the coroutine's context
     * @param oldState what [updateThreadContext] returned on this thread
     */
    override fun restoreThreadContext(context: CoroutineContext, oldState: Any) {
        bridge.suspended(context, oldState)
    }

    /** @return a description naming the reclaimers' schemes */
    override fun toString(): String = "ReclaimContext(${bridge.names()})"
}
