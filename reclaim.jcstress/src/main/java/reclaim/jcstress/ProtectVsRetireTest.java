package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicReference;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The core race of every reclamation scheme: a reader protects a node while a writer unlinks it, retires
 * it and asks for reclamation at once.
 *
 * <pre>
 *   reader                              writer
 *   g = enter()                         ref.set(B)              // unlink A
 *   n = g.protect(ref)   // A or B      retire(A, a.freed = 1)
 *   r1 = n.id                           flush()                 // reclaim what is due now
 *   r2 = n.freed         // plain read, last thing in the guard
 *   g.close()
 * </pre>
 *
 * If the reader got A, A's reclaim action must not have run before the reader's guard closes. The forbidden
 * outcome {@code 1, 1} relies on one edge only: the guard's promise that every read inside it
 * happens-before the reclaim action of anything it protected ({@link Guard}'s memory consistency effects).
 * With that edge, the plain read of {@code freed} cannot see the action's write (a read never sees a write
 * that happens-after it). The read is deliberately plain, not volatile: a volatile read is an acquire, which
 * would keep it above the guard's closing store by itself and so hide a scheme whose guard close is not a
 * release; a plain read may drift down to the close, and only the scheme's own ordering stops it there.
 * It still reads memory each time (the node is fresh per state), so an action that ran early in real time is
 * seen as well.
 *
 * <p>Reproduce (from the repository root):
 * <pre>{@code
 * mvn -B -pl reclaim.jcstress package
 * .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t ProtectVsRetireTest
 * }</pre>
 */
@JCStressTest
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "Reader protected A before the unlink; A was live until its guard closed.")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "Reader protected B, the replacement.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "Use after free: A was reclaimed while the guard that protected it was open.")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "B was reclaimed though it was never retired.")
@State
public class ProtectVsRetireTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create();

    private final Node a = new Node(1);
    private final Node b = new Node(2);
    private final AtomicReference<Node> ref = new AtomicReference<>(a);

    /** Creates a state: {@code ref} holds A; B waits to replace it. */
    public ProtectVsRetireTest() {}

    /**
     * Protects whatever {@code ref} holds and reports which node it was and whether it was freed.
     *
     * @param r the node's id and its {@code freed} flag as read at the end of the guard
     */
    @Actor
    public void reader(II_Result r) {
        try (Guard g = RECLAIMER.enter()) {
            Node n = g.protect(ref);
            r.r1 = n.id;
            r.r2 = n.freed;
        }
    }

    /** Unlinks A, retires it and flushes. */
    @Actor
    public void writer() {
        ref.set(b);
        RECLAIMER.retire(a, Node::free);
        RECLAIMER.flush();
    }

    /** A node whose reclaim action marks it freed. */
    static final class Node {
        final int id;
        /** 1 once the reclaim action ran; plain on purpose (see the class documentation). */
        int freed;

        Node(int id) {
            this.id = id;
        }

        void free() {
            freed = 1;
        }
    }
}
