package reclaim.impl.hp;

import reclaim.tck.ReclaimerConformance;

/** Hazard pointers pass the conformance suite, including the stalled-reader bound. */
class HpConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "hp";
    }
}
