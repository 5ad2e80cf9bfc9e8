package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * Exactly once: two threads retire one object each and flush at the same time; each reclaim action must run
 * once, never twice, however the two flushes interleave over the shared batches.
 *
 * <pre>
 *   actor 1                   actor 2                          arbiter (after both)
 *   retire(x, count x)        enter() { g.retire(y, count y) }  flush()
 *   flush()                   flush()                          r1 = runs(x), r2 = runs(y)
 * </pre>
 *
 * The two actors use both retire paths (outside a guard, and inside one). The counts are incremented
 * atomically ({@code getAndAdd}), so an action that ran twice, even on two threads at once, shows as 2.
 *
 * <p>A count of 0 at arbiter time is allowed: jcstress runs the arbiters of different states on two
 * threads at once, and the arbiter's flush may return while the other thread's flush is still running the
 * batch that holds {@code x} or {@code y}; the action has not run <em>yet</em>, which is not a bug. A count
 * above 1 is a double free.
 *
 * <p>Reproduce (from the repository root):
 * <pre>{@code
 * mvn -B -pl reclaim.jcstress package
 * .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t RetireExactlyOnceTest
 * }</pre>
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Both actions ran exactly once.")
@Outcome(id = {"0, 0", "0, 1", "1, 0"}, expect = ACCEPTABLE_INTERESTING,
        desc = "An action had not run yet at arbiter time (another thread's flush may still hold its batch).")
@Outcome(expect = FORBIDDEN, desc = "Double free: a reclaim action ran more than once.")
@State
public class RetireExactlyOnceTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create();

    private final Counted x = new Counted();
    private final Counted y = new Counted();

    /** Creates a state with two fresh objects. */
    public RetireExactlyOnceTest() {}

    /** Retires {@code x} outside any guard, then flushes. */
    @Actor
    public void retireOutsideGuard() {
        RECLAIMER.retire(x, Counted::reclaim);
        RECLAIMER.flush();
    }

    /** Retires {@code y} inside a guard, then flushes once the guard is closed. */
    @Actor
    public void retireInsideGuard() {
        try (Guard g = RECLAIMER.enter()) {
            g.retire(y, Counted::reclaim);
        }
        RECLAIMER.flush();
    }

    /**
     * Flushes once more and reports how often each action ran.
     *
     * @param r the runs of {@code x}'s and {@code y}'s actions
     */
    @Arbiter
    public void arbiter(II_Result r) {
        RECLAIMER.flush();
        r.r1 = x.runsVolatile();
        r.r2 = y.runsVolatile();
    }

    /** An object that counts how often its reclaim action ran. */
    static final class Counted {
        private static final VarHandle RUNS;

        static {
            try {
                RUNS = MethodHandles.lookup().findVarHandle(Counted.class, "runs", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** How often the reclaim action ran; written with getAndAdd, read volatile. */
        @SuppressWarnings("unused") // accessed through RUNS
        private volatile int runs;

        void reclaim() {
            RUNS.getAndAdd(this, 1);
        }

        int runsVolatile() {
            return (int) RUNS.getVolatile(this);
        }
    }
}
