package reclaim.impl.qsbr;

import reclaim.tck.ReclaimerConformance;

/** QSBR passes the conformance suite (threads meet it through the common API there). */
class QsbrConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "qsbr";
    }
}
