package reclaim.impl.crystalline;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.tck.ReclaimerConformance;

/**
 * Crystalline-L with its reclaim actions on the shared action thread passes the conformance suite, less the tests
 * that bound pending objects by the scheme alone (the executor's queue counts too): a reader's close, and a protect
 * that detaches a list, hand batches off instead of running them.
 */
class CrystallineActionThreadConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "crystalline";
    }

    @Override
    protected Reclaimer newReclaimer() {
        return Reclaimer.create(new Scheme.Crystalline(), Options.fromSystemProperties().withActionThread());
    }

    @Override
    protected boolean handsActionsOff() {
        return true;
    }
}
