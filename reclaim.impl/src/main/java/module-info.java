/**
 * The built-in reclamation schemes of reclaim, found by {@link java.util.ServiceLoader} as a
 * {@link reclaim.spi.ReclaimerProvider}.
 *
 * <p>This module exports nothing: clients {@code requires reclaim.api} only and obtain a scheme by name,
 * {@code Reclaimer.create("ebr")}, with this module on the module path (or its jar on the class path, where
 * {@code META-INF/services} lists the same provider).
 *
 * <p>Schemes, one package each, every one a {@code Policy} over the shared engine:
 * <ul>
 *   <li>{@code reclaim.impl.qsbr}: quiescent-state-based reclamation (McKenney and Slingwine 1998; liburcu),
 *       scheme {@code qsbr}.</li>
 *   <li>{@code reclaim.impl.ebr}: epoch-based reclamation (Fraser 2004; crossbeam-epoch), scheme {@code ebr}.</li>
 *   <li>{@code reclaim.impl.hp}: hazard pointers (Michael 2004; folly hazptr), scheme {@code hp}.</li>
 *   <li>{@code reclaim.impl.hyaline}: Hyaline-1 and the robust Hyaline-1S (Nikolaev and Ravindran, PLDI 2021;
 *       seize), scheme {@code hyaline}.</li>
 *   <li>{@code reclaim.impl.crystalline}: Crystalline-L and the wait-free Crystalline-W (Nikolaev and Ravindran,
 *       DISC 2021), schemes {@code crystalline} and {@code crystalline-w}.</li>
 *   <li>{@code reclaim.impl.none}: the leak baseline of the benchmarks, scheme {@code none} (EBR's guards,
 *       nothing reclaimed before {@code close()}).</li>
 * </ul>
 * {@code reclaim.impl.core} is the engine (participants, guards, bags, flush, close; {@code docs/core.md} maps
 * it). The naming of shared-memory accesses by their ordering is the project's one vocabulary,
 * {@code docs/memory-orderings.md}.
 */
module reclaim.impl {
    requires reclaim.api;

    provides reclaim.spi.ReclaimerProvider with reclaim.impl.BuiltinProvider;
}
