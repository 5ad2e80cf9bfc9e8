package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicReference;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.jcstress.ProtectVsRetireTest.Node;

/**
 * The core race with an owned guard that changes threads: the guard is opened and A protected on the thread that
 * builds the state; jcstress hands the state to the reader actor's thread, which protects again (A or B), reads, and
 * closes the guard there, while the writer unlinks A, retires it and asks for reclamation at once.
 *
 * <pre>
 *   state (another thread)     reader                               writer
 *   g = enterOwned()           n = g.protect(ref, 1)   // A or B    ref.set(B)              // unlink A
 *   first = g.protect(ref, 0)  r1 = n.id                            retire(A, a.freed = 1)
 *             // A             r2 = n.freed            // plain     flush()
 *                              r3 = first.freed        // plain
 *                              g.close()
 * </pre>
 *
 * A was protected on the first thread and stays protected until the close on the second, so neither read of
 * {@code freed} may see the action's write: the guard's reads, on whichever thread, happen-before the reclaim action
 * of what it protected. The nodes are {@link ProtectVsRetireTest}'s, and their reads are plain for the reason it gives
 * (a volatile read would keep itself above the close and hide a close that is not a release).
 *
 * <p>Every state holds an owned guard open from its construction to its reader's close, so the scheme sees as many
 * open guards as jcstress keeps states in flight; a state whose actors never ran would leave its guard open, which
 * the test's reclaimer (never closed) tolerates.
 *
 * <p>Reproduce (from the repository root):
 * <pre>{@code
 * mvn -B -pl reclaim.jcstress package
 * .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t OwnedGuardHandOverVsRetireTest
 * }</pre>
 */
@JCStressTest
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "The reader's protect got A too; A was live until the guard closed.")
@Outcome(id = "2, 0, 0", expect = ACCEPTABLE, desc = "The reader's protect got B; A, protected on the other thread, was live.")
@Outcome(id = "[12], 0, 1", expect = FORBIDDEN, desc = "Use after free: A, protected on the opening thread, was "
        + "reclaimed while the owned guard was open on the reader's.")
@Outcome(id = "1, 1, [01]", expect = FORBIDDEN, desc = "Use after free: A, protected on the reader's thread too, was "
        + "reclaimed while the owned guard was open.")
@Outcome(id = "2, 1, [01]", expect = FORBIDDEN, desc = "B was reclaimed though it was never retired.")
@State
public class OwnedGuardHandOverVsRetireTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create();

    private final Node a = new Node(1);
    private final Node b = new Node(2);
    private final AtomicReference<Node> ref = new AtomicReference<>(a);
    /** Opened by the thread that builds the state; jcstress's publication of the state is the hand-over. */
    private final OwnedGuard guard = RECLAIMER.enterOwned();
    /** A, protected on the thread that builds the state. */
    private final Node first = guard.protect(ref, 0);

    /** Creates a state: an owned guard open, A protected through it; B waits to replace A. */
    public OwnedGuardHandOverVsRetireTest() {}

    /**
     * On another thread than the guard's opener: protects what {@code ref} holds, reads, closes the guard.
     *
     * @param r the node's id, its {@code freed} flag, and A's {@code freed} flag, as read at the end of the guard
     */
    @Actor
    public void reader(III_Result r) {
        Node n = guard.protect(ref, 1);
        r.r1 = n.id;
        r.r2 = n.freed;
        r.r3 = first.freed;
        guard.close();
    }

    /** Unlinks A, retires it and flushes. */
    @Actor
    public void writer() {
        ref.set(b);
        RECLAIMER.retire(a, Node::free);
        RECLAIMER.flush();
    }
}
