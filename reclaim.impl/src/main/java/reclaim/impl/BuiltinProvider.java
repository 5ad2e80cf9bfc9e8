package reclaim.impl;

import java.util.Set;

import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.crystalline.CrystallineReclaimer;
import reclaim.impl.crystalline.CrystallineWReclaimer;
import reclaim.impl.ebr.EbrReclaimer;
import reclaim.impl.hp.HpReclaimer;
import reclaim.impl.hyaline.HyalineReclaimer;
import reclaim.impl.none.NoneReclaimer;
import reclaim.impl.qsbr.QsbrReclaimer;
import reclaim.spi.ReclaimerProvider;

/** The provider of the schemes in this module. */
public final class BuiltinProvider implements ReclaimerProvider {
    private static final Set<String> SCHEMES = Set.of("qsbr", "ebr", "hp", "hyaline", "crystalline", "crystalline-w", "none");

    /** Creates the provider (called by {@link java.util.ServiceLoader}). */
    public BuiltinProvider() {}

    @Override
    public String name() {
        return "reclaim.impl (built-in)";
    }

    @Override
    public Set<String> schemes() {
        return SCHEMES;
    }

    @Override
    public Reclaimer create(Scheme scheme) {
        return switch (scheme) {
            case Scheme.Qsbr qsbr -> QsbrReclaimer.create(qsbr);
            case Scheme.Ebr ebr -> EbrReclaimer.create(ebr);
            case Scheme.HazardPointers hp -> HpReclaimer.create(hp);
            case Scheme.Hyaline hyaline -> HyalineReclaimer.create(hyaline);
            case Scheme.Crystalline crystalline when crystalline.waitFree() -> CrystallineWReclaimer.create(crystalline);
            case Scheme.Crystalline crystalline -> CrystallineReclaimer.create(crystalline);
            case Scheme.None none -> NoneReclaimer.create(none);
            case null -> throw new NullPointerException("scheme");
            default -> throw new IllegalArgumentException(name() + " does not implement scheme " + scheme.name());
        };
    }
}
