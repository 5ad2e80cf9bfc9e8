package reclaim.impl.hyaline;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.tck.ReclaimerConformance;

/**
 * Robust Hyaline with its reclaim actions on the shared action thread passes the conformance suite, less the tests
 * that bound pending objects by the scheme alone (the executor's queue counts too): readers that drop a batch's last
 * reference hand it off instead of running it, and every guarantee holds.
 */
class HyalineActionThreadConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "hyaline";
    }

    @Override
    protected Reclaimer newReclaimer() {
        return Reclaimer.create(new Scheme.Hyaline(), Options.fromSystemProperties().withActionThread());
    }

    @Override
    protected boolean handsActionsOff() {
        return true;
    }
}
