/**
 * Lock-free collections whose nodes are recycled through a {@link reclaim.api.Reclaimer}.
 *
 * <h2>What it is for</h2>
 * On the JVM a lock-free structure built from plain heap nodes needs no reclamation: the garbage collector
 * frees an unlinked node once nobody refers to it, and the same collector rules out the ABA problem.
 * Reclamation matters on the heap as soon as nodes are <em>reused</em>: a node that goes back to a pool and
 * is handed out again may still be read by a thread that loaded it before it was unlinked. The structures
 * here retire every removed node to a reclaimer whose action clears it and returns it to a bounded node
 * pool that later insertions draw from, so in the steady state they allocate nothing, and the reclaimer
 * guarantees that no reader still holds a node when it is reused. They are written against
 * {@code reclaim.api} alone, which proves that the API is enough for a real structure, and they serve the
 * tests, the benchmarks and the showcase.
 *
 * <h2>What it exports</h2>
 * <ul>
 *   <li>{@code reclaim.collections}: {@link reclaim.collections.RecyclingStack} (Treiber's stack),
 *       {@link reclaim.collections.RecyclingQueue} (the Michael&ndash;Scott queue, a
 *       {@link java.util.Queue}), {@link reclaim.collections.RecyclingListSet} (the Harris&ndash;Michael
 *       list-based set, a {@link java.util.Set}) and {@link reclaim.collections.RecyclingHashMap}
 *       (Michael's lock-free hash table, a {@link java.util.concurrent.ConcurrentMap}). Each of them
 *       also offers its GC-allocating twin ({@code gcTwin()}): the same code with nodes left to the
 *       garbage collector, the baseline the benchmarks compare with.</li>
 * </ul>
 * This module {@code requires transitive reclaim.api}: its constructors take a
 * {@link reclaim.api.Reclaimer}.
 *
 * <h2>How a client uses it</h2>
 * A client {@code requires reclaim.collections} (which reads {@code reclaim.api} for it) and puts an
 * implementation, such as {@code reclaim.impl}, on the module path, where {@link java.util.ServiceLoader}
 * finds it:
 * <pre>{@code
 * try (Reclaimer r = Reclaimer.create("ebr")) {
 *     RecyclingQueue<Task> queue = new RecyclingQueue<>(r);
 *     queue.offer(task);                 // draws a node from the pool once the pool has some
 *     Task next = queue.poll();          // the old node is retired and recycled when no reader holds it
 * }                                      // close the reclaimer when the structures are no longer used
 * }</pre>
 */
module reclaim.collections {
    requires transitive reclaim.api;

    exports reclaim.collections;
}
