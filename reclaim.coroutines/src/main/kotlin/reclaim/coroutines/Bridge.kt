package reclaim.coroutines

import kotlinx.coroutines.CoroutineExceptionHandler
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.Job
import reclaim.api.Reclaimer
import reclaim.api.Registration
import java.util.concurrent.ConcurrentHashMap
import kotlin.coroutines.CoroutineContext

/*
 * Overview.
 *
 * The bridge is what the reclaiming dispatcher and ReclaimContext do around every dispatched block of a
 * coroutine: kotlinx.coroutines calls updateThreadContext when a coroutine starts or resumes on a thread and
 * restoreThreadContext when it leaves the thread again (it suspended or completed). Those two calls bracket
 * a "block". The end of a block is a quiescent state by construction: a guard opened with withGuard cannot
 * span a suspension (its block is crossinline and cannot suspend), and a guard opened with Reclaimer.enter()
 * that is still open there is misuse, ended and reported.
 *
 * Per (thread, reclaimer) the bridge keeps a Participation in a module-wide thread local, shared by every
 * dispatcher and element of this module, so that Dispatchers.Default and Dispatchers.IO (which share their
 * worker threads) wrapped for the same reclaimer register each thread once:
 *
 *  - the first block that runs on a platform thread registers it (Reclaimer.register(), once per thread and
 *    reclaimer, never per coroutine) and takes it offline at once; if that block began inside a guard, where
 *    register() refuses, a later outermost block does (a few tries in all: a thread the application registered
 *    itself refuses every time, and a refusal costs an exception);
 *  - a block leaves the thread offline; the block's first guard brings it online (QSBR's guards of an offline
 *    registered thread do that by themselves; other schemes have no online state), so a block that touches
 *    no guard costs no shared store at all;
 *  - at the end of every block on the thread, nested ones too: Registration.quiescent() (QSBR: announce, and
 *    every passIntervalNanos advance the grace period and reclaim: light-qsbr's maybe_pass_epoch), then
 *    Registration.offline(). A worker that then parks (the pool has no more work) is offline already: it
 *    holds nobody back, whoever owns the pool and however long it idles. This is the "offline after every
 *    block, online lazily at the next guard" policy; staying online between blocks would be a store and a
 *    fence cheaper per block, but a worker that parks online stalls QSBR for everyone, and a wrapped
 *    dispatcher cannot see its workers park (the benchmark measures both).
 *
 * Some pools clear their workers' thread locals while the workers live (a ForkJoinPool worker made with
 * preserveThreadLocals = false, the common pool's among them, whenever it runs out of work). So the thread local
 * is only the fast way to a platform thread's Participations: they are kept in a map of live threads (KEPT),
 * where a reset does not lose them, and a reset worker finds its registrations again instead of registering anew
 * (the reclaimer would keep the old registration's record, held by a live thread, for as long as the worker
 * lives: one more per reset). The reclaimer keeps its side across the reset too: the registered thread's guard
 * is still the one its registration probes.
 *
 * Misuse detection needs "is a guard open on this thread?", which the public API does not answer directly.
 * Registration.quiescent() and offline() are documented to throw IllegalStateException when called inside a
 * guard: on a registered thread the calls we make anyway are the probe, and they cost nothing extra. The probe
 * runs at the start of every block too (quiescent() of an offline thread is a few plain loads), so that
 * a guard that was legitimately open before the block (a platform thread that opened one and then started a
 * coroutine undispatched) is not taken for a leak. A guard found open at the end of a block that did not find
 * one at its start was opened by the block and left open across the suspension (or the completion). Only this
 * thread can end it: the coroutine may resume on another thread, where the guard's close() throws (it is not
 * that thread's guard), and meanwhile the guard holds reclamation back, and close() of the reclaimer refuses,
 * for as long as this worker lives. So the bridge ends it here (endGuards), takes the thread offline as after
 * any block, and only then fails the coroutine with one IllegalStateException that names the misuse (fail):
 * the failure reaches the caller as an exception thrown by the coroutine's body would, and the coroutine's next
 * suspension point throws instead of letting it go on with references its guard no longer protects. One race
 * remains: a coroutine may resume on another thread before this one has left the block (see Reentrancy below);
 * if it closes the guard there first, that close() throws the guard's own wrong-thread exception and the
 * coroutine fails with it. The guard is ended here all the same, and the report joins that failure (or goes to
 * the handler, if the coroutine completed meanwhile).
 *
 * Virtual threads are not registered (a virtual thread usually runs one task: a registration per task would
 * churn records); on them, and on threads the application registered itself (register() then throws), the
 * bridge does nothing: such threads are online only inside their guards (an unregistered thread) or follow
 * the application's own protocol.
 *
 * Reentrancy. The state returned by resumed() is the thread's own Participations object, which only its
 * thread touches, or, when the block's start found a guard open, an OpenAtStart that carries it with that probe;
 * nothing per block is kept in the (shared) dispatcher or element, because a coroutine can resume on thread 2
 * while thread 1 is still in suspended() for it. kotlinx hands the state back at the block's end, so each end
 * checks its own block's start probe, however blocks interleave. Blocks nest on one thread (a coroutine started
 * undispatched inside another), and do not always end in the reverse order of their starts (next paragraph); each
 * block's start and end probe for a guard of its own left open, and each block's end takes the thread offline:
 * going offline needs no guard to be open, which the probe has just checked, and a block that looks nested may be
 * the thread's last one.
 *
 * A block may end on another thread than its own. kotlinx's undispatched withContext (flowOn with no dispatcher
 * of its own, for one) can restore the context on the thread that resumed the coroutine, with the state that
 * the first thread's resumed() returned, after the first thread has ended other blocks and begun new ones.
 * Nothing of the first thread's may be used from there (its registration refuses another thread; its fields are
 * plain), so the end is handed back: queued for the owner, which counts it at its next block edge. The owner's
 * block count (depth) is then one too high for a while, which is why it decides nothing but when the entry of a
 * closed reclaimer may be dropped. Such a block's end is not probed: a guard its coroutine left open on the first
 * thread is found only if a later block there began without it (it then ends inside it, and is blamed for it).
 */

