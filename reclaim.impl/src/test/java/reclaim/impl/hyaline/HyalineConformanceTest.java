package reclaim.impl.hyaline;

import reclaim.tck.ReclaimerConformance;

/** Robust Hyaline (the default) passes the conformance suite, including the stalled-reader bound. */
class HyalineConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "hyaline";
    }
}
