package reclaim.impl;

import java.util.Set;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.crystalline.CrystallinePolicy;
import reclaim.impl.crystalline.CrystallineWPolicy;
import reclaim.impl.ebr.EbrPolicy;
import reclaim.impl.hp.HpPolicy;
import reclaim.impl.hyaline.HyalinePolicy;
import reclaim.impl.none.NonePolicy;
import reclaim.impl.qsbr.QsbrPolicy;
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
        return create(scheme, Options.fromSystemProperties());
    }

    @Override
    public Reclaimer create(Scheme scheme, Options options) {
        java.util.Objects.requireNonNull(options, "options");
        return switch (scheme) {
            case Scheme.Qsbr qsbr -> QsbrPolicy.create(qsbr, options);
            case Scheme.Ebr ebr -> EbrPolicy.create(ebr, options);
            case Scheme.HazardPointers hp -> HpPolicy.create(hp, options);
            case Scheme.Hyaline hyaline -> HyalinePolicy.create(hyaline, options);
            case Scheme.Crystalline crystalline when crystalline.waitFree() -> CrystallineWPolicy.create(crystalline, options);
            case Scheme.Crystalline crystalline -> CrystallinePolicy.create(crystalline, options);
            case Scheme.None none -> NonePolicy.create(none, options);
            case null -> throw new NullPointerException("scheme");
            default -> throw new IllegalArgumentException(name() + " does not implement scheme " + scheme.name());
        };
    }
}