/** Every reclaimer one dispatcher or element bridges, and what it does at the edges of a block. */
internal class Bridge(
    reclaimers: Array<out Reclaimer>,
    /**
     * Whether a registered thread goes offline at the end of every block (the policy). False only
     * for the benchmark that measures the alternative (stay online between blocks, which stalls QSBR when a
     * worker parks online); never exposed.
     */
    private val offlineAfterBlock: Boolean = true,
) {
    /** The reclaimers, each once (by identity: a block would otherwise count itself twice for one). */
    private val reclaimers: Array<Reclaimer> = distinct(reclaimers)

    init {
        require(this.reclaimers.isNotEmpty()) { "at least one reclaimer is needed" }
    }

    /**
     * A bridge of these reclaimers and [more], for the public [reclaiming] on a wrapper: always offline after every
     * block (the policy), whatever this one's.
     */
    fun adding(more: Array<out Reclaimer>): Bridge = Bridge(arrayOf(*reclaimers, *more))

    /** The reclaimers, for toString. */
    fun names(): String = reclaimers.joinToString { it.scheme().name() }

    /**
     * A coroutine starts or resumes on this thread; returns the state that [suspended] needs: the thread's
     * [Participations] when no guard of these reclaimers was open (the common case: nothing allocated), else an
     * [OpenAtStart] that also says which were. The state travels with the block (kotlinx hands it back at the block's
     * end), so each block's end checks its own start, in whatever order, and on whatever thread, blocks end.
     */
    fun resumed(): Any {
        val p = THREAD_PARTICIPATIONS.get()
        p.countHandedBack()
        val rs = reclaimers
        var open: BooleanArray? = null
        for (i in rs.indices) {
            if (p.resumed(rs[i])) {
                if (open == null) open = BooleanArray(rs.size)
                open[i] = true
            }
        }
        return if (open == null) p else OpenAtStart(p, open)
    }

    /**
     * The coroutine of [context] leaves the thread (it suspended or completed); [state] is what [resumed] returned.
     * Guards left open in several reclaimers fail the coroutine once: the first report, the others suppressed in it.
     */
    fun suspended(context: CoroutineContext, state: Any) {
        val p: Participations
        val open: BooleanArray?
        if (state is Participations) {
            p = state
            open = null
        } else {
            val s = state as OpenAtStart
            p = s.participations
            open = s.open
        }
        val rs = reclaimers
        // A block that began on the owner and ends on another thread: kotlinx's undispatched withContext (flowOn with
        // no dispatcher of its own, for one) restores the context on the thread that resumes it, with the state of
        // the thread that started it. The registrations, and any guard, are the owner's: from here quiescent() would
        // refuse for the wrong thread, which is no guard left open, and nothing of the owner's may be closed here.
        if (!p.ownedByCurrentThread()) {
            for (r in rs) p.handBack(r)
            return
        }
        p.countHandedBack()
        var first: IllegalStateException? = null
        for (i in rs.indices.reversed()) {
            val leak = p.suspended(rs[i], context, offlineAfterBlock, open != null && open[i]) ?: continue
            if (first == null) first = leak else first.addSuppressed(leak)
        }
        if (first != null) p.fail(context, first)
    }

    /**
     * The state of a block whose start found a guard open (see [resumed]): the thread's participations, and per
     * reclaimer of the bridge (in its order) whether a guard of it was open.
     */
    internal class OpenAtStart(@JvmField val participations: Participations, @JvmField val open: BooleanArray)

    internal companion object {
        /** [rs] without repeats, by identity, in their first order. */
        private fun distinct(rs: Array<out Reclaimer>): Array<Reclaimer> {
            val out = ArrayList<Reclaimer>(rs.size)
            for (r in rs) if (out.none { it === r }) out.add(r)
            return out.toTypedArray()
        }

        /** One per thread, shared by every bridge of this module; the fast way to [Participations.current]. */
        @JvmField
        val THREAD_PARTICIPATIONS: ThreadLocal<Participations> = ThreadLocal.withInitial { Participations.current() }
    }
}

