/**
 * The public API of reclaim: safe memory reclamation for the JVM.
 *
 * <h2>What it is for</h2>
 * On the JVM the garbage collector frees heap objects; it does not know when a reader has finished with
 * what an object <em>stands for</em>: off-heap memory from {@code malloc}, a mapped file, a node or buffer
 * recycled through a pool, a native handle. A lock-free structure or a service that swaps such a resource
 * has to know when no reader can still use what it unlinked. A {@link reclaim.api.Reclaimer} answers that
 * question at about the cost of a plain load per read: readers open a {@link reclaim.api.Guard}, read shared
 * references through it, and close it; writers {@linkplain reclaim.api.Reclaimer#retire retire} what they
 * unlinked together with a reclaim action, which runs exactly once, when no guard can still hold the object.
 * Plain heap nodes need none of this: the GC handles them.
 *
 * <h2>What it exports</h2>
 * <ul>
 *   <li>{@code reclaim.api}: {@link reclaim.api.Reclaimer}, {@link reclaim.api.Guard},
 *       {@link reclaim.api.Scheme} (one record per scheme with its tuning), {@link reclaim.api.Stats},
 *       {@link reclaim.api.Born}, {@link reclaim.api.Registration}, {@link reclaim.api.OwnedGuard} (a guard
 *       that may move between threads) and the safe cell
 *       {@link reclaim.api.Atom}.</li>
 *   <li>{@code reclaim.spi}: {@link reclaim.spi.ReclaimerProvider}, the service that implementations
 *       provide; this module {@code uses} it.</li>
 * </ul>
 *
 * <h2>How a client uses it</h2>
 * A client {@code requires reclaim.api} only; an implementation module (such as {@code reclaim.impl}) on the
 * module path, or its jar on the class path, is found with {@link java.util.ServiceLoader}:
 * <pre>{@code
 * try (Reclaimer r = Reclaimer.create("ebr")) {
 *     try (Guard g = r.enter()) {
 *         Node n = g.protect(head);          // the only safe way to read a shared reference
 *         ...
 *     }
 *     r.retire(unlinked, Node::free);        // runs once no reader can hold it
 * }
 * }</pre>
 */
module reclaim.api {
    exports reclaim.api;
    exports reclaim.spi;

    uses reclaim.spi.ReclaimerProvider;
}
