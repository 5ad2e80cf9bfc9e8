package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import reclaim.api.Reclaimer;
import reclaim.jcstress.RetireExactlyOnceTest.Counted;

/**
 * A retire adding to its thread's own bag while another thread takes that bag: a flush sealing the bags of idle
 * threads, or {@code close()} sealing every bag for good. Nothing retired may be lost (its action never run once the
 * reclaimer closed) or reclaimed twice.
 *
 * <p>Under the asymmetric barrier a retire does not take its thread's participant by CAS: it sets its bag word and
 * reads the participant's state, and the other thread CASes the state, runs the heavy barrier and reads the bag
 * word (a store-load pair on each side). Were either side's order lost, both would use the bag at once: the retire
 * would add to a bag the other thread has already sealed (the object lost, or run before the seal's fence) or the
 * two would seal one bag twice. Under the fence strategy the retire takes the participant by CAS, and this test
 * checks that exclusion.
 *
 * <pre>
 *   retirer                              sealer                  arbiter (after both)
 *   retire(a)   // first: takes the      flush()  // or close()  close() (if the sealer's did not)
 *               // thread's participant                          r1 = runs(a), r2 = runs(b)
 *   retire(b)   // its own bag, outside a guard
 * </pre>
 *
 * The reclaimer is the state's own, with bags of 64 (the default), so the two objects stay in the bag that the
 * sealer takes. A retire refused because {@code close()} came first reports -1 (and its action must not run).
 *
 * <p>Reproduce: {@code ./reclaim jcstress quick -t RetireVsSeal} (every scheme, both barriers), or one with
 * {@code .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t RetireVsSeal -jvmArgsPrepend -Dreclaim.scheme=ebr
 * -jvmArgsPrepend -Dreclaim.barrier=asymmetric}.
 */
public final class RetireVsSealTest {
    private RetireVsSealTest() {}

    /** The retire side against a flush on another thread. */
    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Each action ran exactly once by the time the reclaimer closed.")
    @Outcome(expect = FORBIDDEN, desc = "An action never ran (lost) or ran twice.")
    @State
    public static class Flush {
        private final Reclaimer reclaimer = Reclaimer.create(Schemes.batchesOf(64));
        private final Counted a = new Counted();
        private final Counted b = new Counted();

        /** Creates a state with a reclaimer of its own. */
        public Flush() {}

        /** Retires two objects outside any guard. */
        @Actor
        public void retirer() {
            reclaimer.retire(a, Counted::reclaim);
            reclaimer.retire(b, Counted::reclaim);
        }

        /** Seals the bags of idle threads, the retirer's among them. */
        @Actor
        public void sealer() {
            reclaimer.flush();
        }

        /**
         * Closes the reclaimer (every bag drained) and reports how often each action ran.
         *
         * @param r the runs of {@code a}'s and {@code b}'s actions
         */
        @Arbiter
        public void arbiter(II_Result r) {
            reclaimer.close();
            r.r1 = a.runsVolatile();
            r.r2 = b.runsVolatile();
        }
    }

    /** The retire side against {@code close()} on another thread. */
    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Both retires accepted; each action ran exactly once.")
    @Outcome(id = {"1, -1", "-1, -1"}, expect = ACCEPTABLE_INTERESTING,
            desc = "close() began first and refused the later retires; their actions never ran.")
    @Outcome(expect = FORBIDDEN, desc = "An accepted object lost or reclaimed twice, or a refused one reclaimed.")
    @State
    public static class Close {
        private final Reclaimer reclaimer = Reclaimer.create(Schemes.batchesOf(64));
        private final Counted a = new Counted();
        private final Counted b = new Counted();
        private int refusedA;
        private int refusedB;

        /** Creates a state with a reclaimer of its own. */
        public Close() {}

        /** Retires two objects outside any guard; a refusal is noted. */
        @Actor
        public void retirer() {
            try {
                reclaimer.retire(a, Counted::reclaim);
            } catch (IllegalStateException closing) {
                refusedA = 1;
            }
            try {
                reclaimer.retire(b, Counted::reclaim);
            } catch (IllegalStateException closing) {
                refusedB = 1;
            }
        }

        /** Closes the reclaimer (it may refuse while the retirer holds its bag: the arbiter closes it then). */
        @Actor
        public void sealer() {
            try {
                reclaimer.close();
            } catch (IllegalStateException refused) {
                // left closing: the arbiter's close() completes it
            }
        }

        /**
         * Completes the close and reports each object: how often its action ran, or -1 if its retire was refused and
         * its action never ran (a refused object whose action ran reports 10 + runs).
         *
         * @param r what became of {@code a} and {@code b}
         */
        @Arbiter
        public void arbiter(II_Result r) {
            reclaimer.close();
            r.r1 = outcome(refusedA, a);
            r.r2 = outcome(refusedB, b);
        }

        private static int outcome(int refused, Counted c) {
            int runs = c.runsVolatile();
            return refused == 0 ? runs : runs == 0 ? -1 : 10 + runs;
        }
    }
}
