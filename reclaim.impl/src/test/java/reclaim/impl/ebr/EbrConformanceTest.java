package reclaim.impl.ebr;

import reclaim.tck.ReclaimerConformance;

/** EBR passes the conformance suite. */
class EbrConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "ebr";
    }
}