/**
 * The current thread's participation in each reclaimer it ran coroutine blocks for: its registration, and the
 * count of its blocks begun and not ended. Touched only by its thread (plain fields); another thread only hands back the
 * end of a block ([suspended]).
 */
internal class Participations {
    internal companion object {
        /** How many levels [endGuards] closes at most. */
        private const val MAX_LEVELS = 1 shl 16

        /** How many refused registrations a thread's entry tries before it stays unregistered; see [refusals]. */
        private const val REGISTER_TRIES = 3

        /**
         * The Participations of every live platform thread that ran a block, where a reset of its thread locals
         * does not lose them (see the overview). Each thread puts only its own entry, once, and reads it back after
         * a reset; the map's put happens-before that get (ConcurrentHashMap), though here both are on one thread.
         * Other threads only remove entries of threads that ended: a virtual thread that waits for the thread to
         * end ([forgetWhenItEnds]), and the sweep of [current].
         */
        private val KEPT = ConcurrentHashMap<Thread, Participations>()

        /**
         * The calling thread's Participations: the one it had before its thread locals were reset, else a new one.
         * Called once per thread and per reset (the thread local's initial value).
         */
        fun current(): Participations {
            val t = Thread.currentThread()
            if (t.isVirtual) return Participations() // never registered (see the overview); nothing to keep
            KEPT[t]?.let { return it } // a reset: the registrations made before it are still this thread's
            KEPT.keys.removeIf { !it.isAlive } // threads that ended (each reclaimer sweeps the record one left)
            val p = Participations()
            KEPT[t] = p
            forgetWhenItEnds(t)
            return p
        }

        /**
         * Removes [t]'s entry from [KEPT] once [t] has ended, so that its registrations, and the reclaimers they
         * belong to, do not stay reachable through this map after the thread: a reclaimer dropped without close()
         * is closed by its cleaner only once unreachable, and a pool whose workers all ended may run no new thread's
         * first block to sweep the map. A virtual thread per platform thread that ever ran a block waits for it
         * ([Thread.join]) and removes the entry (a weak map would not do: the entry's registrations refer to the
         * thread). If no virtual thread can be started, the entry waits for the sweep above.
         */
        private fun forgetWhenItEnds(t: Thread) {
            try {
                // Nothing of the worker's is inherited (its inheritable thread locals, its context class loader): the
                // forgetter, which lives as long as the worker, keeps nothing reachable that the worker let go of.
                val forgetter = Thread.ofVirtual().name("reclaim-coroutines-forget-" + t.name)
                    .inheritInheritableThreadLocals(false).unstarted {
                        try {
                            t.join()
                        } catch (e: InterruptedException) {
                            return@unstarted
                        }
                        KEPT.remove(t)
                    }
                forgetter.contextClassLoader = null
                forgetter.start()
            } catch (e: RuntimeException) {
                // no virtual thread could start: the sweep in current() remains
            }
        }
    }

