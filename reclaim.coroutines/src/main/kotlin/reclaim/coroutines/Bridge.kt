package reclaim.coroutines

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineExceptionHandler
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.Job
import reclaim.api.Reclaimer
import reclaim.api.Registration
import kotlin.coroutines.CoroutineContext

/*
 * Overview.
 *
 * The bridge is what the reclaiming dispatcher and ReclaimContext do around every dispatched block of a
 * coroutine: kotlinx.coroutines calls updateThreadContext when a coroutine starts or resumes on a thread and
 * restoreThreadContext when it leaves the thread again (it suspended or completed). Those two calls bracket
 * a "block". The end of a block is a quiescent state by construction: a guard opened with withGuard cannot
 * span a suspension (its block is crossinline and cannot suspend), and a guard opened with Reclaimer.enter()
 * that is still open there is misuse, reported.
 *
 * Per (thread, reclaimer) the bridge keeps a Participation in a module-wide thread local, shared by every
 * dispatcher and element of this module, so that Dispatchers.Default and Dispatchers.IO (which share their
 * worker threads) wrapped for the same reclaimer register each thread once:
 *
 *  - the first block that runs on a platform thread registers it (Reclaimer.register(), once per thread and
 *    reclaimer, never per coroutine) and takes it offline at once;
 *  - a block leaves the thread offline; the block's first guard brings it online (QSBR's guards of an offline
 *    registered thread do that by themselves; other schemes have no online state), so a block that touches
 *    no guard costs no shared store at all;
 *  - at the end of the outermost block on the thread: Registration.quiescent() (QSBR: announce, and every
 *    passIntervalNanos advance the grace period and reclaim: light-qsbr's maybe_pass_epoch), then
 *    Registration.offline(). A worker that then parks (the pool has no more work) is offline already: it
 *    holds nobody back, whoever owns the pool and however long it idles. This is the "offline after every
 *    block, online lazily at the next guard" policy; staying online between blocks would be a store and a
 *    fence cheaper per block, but a worker that parks online stalls QSBR for everyone, and a wrapped
 *    dispatcher cannot see its workers park (the benchmark measures both).
 *
 * Misuse detection needs "is a guard open on this thread?", which the public API does not answer directly.
 * Registration.quiescent() and offline() are documented to throw IllegalStateException when called inside a
 * guard: on a registered thread the calls we make anyway are the probe, and they cost nothing extra. The probe
 * runs at the start of the outermost block too (quiescent() of an offline thread is a few plain loads), so that
 * a guard that was legitimately open before the block (a platform thread that opened one and then started a
 * coroutine undispatched) is not taken for a leak. A guard found open at the end of a block that did not find
 * one at its start was opened by the block and left open across the suspension: it is reported once (the
 * coroutine's CoroutineExceptionHandler, else the thread's uncaught-exception handler) and the coroutine is
 * cancelled with the report as the cause, before it can resume on another thread with a guard it cannot close.
 *
 * Virtual threads are not registered (a virtual thread usually runs one task: a registration per task would
 * churn records); on them, and on threads the application registered itself (register() then throws), the
 * bridge does nothing: such threads are online only inside their guards (an unregistered thread) or follow
 * the application's own protocol.
 *
 * Reentrancy. The state returned by resumed() is the thread's own Participations object, which only its
 * thread touches; nothing per block is kept in the (shared) dispatcher or element, because a coroutine can
 * resume on thread 2 while thread 1 is still in suspended() for it. Blocks nest on one thread (a coroutine
 * started undispatched inside another): only the outermost block of each reclaimer does any work.
 */

/** Every reclaimer one dispatcher or element bridges, and what it does at the edges of a block. */
internal class Bridge(
    reclaimers: Array<out Reclaimer>,
    /**
     * Whether a registered thread goes offline at the end of every outermost block (the policy). False only
     * for the benchmark that measures the alternative (stay online between blocks, which stalls QSBR when a
     * worker parks online); never exposed.
     */
    private val offlineAfterBlock: Boolean = true,
) {
    private val reclaimers: Array<Reclaimer> = Array(reclaimers.size) { reclaimers[it] }

    init {
        require(this.reclaimers.isNotEmpty()) { "at least one reclaimer is needed" }
    }

    /** The reclaimers, for toString. */
    fun names(): String = reclaimers.joinToString { it.scheme().name() }

    /** A coroutine starts or resumes on this thread; returns the state that [suspended] needs. */
    fun resumed(): Participations {
        val p = THREAD_PARTICIPATIONS.get()
        val rs = reclaimers
        for (i in rs.indices) p.resumed(rs[i])
        return p
    }

    /** The coroutine of [context] leaves the thread (it suspended or completed); [p] is what [resumed] returned. */
    fun suspended(context: CoroutineContext, p: Participations) {
        val rs = reclaimers
        for (i in rs.indices.reversed()) p.suspended(rs[i], context, offlineAfterBlock)
    }

    internal companion object {
        /** One per thread, shared by every bridge of this module. */
        @JvmField
        val THREAD_PARTICIPATIONS: ThreadLocal<Participations> = ThreadLocal.withInitial { Participations(Thread.currentThread()) }
    }
}

