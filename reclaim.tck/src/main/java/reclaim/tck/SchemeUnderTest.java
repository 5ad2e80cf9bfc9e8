package reclaim.tck;

import reclaim.api.Options;
import reclaim.api.Reclaimer;

/**
 * What every guarantee's tests see of the suite: the reclaimer under test and the hooks a scheme's test class
 * sets. {@link ReclaimerConformance} implements it (an interface holds no state) from its field and its
 * overridable hooks.
 */
interface SchemeUnderTest {

    /**
     * Returns the reclaimer under test, created before each test and closed after it.
     *
     * @return the reclaimer under test
     */
    Reclaimer reclaimer();

    /**
     * Returns whether the scheme under test reclaims before {@code close()}, as
     * {@link ReclaimerConformance#reclaimsBeforeClose()} says; false only for the leak baseline.
     *
     * @return true for a real scheme
     */
    boolean reclaimsEarly();

    /**
     * Returns whether the reclaimer under test hands its reclaim actions to an executor, as
     * {@link ReclaimerConformance#handsActionsOff()} says.
     *
     * @return true if actions run on an executor
     */
    boolean actionsHandedOff();

    /**
     * Returns the factor that scales the operation counts of the concurrent tests, as
     * {@link ReclaimerConformance#scale()} says.
     *
     * @return the factor; 1 is sized for 2 cores
     */
    int scaleFactor();

    /**
     * Creates another reclaimer of the scheme under test, owned by the caller, as
     * {@link ReclaimerConformance#newReclaimer()} does.
     *
     * @return a new reclaimer
     */
    Reclaimer freshReclaimer();

    /**
     * Creates another reclaimer of the scheme under test with {@code options}, owned by the caller, as
     * {@link ReclaimerConformance#newReclaimer(Options)} does.
     *
     * @param options the settings for any scheme
     * @return a new reclaimer
     */
    Reclaimer reclaimerWith(Options options);
}
