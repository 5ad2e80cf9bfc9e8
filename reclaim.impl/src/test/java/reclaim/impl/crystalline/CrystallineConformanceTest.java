package reclaim.impl.crystalline;

import reclaim.tck.ReclaimerConformance;

/** Crystalline passes the conformance suite, including the stalled-reader bound. */
class CrystallineConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "crystalline";
    }
}
