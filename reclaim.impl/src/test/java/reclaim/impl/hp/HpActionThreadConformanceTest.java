package reclaim.impl.hp;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.tck.ReclaimerConformance;

/**
 * Hazard pointers with their reclaim actions on the shared action thread pass the conformance suite, less the tests
 * that bound pending objects by the scheme alone (the executor's queue counts too): a scan hands what it frees off
 * as one batch.
 */
class HpActionThreadConformanceTest extends ReclaimerConformance {
    @Override
    protected String scheme() {
        return "hp";
    }

    @Override
    protected Reclaimer newReclaimer() {
        return Reclaimer.create(new Scheme.HazardPointers(), Options.fromSystemProperties().withActionThread());
    }

    @Override
    protected boolean handsActionsOff() {
        return true;
    }
}
