package reclaim.impl.crystalline;

import reclaim.tck.ReclaimerConformance;

/** Crystalline-W passes the conformance suite, including the stalled-reader bound. */
class CrystallineWConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "crystalline-w";
    }
}
