package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Options;
import reclaim.api.Reclaimer;

/**
 * The guarantees every scheme of {@link Reclaimer} keeps, as JUnit tests that any provider can run against its
 * own scheme:
 * <ul>
 *   <li><b>safety</b>: no reclaim action runs on an object that a guard still open protected, by reference,
 *       by field or by key, however deep guards nest;</li>
 *   <li><b>exactly once</b>: every retired object's action runs exactly once, by {@code close()} at the
 *       latest, also when actions retire more;</li>
 *   <li><b>progress</b>: with no guard open, {@code flush()} reclaims everything retired before it, and
 *       pending objects stay bounded without it;</li>
 *   <li><b>robustness</b>: a robust scheme keeps pending objects under its stated bound while a reader
 *       stalls inside a guard, and any other scheme reports the stalled reader;</li>
 *   <li><b>threads that end</b> registered, idle or inside a guard they never closed lose nothing and hold
 *       reclamation back for no one;</li>
 *   <li><b>threads whose thread locals are reset</b> while they live (pool workers) stay registered and take
 *       no new thread record per reset;</li>
 *   <li><b>virtual threads</b> that block inside guards keep what they protected, and short-lived ones
 *       do not pile up thread records;</li>
 *   <li><b>containment</b>: a reclaim action that throws is counted and stops no other action;</li>
 *   <li><b>misuse</b> (null arguments, bad slots, guards and registrations used from the wrong thread,
 *       after close or inside a guard) fails at once with a clear exception;</li>
 *   <li><b>lifecycle</b>: {@code close()} is idempotent, throws while a guard is open (which keeps
 *       working) and completes when called again after it closed, and refuses every thread afterwards;
 *       registrations open guards that protect, and stay closed once closed;</li>
 *   <li>{@link reclaim.api.Atom} closes each resource swapped out of it exactly once, never while read;</li>
 *   <li><b>checked mode</b> ({@link Options#checked()}) refuses a second retire of an object not yet reclaimed
 *       and a retire of an object still held where its guard read it, lets a recycled object be retired again,
 *       and names what {@code close()} reclaimed late; the default mode checks none of it;</li>
 *   <li><b>owned guards</b> ({@link Reclaimer#enterOwned()}) keep what they protected while they move between
 *       threads, reclaim what was retired through them once, are independent of thread guards, hold
 *       {@code close()} back while open, and refuse two threads at once and use after close;</li>
 *   <li><b>refresh</b>: {@code Guard.refresh()} lets reclamation pass a guard that stays open, and does nothing in
 *       a nested guard;</li>
 *   <li><b>grace periods</b>: {@code Reclaimer.synchronize()} waits for every guard open at the call, only for
 *       those, and for online registered QSBR threads until they pass a quiescent state;</li>
 *   <li><b>an action executor</b> ({@code Options.withActionExecutor}) runs the actions off the readers' path,
 *       each exactly once, even when it refuses or never runs them, and {@code flush()} and {@code close()} still
 *       see them done.</li>
 * </ul>
 * Each guarantee's tests live in an interface of their own, which this class implements. Extend it and
 * name the scheme ({@link #scheme()}); a scheme that never reclaims before {@code close()} (the {@code none}
 * baseline) says so with {@link #reclaimsBeforeClose()} and the tests of progress are skipped for it.
 *
 * <p>Every concurrent test waits on latches, barriers and joins, never on sleeps, and runs a bounded number
 * of operations; each has a timeout so that a hang fails instead of stalling the build.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class ReclaimerConformance implements SafetyConformance, ExactlyOnceConformance,
        ProgressConformance, RobustnessConformance, ThreadEndConformance, ThreadLocalResetConformance,
        VirtualThreadConformance, ContainmentConformance, MisuseConformance, LifecycleConformance, AtomConformance,
        CloseConformance, CheckedConformance, OwnedGuardConformance, RefreshConformance, GracePeriodConformance,
        ActionExecutorConformance {

    /** The reclaimer under test, created before each test and closed after it. */
    protected Reclaimer reclaimer;

    /** Creates the suite. */
    protected ReclaimerConformance() {}

    /**
     * Returns the name of the scheme under test, as for {@link Reclaimer#create(String)}.
     *
     * @return the scheme's short name
     */
    protected abstract String scheme();

    /**
     * Creates a reclaimer of the scheme under test. Override to construct one without the
     * {@link java.util.ServiceLoader}.
     *
     * @return a new reclaimer
     */
    protected Reclaimer newReclaimer() {
        return Reclaimer.create(scheme());
    }

    /**
     * Creates a reclaimer of the scheme under test with {@code options} (checked mode, or explicitly unchecked). By
     * default it asks {@link Reclaimer#create(reclaim.api.Scheme, Options)} for the scheme, with its tuning, of
     * the reclaimer under test; override it with {@link #newReclaimer()} when that constructs a reclaimer directly.
     *
     * @param options the settings for any scheme
     * @return a new reclaimer
     */
    protected Reclaimer newReclaimer(Options options) {
        return Reclaimer.create(reclaimer.scheme(), options);
    }

    /**
     * Returns whether the scheme reclaims before {@code close()}; false only for the leak baseline.
     *
     * @return true for a real scheme
     */
    protected boolean reclaimsBeforeClose() {
        return true;
    }

    /**
     * Returns whether {@link #newReclaimer()} creates reclaimers that hand their reclaim actions to an executor
     * ({@link Options#withActionExecutor}); false by default. Then the tests that assume actions run on the
     * reclaiming thread are skipped: those that bound pending objects by the scheme alone (the executor's queue
     * counts too, and how fast it drains is the executor's business) and one that counts the participants of the
     * threads that run actions.
     *
     * @return true if the reclaimers under test hand actions off
     */
    protected boolean handsActionsOff() {
        return false;
    }

    /**
     * Scales the operation counts of the concurrent tests.
     *
     * @return the factor; 1 (the default) is sized for 2 cores
     */
    protected int scale() {
        return 1;
    }

    @BeforeEach
    void createReclaimer() {
        reclaimer = newReclaimer();
        assertNotNull(reclaimer, "newReclaimer() returned null");
    }

    @AfterEach
    void closeReclaimer() {
        if (reclaimer != null && !reclaimer.isClosed()) reclaimer.close();
    }

    /**
     * Returns the reclaimer under test, the one in the {@code reclaimer} field.
     *
     * @return the reclaimer under test
     */
    @Override
    public final Reclaimer reclaimer() {
        return reclaimer;
    }

    /**
     * Returns {@link #reclaimsBeforeClose()}, for the guarantees' tests.
     *
     * @return whether the scheme reclaims before {@code close()}
     */
    @Override
    public final boolean reclaimsEarly() {
        return reclaimsBeforeClose();
    }

    /**
     * Returns {@link #handsActionsOff()}, for the guarantees' tests.
     *
     * @return whether the reclaimers under test hand actions to an executor
     */
    @Override
    public final boolean actionsHandedOff() {
        return handsActionsOff();
    }

    /**
     * Returns {@link #scale()}, for the guarantees' tests.
     *
     * @return the factor that scales the concurrent tests' operation counts
     */
    @Override
    public final int scaleFactor() {
        return scale();
    }

    /**
     * Returns {@link #newReclaimer()}, for the guarantees' tests that need a reclaimer of their own.
     *
     * @return a new reclaimer of the scheme under test
     */
    @Override
    public final Reclaimer freshReclaimer() {
        return newReclaimer();
    }

    /**
     * Returns {@link #newReclaimer(Options)}, for the tests of settings that apply to any scheme.
     *
     * @param options the settings for any scheme
     * @return a new reclaimer of the scheme under test
     */
    @Override
    public final Reclaimer reclaimerWith(Options options) {
        return newReclaimer(options);
    }
}
