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
 * <p>While the reclaimer is closing (a {@code close()} refused because guards are open), an operation that opens
 * a guard is refused as the reclaimer refuses it ({@link java.lang.IllegalStateException}, saying it is closing),
 * except on a thread whose guard is open. That is every operation but the map's and the set's {@code size()} and
 * {@code isEmpty()} and the stack's {@code isEmpty()}, which read a counter or a head and still answer. Once the
 * reclaimer has closed, operations throw as each class says.
 *
 * <h2>Guard-scoped views</h2>
 * Every operation opens a guard of the reclaimer for its own duration. The map, the set and the queue also
 * offer {@code pin()}, as flurry's and papaya's hash maps do: a view that opens one guard and runs many
 * operations in it ({@link reclaim.collections.RecyclingHashMap.Pinned},
 * {@link reclaim.collections.RecyclingListSet.Pinned}, {@link reclaim.collections.RecyclingQueue.Pinned}).
 * The operations are the same code, handed the view's guard instead of one of their own, and each
 * protects what it reads afresh, reusing the same hazard slots. A view belongs to the thread that opened
 * it and, like any open guard, holds back reclamation until it closes (under EBR and QSBR, everyone's):
 * it is for short batches.
 *
 * <p>Once the pools are warm the per-operation methods allocate nothing of their own. The reclaimer may: under hazard
 * pointers a thread's guard replaces its slot array with a fresh copy every 2<sup>18</sup> protects (a few hundred
 * bytes, about 0.001 byte per protect), which keeps G1's write barrier on the hazard stores cheap; the other
 * built-in schemes allocate nothing in steady state. A view is one small object (32 bytes),
 * which C2 removes (escape analysis) only when every call on the view is inlined into the method that opened
 * it; C2 does not inline a method whose own compiled code exceeds {@code -XX:InlineSmallCode}, and the queue's
 * view operations, compiled on their own, do: measured, the map's views allocate nothing and the queue's their
 * 32 bytes per {@code pin()}. A thread that keeps its view and opens it again for each batch with
 * {@code reopen()} allocates nothing, whatever the JIT inlines.
 *
 * <h2>Shared accesses</h2>
 * Shared accesses follow the project's memory-ordering vocabulary ({@code docs/memory-orderings.md}): every
 * access to a field that more than one thread touches goes through a helper of the class that declares the
 * field, named for its access mode, and a VarHandle, where there is one, is {@code private static final}
 * and used only inside its class:
 * <ul>
 *   <li>{@code fooPlain()} / {@code setFooPlain(v)}: plain load / plain store. Used only where a
 *       happens-before edge named in a comment beside the access (usually the CAS that publishes the node,
 *       the acquire of {@code Guard.protect}, or the reclaimer's edge from {@code retire} to the reclaim
 *       action) orders it with every access of another thread.</li>
 *   <li>{@code fooVolatile()}: volatile load; {@code setFooRelease(v)}: release store; {@code casFoo(e, u)}:
 *       volatile compare-and-set.</li>
 * </ul>
 * The links ({@code head}, {@code tail}, a node's {@code next}) are
 * {@link java.util.concurrent.atomic.AtomicReference}s, because
 * {@link reclaim.api.Guard#protect(java.util.concurrent.atomic.AtomicReference, int)} reads them. A shared
 * link that is dereferenced is read only through {@code Guard.protect}; every other access goes through the
 * same kind of helper ({@code nextVolatile()}, {@code setNextPlain(n)}, {@code casNext(e, u)},
 * {@code headVolatile()}, {@code casHead(e, u)}, ...), and a volatile read outside {@code protect} is only
 * compared or installed by a CAS, never dereferenced. No code in this package uses a fence. The counters
 * ({@link java.util.concurrent.atomic.AtomicInteger}, {@link java.util.concurrent.atomic.AtomicLong},
 * {@link java.util.concurrent.atomic.LongAdder}) are statistics and pool bounds, read and updated through
 * their own volatile methods.
 */
package reclaim.collections;
