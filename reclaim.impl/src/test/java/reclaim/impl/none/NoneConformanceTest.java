package reclaim.impl.none;

import reclaim.tck.ReclaimerConformance;

/** The leak baseline passes the conformance suite, less the progress tests (it reclaims only at close). */
class NoneConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "none";
    }

    @Override
    protected boolean reclaimsBeforeClose() {
        return false;
    }
}
