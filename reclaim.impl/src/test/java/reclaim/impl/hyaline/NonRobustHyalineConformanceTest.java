package reclaim.impl.hyaline;

import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.tck.ReclaimerConformance;

/** Hyaline without birth eras passes the suite too; it reports stalls instead of bounding garbage. */
class NonRobustHyalineConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "hyaline";
    }

    @Override
    protected Reclaimer newReclaimer() {
        return Reclaimer.create(new Scheme.Hyaline(64, false));
    }
}
