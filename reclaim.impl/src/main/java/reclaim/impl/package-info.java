/**
 * The built-in provider, and the conventions every scheme in this module follows.
 *
 * <h2>The packages</h2>
 * <ul>
 *   <li>{@code reclaim.impl.core}: the engine every scheme runs on (participants, guards, bags, flush, close) and
 *       the {@code Policy} through which a scheme decides; {@code docs/core.md} maps its files.</li>
 *   <li>{@code reclaim.impl.ebr}: epoch-based reclamation (Fraser 2004; crossbeam-epoch).</li>
 *   <li>{@code reclaim.impl.qsbr}: quiescent-state-based reclamation (McKenney and Slingwine 1998; liburcu).</li>
 *   <li>{@code reclaim.impl.hp}: hazard pointers (Michael 2004; folly hazptr).</li>
 *   <li>{@code reclaim.impl.hyaline}: Hyaline-1 and -1S (Nikolaev and Ravindran, PLDI 2021; seize).</li>
 *   <li>{@code reclaim.impl.crystalline}: Crystalline-L and -W (Nikolaev and Ravindran, DISC 2021).</li>
 *   <li>{@code reclaim.impl.none}: the leak baseline of the benchmarks.</li>
 * </ul>
 *
 * <h2>Naming shared-memory accesses</h2>
 * Every access to a field that another thread reads or writes goes through a {@code private static final}
 * {@link java.lang.invoke.VarHandle} of the class that declares the field, and a small helper whose name ends
 * with the access mode, so that a line tells its ordering without opening the helper: the project's one
 * vocabulary, defined in {@code docs/memory-orderings.md} ({@code fooAcquire()}, {@code setFooRelease(v)},
 * {@code fooVolatile()}, {@code casFoo(e, u)}, ...). Fields that only their owning thread touches are plain and
 * say so. Every fence names the store–load pair it orders.
 */
package reclaim.impl;