/**
 * The current thread's participation in each reclaimer it ran coroutine blocks for: its registration, the
 * nesting depth of blocks, and whether a guard was open when the outermost block started. Touched only by
 * its thread (plain fields).
 */
internal class Participations(private val thread: Thread) {
    private var reclaimers = arrayOfNulls<Reclaimer>(2)
    private var registrations = arrayOfNulls<Registration>(2)
    private var depth = IntArray(2)
    private var openAtStart = BooleanArray(2)
    private var size = 0

    private fun indexOf(r: Reclaimer): Int {
        val rs = reclaimers
        for (i in 0 until size) if (rs[i] === r) return i
        return add(r)
    }

    /** Adds an entry for [r], dropping entries of closed reclaimers (so a thread keeps no closed one alive). */
    private fun add(r: Reclaimer): Int {
        var n = 0
        for (i in 0 until size) {
            val old = reclaimers[i]!!
            if (old.isClosed && depth[i] == 0) continue
            reclaimers[n] = old; registrations[n] = registrations[i]; depth[n] = depth[i]; openAtStart[n] = openAtStart[i]
            n++
        }
        for (i in n until size) { reclaimers[i] = null; registrations[i] = null }
        size = n
        if (n == reclaimers.size) {
            reclaimers = reclaimers.copyOf(n * 2)
            registrations = registrations.copyOf(n * 2)
            depth = depth.copyOf(n * 2)
            openAtStart = openAtStart.copyOf(n * 2)
        }
        reclaimers[n] = r
        registrations[n] = if (thread.isVirtual) null else register(r)
        depth[n] = 0
        openAtStart[n] = false
        size = n + 1
        return n
    }

    fun resumed(r: Reclaimer) {
        val i = indexOf(r)
        if (depth[i]++ != 0) return // a nested block: the outermost one does the work
        val reg = registrations[i] ?: return
        // The probe (see the overview): quiescent() of an offline registered thread is a few plain loads, and
        // throws when a guard is open. A thread that foreign code left online announces a quiescent state here.
        openAtStart[i] = guardOpen(r, reg)
    }

    fun suspended(r: Reclaimer, context: CoroutineContext, offline: Boolean) {
        val i = indexOf(r)
        if (--depth[i] != 0) return
        val reg = registrations[i] ?: return
        if (r.isClosed) return
        try {
            reg.quiescent() // QSBR: announce; at most every passIntervalNanos, advance and reclaim
            if (offline) reg.offline() // a worker that parks after this block holds nobody back
        } catch (e: IllegalStateException) {
            if (r.isClosed || openAtStart[i]) return // closed meanwhile; or a guard older than the block
            reportLeak(r, context, e)
        }
    }

    private fun guardOpen(r: Reclaimer, reg: Registration): Boolean {
        return try {
            reg.quiescent()
            false
        } catch (e: IllegalStateException) {
            !r.isClosed
        }
    }

    /** Registers this thread once for [r], offline; null if it cannot (already registered, closed, in a guard). */
    private fun register(r: Reclaimer): Registration? {
        val reg = try {
            r.register()
        } catch (e: IllegalStateException) {
            return null
        }
        try {
            reg.offline() // online lazily, at the first guard of a block
        } catch (e: IllegalStateException) {
            // the reclaimer closed meanwhile: the registration is void
        }
        return reg
    }

    private fun reportLeak(r: Reclaimer, context: CoroutineContext, cause: IllegalStateException) {
        val name = context[CoroutineName]?.name ?: context[Job]?.toString() ?: "a coroutine"
        val leak = IllegalStateException(
            "a Guard of the '" + r.scheme().name() + "' reclaimer opened with Reclaimer.enter() is still open on thread '" +
                thread.name + "' at a suspension (or the end) of " + name + ". A guard belongs to its thread, and the " +
                "coroutine may resume on another one, where it can neither use nor close it; meanwhile it holds " +
                "reclamation back. Close every guard before a suspension point: reclaimer.withGuard { } cannot suspend " +
                "(its block is crossinline). The coroutine is cancelled.",
            cause,
        )
        try {
            context[Job]?.cancel(CancellationException(leak.message, leak))
            val handler = context[CoroutineExceptionHandler]
            if (handler != null) {
                handler.handleException(context, leak)
            } else {
                thread.uncaughtExceptionHandler?.uncaughtException(thread, leak)
            }
        } catch (t: Throwable) {
            // A failing handler must not break the dispatcher's worker (kotlinx would call it a fatal error).
            leak.addSuppressed(t)
            System.getLogger("reclaim").log(System.Logger.Level.ERROR, leak.message, leak)
        }
    }
}
