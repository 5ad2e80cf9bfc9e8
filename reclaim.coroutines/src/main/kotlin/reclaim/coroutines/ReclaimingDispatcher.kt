@file:JvmName("ReclaimingDispatchers")

package reclaim.coroutines

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.InternalCoroutinesApi
import kotlinx.coroutines.ThreadContextElement
import reclaim.api.Reclaimer
import java.lang.Runnable
import kotlin.coroutines.CoroutineContext

/**
 * Returns a dispatcher that runs coroutines on this one and makes the end of every block it runs (a suspension
 * or a completion) a quiescent state of [reclaimers]: reclamation progresses with many coroutines on few
 * threads and no explicit quiescent calls, and an idle worker holds nobody back.
 *
 * ```
 * val dispatcher = Dispatchers.Default.reclaiming(reclaimer)
 * withContext(dispatcher) {
 *     val v = reclaimer.withGuard { g -> g.protect(head).value }   // guards as usual, never across a suspension
 *     delay(10)                                                    // the end of a block: quiescent, offline
 * }
 * ```
 *
 * What it does, per worker thread and reclaimer:
 * - **Registers once.** The first block a platform thread runs registers it ([Reclaimer.register]); it stays
 *   registered until it ends (a thread that ends registered is swept by the reclaimer), also across resets of
 *   its thread locals by its pool (the common pool's workers lose them whenever they go idle). A block that
 *   begins inside a guard cannot register its thread (registering is refused there): a later outermost block
 *   does. Virtual threads are not registered, nor is a thread the application registered itself (its
 *   registration, and the quiescent states and checks it makes, stay the application's: the bridge neither
 *   takes it offline nor ends a guard it leaves open).
 * - **Online lazily, offline after every block.** The thread is offline between blocks; the first guard of a
 *   block brings it online (under QSBR: one CAS, the store and fence of going online), later guards of the same
 *   block cost no shared store, and the end of the block announces a quiescent state
 *   ([reclaim.api.Registration.quiescent]: at most every `passIntervalNanos` it also advances the grace
 *   period and reclaims, light-qsbr's `maybe_pass_epoch`) and goes offline. A worker that then parks,
 *   however long, stalls nobody. Schemes other than QSBR have no online state: for them the calls only check.
 * - **Ends guards left open.** A guard opened with [Reclaimer.enter] and still open when the coroutine
 *   suspends (or completes) is closed on the thread that opened it, the only thread that can close it: it holds
 *   nobody back, and the reclaimer still closes. Then the coroutine fails with one [IllegalStateException] that
 *   names the misuse, as if its body had thrown it: the caller of `runBlocking` or `await()` gets it, a parent
 *   fails with it, a root `launch` hands it to its `CoroutineExceptionHandler`. What the guard protected is no
 *   longer protected, and the coroutine's next suspension point throws. A coroutine that completed with the
 *   guard open can no longer fail: the report goes to its `CoroutineExceptionHandler`, else to the thread's
 *   uncaught-exception handler. One race: on a pool of several threads, a coroutine may be resumed by another
 *   worker before the thread it suspended on has ended its block (`yield()` dispatches it at once); it then runs
 *   on, and may complete, before the report, which joins its failure or goes to the handler as for a completed
 *   coroutine. Either way the misuse is reported once. A suspension point that returns without suspending (a `delay` whose time is up
 *   before the coroutine gets to suspend) ends no block: the coroutine stays on its thread, and the guard's own
 *   `close()` ends it there, which is correct use; nothing is reported. A coroutine started undispatched inside
 *   another's block answers for its own guards, except one started inside a guard the starter holds open
 *   (`withGuard { launch(start = UNDISPATCHED) { … } }`): a guard it leaves open is then one more level of the
 *   thread's open guard, which the API does not tell apart, so it is found when the starter's block ends, and
 *   reported (and ended) as the starter's.
 *
 * Its own work allocates nothing per dispatch: the returned dispatcher is also the coroutine's only
 * [ThreadContextElement], which kotlinx.coroutines calls around every block with no state array. (A block that
 * begins inside an open guard, a coroutine started undispatched within `withGuard`, allocates one small object
 * that carries that finding to the block's end.) kotlinx.coroutines' own resumption path may allocate more per
 * dispatch for a coroutine whose context holds any thread-context element than for one without (a coroutine
 * looping on `yield()` does, wrapped or with an element that does nothing alike); a short coroutine that completes
 * in one block allocates the same wrapped or plain (`DispatchBenchmark`). Adding a
 * [ReclaimContext] (or any other thread-context element) to a coroutine on it is unnecessary and makes
 * kotlinx allocate a small array per dispatch on top.
 *
 * ### Pitfalls
 * - **Shared worker threads.** `Dispatchers.Default` and `Dispatchers.IO` share their threads. Under QSBR a
 *   registered thread that enters a guard outside a wrapped block (a coroutine on the *plain* `Dispatchers.IO`
 *   using the same reclaimer) goes online and stays online until its next wrapped block; if it parks meanwhile
 *   it holds reclamation back ([reclaim.api.Stats.stalled] reports it). Wrap both, `Dispatchers.IO.reclaiming(r)`,
 *   or add a [ReclaimContext] to the coroutines that run on the plain one.
 * - **Blocking inside a guard** (not a suspension: a blocking call inside `withGuard`) holds reclamation back
 *   under EBR and QSBR as it does anywhere.
 * - **Blocking after a guard in the same block.** Under QSBR a block's first guard brings its registered worker
 *   online, and the worker stays online until the block ends (its end is the quiescent state): a blocking call
 *   later in the same block, outside every guard, still holds grace periods back. Suspend before blocking
 *   (`yield()`), or block in `withContext(Dispatchers.IO.reclaiming(r)) { }`, whose block starts offline.
 * - **Threads that start coroutines undispatched.** Every platform thread that runs a block is registered, the
 *   starter's own too when a coroutine starts on it undispatched (`start = CoroutineStart.UNDISPATCHED`,
 *   `Dispatchers.Unconfined.reclaiming(r)`). Under QSBR such a thread then is a registered thread: a guard it opens
 *   outside coroutines brings it online, and it stays online, holding grace periods back, until its next block
 *   ends; its own `register()` is refused and its `close()` of the reclaimer counts it online. Start coroutines
 *   dispatched from threads that use the reclaimer outside coroutines.
 * - **Dropping the reclaimer.** Each worker that ran a block keeps its registration for as long as it lives, and a
 *   live registration keeps its reclaimer reachable ([Reclaimer]'s *Closing*): a reclaimer dropped without
 *   `close()` while the workers of a wrapped pool live is not collected, and what it still holds waits for them
 *   to end. `close()` it.
 * - **Wrapping twice.** A coroutine's context has one dispatcher, and kotlinx calls only its thread-context
 *   element: a wrapper of a wrapper would leave the inner one's reclaimers unbridged. So `reclaiming` called on
 *   a dispatcher it returned wraps the same underlying dispatcher once, for the reclaimers of both calls (a
 *   reclaimer named twice counts once).
 * - `delay` on a wrapped dispatcher is timed by kotlinx's default delay thread and resumed through this
 *   dispatcher; [CoroutineDispatcher.limitedParallelism] returns a wrapped view of the underlying dispatcher's view.
 *
 * @receiver the dispatcher that runs the blocks (`Dispatchers.Default`, `Dispatchers.IO`, a fixed pool's
 *     `asCoroutineDispatcher()`, ...)
 * @param reclaimers the reclaimers whose quiescent states the blocks' ends are (usually one)
 * @return the wrapped dispatcher
 * @throws IllegalArgumentException if no reclaimer is given
 */
