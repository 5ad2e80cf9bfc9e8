/**
 * Lock-free collections whose nodes are recycled through a {@link reclaim.api.Reclaimer}:
 * {@link reclaim.collections.RecyclingStack}, {@link reclaim.collections.RecyclingQueue},
 * {@link reclaim.collections.RecyclingListSet} and {@link reclaim.collections.RecyclingHashMap}.
 *
 * <p>Each structure owns a bounded pool of free nodes. A removed node is retired to the structure's
 * reclaimer; its reclaim action clears the node and pushes it back into the pool, which the next insertion
 * draws from. The reclaimer runs that action only once no guard can still hold the node, and that is what
 * makes reuse safe: a thread never finds a node it has read under its guard recycled under it.
 *
 * <h2>Naming of shared accesses</h2>
 * Every access to a field that more than one thread touches says its ordering in its name, one scheme for
 * the whole package (JCTools' names):
 * <ul>
 *   <li>{@code lp} / {@code sp}: plain load / plain store. Used only where a happens-before edge named in a
 *       comment beside the access (usually a CAS that publishes the node, or the reclaimer's edge from
 *       {@code retire} to the reclaim action) orders it with every access of another thread.</li>
 *   <li>{@code lv}: volatile load; {@code so}: ordered (release) store; {@code cas}: volatile
 *       compare-and-set.</li>
 * </ul>
 * The links ({@code head}, {@code tail}, a node's {@code next}) are {@link java.util.concurrent.atomic.AtomicReference}s,
 * because {@link reclaim.api.Guard#protect(java.util.concurrent.atomic.AtomicReference, int)} reads them;
 * their methods already name their ordering ({@code get} is {@code lv}, {@code getPlain} is {@code lp},
 * {@code setPlain} is {@code sp}, {@code compareAndSet} is {@code cas}). A shared link that is dereferenced
 * is read only through {@code Guard.protect}; one that is only compared or CASed (never dereferenced) may be
 * read with {@code get}, and says so where it is.
 */
package reclaim.collections;