    /** The thread these participations are of: the one whose thread local made them. */
    private val owner: Thread = Thread.currentThread()

    /**
     * Ends of blocks that began on the owner and ended on another thread (see [suspended]), one entry per block, for
     * the owner to count at its next block edge ([countHandedBack]): only the owner touches the plain fields below.
     * A lock-free queue: another thread offers (a volatile write that publishes the entry), the owner polls it.
     */
    private val handedBack = java.util.concurrent.ConcurrentLinkedQueue<Reclaimer>()

    private var reclaimers = arrayOfNulls<Reclaimer>(2)
    private var registrations = arrayOfNulls<Registration>(2)
    /**
     * Per reclaimer, the blocks begun here and not ended yet (ends that another thread handed back are counted at the
     * next block edge): an entry of a closed reclaimer is dropped only at 0, when no block can refer to it.
     */
    private var depth = IntArray(2)
    /**
     * Per reclaimer, the registrations tried and refused so far, while its registration is null: a thread whose first
     * block began inside a guard (a coroutine started undispatched within `withGuard`) is refused then, and is
     * registered at a later outermost block; one the application registered itself is refused every time, and is
     * tried [REGISTER_TRIES] times in all (a refusal costs an exception).
     */
    private var refusals = IntArray(2)
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
            reclaimers[n] = old; registrations[n] = registrations[i]; depth[n] = depth[i]; refusals[n] = refusals[i]
            n++
        }
        for (i in n until size) { reclaimers[i] = null; registrations[i] = null }
        size = n
        if (n == reclaimers.size) {
            reclaimers = reclaimers.copyOf(n * 2)
            registrations = registrations.copyOf(n * 2)
            depth = depth.copyOf(n * 2)
            refusals = refusals.copyOf(n * 2)
        }
        reclaimers[n] = r
        depth[n] = 0
        refusals[n] = if (Thread.currentThread().isVirtual) REGISTER_TRIES else 0 // virtual threads: never
        registrations[n] = null
        size = n + 1
        return n
    }

    /** Tries to register this thread for the entry [i], at the start of an outermost block; see [refusals]. */
    private fun tryRegister(i: Int, r: Reclaimer): Registration? {
        if (refusals[i] >= REGISTER_TRIES || depth[i] != 1) return null
        val reg = register(r)
        if (reg == null) refusals[i]++ else registrations[i] = reg
        return reg
    }

    /** The start of a block of [r] on this thread; returns whether a guard of [r] was open then (the probe). */
    fun resumed(r: Reclaimer): Boolean {
        val i = indexOf(r)
        depth[i]++
        val reg = registrations[i] ?: tryRegister(i, r) ?: return false
        // The probe (see the overview): quiescent() of an offline registered thread is a few plain loads, and
        // throws when a guard is open. A thread that foreign code left online announces a quiescent state here.
        return guardOpen(r, reg)
    }

    /**
     * The nesting depth of [r]'s blocks on this thread, 0 outside every block, once the ends handed back so far are
     * counted; for tests, on the owner only.
     */
    internal fun depthOf(r: Reclaimer): Int {
        check(ownedByCurrentThread()) { "depthOf is for the owner thread" }
        countHandedBack()
        for (i in 0 until size) if (reclaimers[i] === r) return depth[i]
        return 0
    }

    /**
     * The end of a block of [r] on this thread, its owner ([Bridge.suspended] hands back an end that comes on another
     * thread). Returns the report of a guard the block left open (ended here), for the caller to fail the coroutine
     * with, or null.
     *
     * Every block is checked, nested ones too: a coroutine started undispatched inside another's block runs a
     * nested block, and a guard it leaves open at its first suspension is its own, not the outer coroutine's. The
     * check is the probe of the overview: quiescent() refuses inside a guard, and a block whose start found no guard
     * open ([openAtStart], what [resumed] returned for this block, carried in the block's state) that ends inside one
     * opened it.
     */
    fun suspended(r: Reclaimer, context: CoroutineContext, offline: Boolean, openAtStart: Boolean): IllegalStateException? {
        val i = indexOf(r)
        if (depth[i] > 0) depth[i]--
        val reg = registrations[i] ?: return null
        if (r.isClosed) return null
        try {
            reg.quiescent() // QSBR: announce; at most every passIntervalNanos, advance and reclaim
            // At the end of every block, nested or not: a worker that parks after this block holds nobody back. The
            // depth cannot tell the last block: one that began here and ends on another thread (above) is counted
            // only when the owner next gets here, and the owner may park before that.
            if (offline) reg.offline()
            return null
        } catch (e: IllegalStateException) {
            // closed meanwhile; or a guard older than the block
            if (r.isClosed || openAtStart) return null
            return leftOpen(r, reg, context, e, offline)
        }
    }

    /** Whether the calling thread is the one these participations are of. */
    fun ownedByCurrentThread(): Boolean = owner === Thread.currentThread()

    /**
     * Hands the end of a block of [r] back from another thread (see [Bridge.suspended]): the owner counts it at its next
     * block edge ([countHandedBack]), since the depth and the entries are plain fields of the owner's, which another
     * thread must not write while the owner runs blocks.
     */
    fun handBack(r: Reclaimer) {
        handedBack.offer(r)
    }

    /** Counts the ends of blocks that other threads handed back, if any; on the owner only, at each block edge. */
    fun countHandedBack() {
        if (handedBack.isEmpty()) return
        while (true) {
            val r = handedBack.poll() ?: return
            val i = indexOf(r)
            if (depth[i] > 0) depth[i]--
        }
    }

    /**
     * The block left a guard of [r] open ([cause]: the refusal of the registration's quiescent()): ends it on this
     * thread, the only one that can, takes the thread offline as after any block, and returns the report
     * that fails the coroutine.
     */
    private fun leftOpen(r: Reclaimer, reg: Registration, context: CoroutineContext, cause: IllegalStateException, offline: Boolean): IllegalStateException {
        val ended = endGuards(r, reg)
        if (ended && offline) {
            try {
                reg.offline()
            } catch (e: IllegalStateException) {
                // the reclaimer closed meanwhile: nothing to hold back any more
            }
        }
        return leak(r, context, cause, ended)
    }

    /**
     * Ends every guard of [r] open on this thread, and returns whether the thread is now outside all of them
     * (the registration's quiescent() accepts).
     *
     * The public API needs no call for this. A guard belongs to its thread and nests: an enter() inside an open
     * guard returns the thread's guard one level deeper, and Guard's documentation says that a guard reused by its
     * thread after an inner close() is indistinguishable from the outer one still open. So the guard that enter()
     * returns here, closed once for its own level and then once per level the block left open, ends those levels,
     * until quiescent() (which refuses inside a guard) accepts. The last close() releases the thread's record as a
     * close() by the block would have: what the guard protected becomes reclaimable. A provider whose nested guards
     * are distinct objects refuses the extra close() (closing a guard twice is misuse); its guard then stays open,
     * and the report says so. The bound only keeps a provider that neither accepts nor refuses from looping.
     */
    private fun endGuards(r: Reclaimer, reg: Registration): Boolean {
        val g = try {
            r.enter()
        } catch (e: IllegalStateException) {
            return false // closing: it refuses guards, and completes once the leaked one is gone
        }
        try {
            g.close() // the level just opened
            repeat(MAX_LEVELS) {
                if (quiescentNow(reg)) return true
                g.close() // the innermost level the block left open
            }
        } catch (e: IllegalStateException) {
            // the provider refused a close(): see above
        }
        return quiescentNow(reg)
    }

    /** Whether the registration's quiescent() accepts, that is the thread is outside every guard of its reclaimer. */
    private fun quiescentNow(reg: Registration): Boolean = try {
        reg.quiescent()
        true
    } catch (e: IllegalStateException) {
        false
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

    /** The exception that reports the guard left open; [ended]: whether [endGuards] ended it. */
    private fun leak(r: Reclaimer, context: CoroutineContext, cause: IllegalStateException, ended: Boolean): IllegalStateException {
        val name = context[CoroutineName]?.name ?: context[Job]?.toString() ?: "a coroutine"
        val what = if (ended) {
            "It was closed on '" + Thread.currentThread().name + "', where it was opened: what it protected is no longer protected, " +
                "and the coroutine fails with this exception."
        } else {
            "It could not be closed there (the provider's nested guards are distinct objects): it holds reclamation " +
                "back until that thread ends. The coroutine fails with this exception."
        }
        return IllegalStateException(
            "a Guard of the '" + r.scheme().name() + "' reclaimer opened with Reclaimer.enter() was still open on " +
                "thread '" + Thread.currentThread().name + "' when " + name + " suspended or completed. A guard belongs to its thread, " +
                "and the coroutine may resume on another one, where it can neither use nor close it. " + what +
                " Close every guard before a suspension point: reclaimer.withGuard { } cannot suspend (its block is " +
                "crossinline).",
            cause,
        )
    }

    /**
     * Fails the coroutine of [context] with [leak] as if its body had thrown it: a child job that fails with an
     * exception other than a cancellation cancels its parent with that exception (structured concurrency), and
     * the parent then completes with it. So the caller sees it once, the way it sees any failure: runBlocking
     * and await() throw it, a parent scope fails with it, a root launch hands it to its CoroutineExceptionHandler.
     * (Job.cancel() would only cancel: a CancellationException, which no handler sees.) A coroutine that has
     * completed already (the guard was left open at its end), or whose job ignores failing children (a
     * supervisor), cannot fail any more: the report goes to its handler, else to the thread's
     * uncaught-exception handler.
     */
    fun fail(context: CoroutineContext, leak: IllegalStateException) {
        val job = context[Job]
        try {
            if (job != null && Job(job).completeExceptionally(leak) && job.isCancelled) return
        } catch (e: RuntimeException) {
            leak.addSuppressed(e) // a Job implementation that takes no child: report instead
        }
        report(context, leak)
    }

    /** Hands [leak] to the coroutine's CoroutineExceptionHandler, else to this thread's uncaught-exception handler. */
    private fun report(context: CoroutineContext, leak: IllegalStateException) {
        try {
            val handler = context[CoroutineExceptionHandler]
            if (handler != null) {
                handler.handleException(context, leak)
            } else {
                val thread = Thread.currentThread()
                thread.uncaughtExceptionHandler?.uncaughtException(thread, leak)
            }
        } catch (t: Throwable) {
            // A failing handler must not break the dispatcher's worker (kotlinx would call it a fatal error).
            leak.addSuppressed(t)
            System.getLogger("reclaim").log(System.Logger.Level.ERROR, leak.message, leak)
        }
    }
}