public fun CoroutineDispatcher.reclaiming(vararg reclaimers: Reclaimer): CoroutineDispatcher =
    if (this is ReclaimingDispatcher) adding(reclaimers) else ReclaimingDispatcher(this, Bridge(reclaimers))

/**
 * For the benchmark only: [reclaiming] with registered workers that stay online between blocks (quiescent at
 * the end of each block, never offline). It shows what going offline after every block costs; it is unsafe
 * under QSBR (a worker that parks online holds reclamation back) and therefore not public.
 */
internal fun CoroutineDispatcher.reclaimingStayingOnline(reclaimer: Reclaimer): CoroutineDispatcher =
    ReclaimingDispatcher(this, Bridge(arrayOf(reclaimer), offlineAfterBlock = false))

/**
 * A dispatcher that delegates dispatching and is, at the same time, the [ThreadContextElement] that brackets
 * every block with the bridge's work: the coroutine's context holds the interceptor, so kotlinx finds it as the
 * context's only thread-context element and calls it around each block without allocating (one element: its
 * fast path, no state array).
 */
internal class ReclaimingDispatcher(
    private val delegate: CoroutineDispatcher,
    private val bridge: Bridge,
) : CoroutineDispatcher(), ThreadContextElement<Any> {

    override fun isDispatchNeeded(context: CoroutineContext): Boolean = delegate.isDispatchNeeded(context)

    override fun dispatch(context: CoroutineContext, block: Runnable) = delegate.dispatch(context, block)

    /** Keeps the underlying dispatcher's fair yield (Default and IO put a yielding task behind the others). */
    @InternalCoroutinesApi
    override fun dispatchYield(context: CoroutineContext, block: Runnable) = delegate.dispatchYield(context, block)

    override fun limitedParallelism(parallelism: Int, name: String?): CoroutineDispatcher =
        ReclaimingDispatcher(delegate.limitedParallelism(parallelism, name), bridge)

    /** This wrapper's underlying dispatcher, wrapped once for its reclaimers and [more] (see [reclaiming]). */
    fun adding(more: Array<out Reclaimer>): CoroutineDispatcher {
        require(more.isNotEmpty()) { "at least one reclaimer is needed" }
        return ReclaimingDispatcher(delegate, bridge.adding(more))
    }

    override fun updateThreadContext(context: CoroutineContext): Any = bridge.resumed()

    override fun restoreThreadContext(context: CoroutineContext, oldState: Any) =
        bridge.suspended(context, oldState)

    override fun toString(): String = "$delegate.reclaiming(${bridge.names()})"
}
