package reclaim.impl.crystalline;

import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.tck.ReclaimerConformance;

/**
 * Crystalline-W with no fast path at all: every {@code protect} publishes a request and completes it (itself,
 * or through the threads that advance the era), and the whole conformance suite still holds.
 */
class CrystallineWSlowPathConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "crystalline-w";
    }

    @Override
    protected Reclaimer newReclaimer() {
        return CrystallineWPolicy.create(new Scheme.Crystalline(64, 8, true), 0);
    }
}
