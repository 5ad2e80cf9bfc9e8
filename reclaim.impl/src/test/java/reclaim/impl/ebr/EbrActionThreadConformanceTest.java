package reclaim.impl.ebr;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.tck.ReclaimerConformance;

/**
 * EBR with its reclaim actions on the shared action thread passes the conformance suite, less the tests that bound
 * pending objects by the scheme alone (the executor's queue counts too).
 */
class EbrActionThreadConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "ebr";
    }

    @Override
    protected Reclaimer newReclaimer() {
        return Reclaimer.create(new Scheme.Ebr(), Options.fromSystemProperties().withActionThread());
    }

    @Override
    protected boolean handsActionsOff() {
        return true;
    }
}
