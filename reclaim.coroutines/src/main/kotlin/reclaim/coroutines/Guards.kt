@file:JvmName("Guards")

package reclaim.coroutines

import reclaim.api.Atom
import reclaim.api.Guard
import reclaim.api.Reclaimer
import reclaim.api.Registration
import java.util.function.Function

/**
 * Runs [block] inside a critical section of this reclaimer and returns its result: the guard is opened
 * before the block and closed after it, also when it throws.
 *
 * ```
 * val name = reclaimer.withGuard { g -> g.protect(head)?.name }   // head: AtomicReference<Node>
 * ```
 *
 * **A protected reference cannot cross a suspension point.** The block is `crossinline`: it is inlined into
 * the caller, so it allocates nothing, but the compiler refuses a suspension call inside it, even in a suspend
 * function. Writing `reclaimer.withGuard { g -> delay(1) }` fails to compile with
 * *"Suspension functions can only be called within coroutine body"*. Compute inside the block, suspend after
 * it. (`reclaimer.enter().use { ... }` compiles with a suspension inside, and is exactly the misuse the
 * [reclaiming] dispatcher and [ReclaimContext] end and report.)
 *
 * The name follows `Lock.withLock` and `Mutex.withLock`: the block may read, and it may retire what it
 * unlinks ([Guard.retire]); "read" would say less than it does and would clash with [Atom.read].
 *
 * Java callers use `reclaimer.inGuard(g -> ...)` ([Reclaimer.inGuard], in `reclaim.api`: no Kotlin needed), or
 * try-with-resources.
 *
 * @param R the block's result type
 * @receiver the reclaimer
 * @param block the critical section; it must not let what it protected escape
 * @return what [block] returned
 * @throws IllegalStateException if the reclaimer is closed
 */
@JvmSynthetic
public inline fun <R> Reclaimer.withGuard(crossinline block: (Guard) -> R): R = enter().closing(block)

/** Applies [block] to this open guard and closes it, also when [block] throws (inlined: allocates nothing). */
@PublishedApi
internal inline fun <R> Guard.closing(crossinline block: (Guard) -> R): R {
    try {
        return block(this)
    } finally {
        close()
    }
}

/**
 * [Reclaimer.withGuard] on a registered thread, entered through its registration ([Registration.enter]): the
 * same guard without the per-thread lookup, the cheapest critical section there is. For a loop that enters
 * often on one thread (an executor's worker, a reader loop) that registered itself:
 *
 * ```
 * reclaimer.register().use { reg ->
 *     while (running) total += reg.withGuard { g -> g.protect(head)?.value ?: 0 }
 * }
 * ```
 *
 * @param R the block's result type
 * @receiver this thread's registration
 * @param block the critical section; it must not let what it protected escape (and cannot suspend)
 * @return what [block] returned
 * @throws IllegalStateException on another thread than the registered one, after the registration was closed,
 *     or when the reclaimer is closed
 */
@JvmSynthetic
public inline fun <R> Registration.withGuard(crossinline block: (Guard) -> R): R = enter().closing(block)

/**
 * The critical section for Java callers: opens a guard of [reclaimer], applies [block] to it and closes it,
 * also when [block] throws. Kotlin callers use the inline `reclaimer.withGuard { }`, which allocates nothing
 * and cannot suspend inside.
 *
 * Kept for the Java code that already calls it; new Java code calls [Reclaimer.inGuard] (`reclaim.api`), the
 * same thing without a dependency on this module and on kotlin-stdlib. This method delegates to it.
 *
 * ```java
 * String name = Guards.withGuard(reclaimer, g -> g.protect(head).name());
 * String same = reclaimer.inGuard(g -> g.protect(head).name());       // reclaim.api only
 * ```
 *
 * @param R the result type
 * @param reclaimer the reclaimer
 * @param block the critical section
 * @return what [block] returned
 * @throws IllegalStateException if the reclaimer is closed
 */
public fun <R> withGuard(reclaimer: Reclaimer, block: Function<in Guard, out R>): R = reclaimer.inGuard(block)

/**
 * Applies [block] to this cell's current value inside a guard and returns the result; the value is
 * protected for the duration of the block and must not escape it.
 *
 * Unlike [Atom.read] it is inlined (no lambda object, even when the block captures) and, like [withGuard],
 * it cannot suspend inside the block (the compiler says *"Suspension functions can only be called within
 * coroutine body"*).
 *
 * ```
 * val hits = index.withValue { ix -> ix.lookup(key) }   // index: Atom<MappedIndex>
 * ```
 *
 * @param T the cell's value type
 * @param R the result type
 * @receiver the cell
 * @param block receives the current value (null for an empty cell)
 * @return what [block] returned
 * @throws IllegalStateException if the cell or its reclaimer is closed
 */
@JvmSynthetic
public inline fun <T, R> Atom<T>.withValue(crossinline block: (T) -> R): R =
    reclaimer().withGuard { guard -> block(load(guard)) }

/**
 * Runs [block] with this registered thread offline, and brings it back online after it, also when it throws
 * (liburcu's `rcu_thread_offline`/`rcu_thread_online` around a blocking call): under QSBR an offline thread
 * holds nobody back while it blocks. Call it outside every guard. The block cannot suspend (it is
 * `crossinline`): a coroutine that resumed on another thread could not bring this one back online.
 *
 * ```
 * registration.whileOffline { queue.take() }
 * ```
 *
 * If the reclaimer's `close()` began during the block, the thread cannot come back online (the registration
 * refuses) and need not (nothing it could hold back is reclaimed any more): it stays offline, and the block's
 * result is returned, or its exception thrown, as usual.
 *
 * @param R the result type
 * @receiver a registration of the current thread
 * @param block the blocking work
 * @return what [block] returned
 * @throws IllegalStateException if called inside a guard or on another thread than the registered one, or if
 *     the block left a guard open or closed the registration (the thread cannot come back online then)
 */
@JvmSynthetic
public inline fun <R> Registration.whileOffline(crossinline block: () -> R): R {
    offline()
    val result = try {
        block()
    } catch (e: Throwable) {
        try {
            online()
        } catch (refused: IllegalStateException) {
            e.addSuppressed(refused) // the block's exception is the one the caller needs
        }
        throw e
    }
    try {
        online()
    } catch (refused: IllegalStateException) {
        // The reclaimer's close() began (the thread stays offline: nothing it could hold back is reclaimed any more),
        // or the block misused the registration: a guard left open, the registration closed. offline() tells them
        // apart (it refuses only such a misuse) and leaves the thread offline in the first case.
        try {
            offline()
        } catch (misuse: IllegalStateException) {
            refused.addSuppressed(misuse)
            throw refused
        }
    }
    return result
}
