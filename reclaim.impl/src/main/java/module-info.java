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
 *
 * <h2>JFR and logging</h2>
 * {@code jdk.jfr} is optional ({@code requires static}): where the runtime has it and the module graph resolves it
 * (always on the class path; on the module path when another module requires it, {@code --add-modules jdk.jfr},
 * or a recording started with {@code -XX:StartFlightRecording}), every reclaimer reports the events
 * {@code reclaim.Stall}, {@code reclaim.Reclamation}, {@code reclaim.PendingHighWater} and the periodic
 * {@code reclaim.Snapshot} ({@code docs/observability.md} lists their fields). Nothing of {@code jdk.jfr} is
 * touched before the flight recorder is initialized, so a program that records nothing pays nothing. A stall is
 * also reported once, as a {@code WARNING} on the {@code System.Logger} named {@code reclaim}.
 */
module reclaim.impl {
    requires reclaim.api;
    requires static jdk.jfr; // optional: the JFR events are registered only where the runtime has it

    provides reclaim.spi.ReclaimerProvider with reclaim.impl.BuiltinProvider;
}
