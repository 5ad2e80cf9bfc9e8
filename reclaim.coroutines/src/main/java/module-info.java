/**
 * The Kotlin coroutine bridge of {@code reclaim}: safe memory reclamation where many coroutines share few
 * threads.
 *
 * <h2>What it is for</h2>
 * A {@link reclaim.api.Guard} belongs to the thread that opened it, but a coroutine may suspend on one thread
 * and resume on another. This module makes reclamation correct and cheap there:
 * <ul>
 *   <li>a critical section whose block cannot suspend ({@code reclaimer.withGuard { g -> ... }}, inline and
 *       {@code crossinline}: the compiler refuses a suspension inside it, so no protected reference crosses a
 *       suspension point; it allocates nothing);</li>
 *   <li>a dispatcher wrapper ({@code Dispatchers.Default.reclaiming(reclaimer)}) that makes the end of every
 *       dispatched block a quiescent state (QSBR's announcement and, periodically, its grace-period advance),
 *       registers each worker thread once and keeps it offline between blocks, so that a worker that parks
 *       holds nobody back; it allocates nothing per dispatch;</li>
 *   <li>a {@code ThreadContextElement}, {@code ReclaimContext(reclaimer)}, that does the same for coroutines
 *       on dispatchers you do not wrap;</li>
 *   <li>misuse detection: a guard opened with {@code Reclaimer.enter()} and still open when its coroutine
 *       suspends is closed on the thread that opened it (the reclaimer keeps reclaiming and still closes), and
 *       the coroutine fails with one clear {@link java.lang.IllegalStateException};</li>
 *   <li>a few Kotlin helpers: {@code Atom.withValue { }}, {@code Registration.whileOffline { }}.</li>
 * </ul>
 * It works with every scheme that the providers present offer ({@link reclaim.api.Reclaimer#availableSchemes()}),
 * through the public API only.
 *
 * <h2>What it exports</h2>
 * <ul>
 *   <li>{@code reclaim.coroutines}: the extension functions {@code withGuard}, {@code withValue},
 *       {@code whileOffline} (file class {@code Guards}, which also has {@code withGuard(Reclaimer, Function)}
 *       for Java callers), {@code reclaiming} (file class {@code ReclaimingDispatchers}) and the class
 *       {@code ReclaimContext}.</li>
 * </ul>
 * It {@code requires transitive} {@code reclaim.api}, {@code kotlinx.coroutines.core} and
 * {@code kotlin.stdlib}, whose types its signatures use.
 *
 * <h2>How a client uses it</h2>
 * <pre>{@code
 * // module-info.java:  requires reclaim.coroutines;   (reclaim.impl on the module path)
 * val reclaimer = Reclaimer.create("qsbr")
 * val dispatcher = Dispatchers.Default.reclaiming(reclaimer)
 * runBlocking(dispatcher) {
 *     repeat(10_000) {
 *         launch {
 *             val old = reclaimer.withGuard { g ->            // cannot suspend inside
 *                 val cur = g.protect(cell)
 *                 if (cell.compareAndSet(cur, Node(cur.value + 1))) g.retire(cur, Node::free)
 *                 cur.value
 *             }
 *             delay(1)                                         // a quiescent state; the worker may idle offline
 *         }
 *     }
 * }
 * }</pre>
 */
module reclaim.coroutines {
    requires transitive reclaim.api;
    requires transitive kotlin.stdlib;
    requires transitive kotlinx.coroutines.core;

    exports reclaim.coroutines;
}
