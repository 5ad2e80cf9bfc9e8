package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A guard entering while another thread closes the reclaimer: {@code close()} must either refuse (a guard is open)
 * or make the enter refuse; it may not return while a guard that entered is still open.
 *
 * <pre>
 *   reader                                  closer
 *   g = enter()        // or refused        close()          // or refused
 *   r1 = 1                                  closed = 1       // volatile, only after close() returned
 *   (spins a while, the guard open)         r3 = 1
 *   r2 = closed        // guard still open
 *   g.close()
 * </pre>
 *
 * {@code 1, 1, 1} is forbidden: {@code close()} had returned (the reader saw {@code closed}) while the reader's guard,
 * opened before that read and closed after it, was open. The reader's thread was never registered, so under EBR,
 * QSBR, HP and Crystalline its enter stores its open word and then reads the reclaimer's state, the store-load pair
 * with {@code close()}'s store of CLOSING and its look at the open words after the heavy barrier (under the fence
 * strategy a full fence follows the store for every scheme, the grace clock of HP and Crystalline included).
 *
 * <p>Reproduce: {@code ./reclaim jcstress quick -t EnterVsClose} (every scheme), or one scheme with
 * {@code .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t EnterVsClose -jvmArgsPrepend -Dreclaim.scheme=ebr}.
 */
@JCStressTest
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "The guard entered; close() saw it and refused.")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "The guard entered and closed before close() looked.")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "close() came first; the enter was refused.")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE_INTERESTING,
        desc = "The enter met CLOSING and was refused while close() still saw its open word past its wait.")
@Outcome(id = "1, 1, 1", expect = FORBIDDEN, desc = "close() returned while a guard that entered was open.")
@State
public class EnterVsCloseTest {
    private final Reclaimer reclaimer = Reclaimer.create(Schemes.batchesOf(1));
    private volatile int closed;
    /** How long the reader holds its guard open, in spin-wait hints, so that close() finds it open often. */
    private static final int SPINS = 2_000;

    /** Creates a state with a reclaimer of its own. */
    public EnterVsCloseTest() {}

    /**
     * Enters a guard and, while it is open, reads whether {@code close()} has returned.
     *
     * @param r whether the guard entered, and what it read of {@code closed}
     */
    @Actor
    public void reader(III_Result r) {
        Guard g;
        try {
            g = reclaimer.enter();
        } catch (IllegalStateException refused) {
            return; // 0, 0
        }
        r.r1 = 1;
        // Holds the guard open a little while close() may be running (a wider window, not a synchronization: the
        // outcome is read once, below, whatever the loop saw).
        for (int i = 0; i < SPINS && closed == 0; i++) Thread.onSpinWait();
        r.r2 = closed;
        g.close();
    }

    /**
     * Closes the reclaimer.
     *
     * @param r whether {@code close()} returned
     */
    @Actor
    public void closer(III_Result r) {
        try {
            reclaimer.close();
        } catch (IllegalStateException refused) {
            return; // left CLOSING: the state is dropped and its cleaner finishes the close
        }
        closed = 1;
        r.r3 = 1;
    }
}
