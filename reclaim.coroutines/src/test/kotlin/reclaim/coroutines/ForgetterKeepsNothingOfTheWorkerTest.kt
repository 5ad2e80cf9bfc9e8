package reclaim.coroutines

import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import reclaim.api.Reclaimer
import java.lang.ref.WeakReference
import java.net.URL
import java.net.URLClassLoader
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/**
 * The bridge watches each worker thread that ran a block with a thread of its own, which removes the worker's entry
 * from the bridge's map when the worker ends. That thread lives as long as the worker: it must not keep reachable
 * what the worker had when its first block ran and let go of since (an inheritable thread local's value, a context
 * class loader such as a redeployed application's).
 */
class ForgetterKeepsNothingOfTheWorkerTest {

    private val inherited = InheritableThreadLocal<Any?>()

    /** Set on the worker, dropped by it after its first block; returns only weak references to them. */
    private fun runFirstBlockWith(r: Reclaimer, pool: java.util.concurrent.ExecutorService): Pair<WeakReference<Any>, WeakReference<ClassLoader>> {
        val value = Any()
        val loader = URLClassLoader(arrayOf<URL>(), null)
        pool.submit {
            inherited.set(value)
            Thread.currentThread().contextClassLoader = loader
        }.get()
        runBlocking(pool.asCoroutineDispatcher().reclaiming(r)) { r.withGuard { } } // the worker's first block
        pool.submit {
            inherited.remove()
            Thread.currentThread().contextClassLoader = ClassLoader.getSystemClassLoader()
        }.get()
        return WeakReference(value) to WeakReference<ClassLoader>(loader)
    }

    /** Collects garbage until [ref] is cleared, for at most 2 s; ends as soon as it is. */
    private fun cleared(ref: WeakReference<*>): Boolean {
        val deadline = System.nanoTime() + 2_000_000_000L
        while (ref.get() != null) {
            if (System.nanoTime() - deadline > 0) return false
            System.gc()
            Thread.onSpinWait()
        }
        return true
    }

    @Test
    fun aWorkersInheritableThreadLocalAndContextClassLoaderAreNotKeptWhileItLives() {
        val pool = Executors.newSingleThreadExecutor { task -> Thread(task, "forgetter-probe").apply { isDaemon = true } }
        Reclaimer.create("ebr").use { r ->
            try {
                val (value, loader) = runFirstBlockWith(r, pool)
                // The worker is still alive (its pool is not shut down), and so is the thread that watches it.
                assertTrue(cleared(value), "the worker's inheritable thread local's value stayed reachable")
                assertTrue(cleared(loader), "the worker's former context class loader stayed reachable")
            } finally {
                pool.shutdown()
                pool.awaitTermination(10, TimeUnit.SECONDS)
            }
        }
    }
}
