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
 * The Michael&ndash;Scott queue's read of the first element (M. M. Michael, "Hazard Pointers", IEEE TPDS 2004,
 * Fig. 4): the reader protects the dummy in slot 0, then the dummy's successor through the dummy's link in slot 1,
 * and trusts the successor only if the dummy is still the head. A link inside a node never changes in its life, so
 * protect's own re-read cannot tell that the successor was dequeued meanwhile; the re-read of the head does. The
 * writer dequeues twice (the dummy A, then B, which became the dummy) and reclaims at once.
 *
 * <pre>
 *   reader                                    writer
 *   g = enter()                               head.set(B); retire(A)   // B is the dummy now
 *   h = g.protect(head, 0)                    head.set(C); retire(B)   // C is the dummy now
 *   n = g.protect(h.next, 1)                  flush()
 *   if (h == head) { r1 = n.id; r2 = n.freed }   // plain read, the last thing in the guard
 *   g.close()
 * </pre>
 *
 * A successor the reader validated was not yet retired when the reader published it, so its action must wait for
 * the guard: {@code 2, 1} (B validated under A, then freed) and {@code 3, 1} (C, never retired) are forbidden. As
 * in {@link ProtectVsRetireTest}, the read of {@code freed} is plain, so that only the scheme's ordering keeps it
 * inside the guard.
 *
 * <p>Reproduce (from the repository root):
 * <pre>{@code
 * mvn -B -pl reclaim.jcstress package
 * .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t SuccessorVsDequeueTest -jvmArgsPrepend -Dreclaim.scheme=hp
 * }</pre>
 */
@JCStressTest
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "Validated B while A was the dummy; B lived until the guard closed.")
@Outcome(id = "3, 0", expect = ACCEPTABLE, desc = "Validated C while B was the dummy.")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The head moved between the reads: the reader would retry.")
@Outcome(id = "-1, 0", expect = ACCEPTABLE, desc = "C was the dummy: the queue looked empty.")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "Use after free: B was reclaimed under the guard that validated it.")
@Outcome(id = "3, 1", expect = FORBIDDEN, desc = "C was reclaimed though it was never retired.")
@State
public class SuccessorVsDequeueTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create(Schemes.batchesOf(1));

    private final Node c = new Node(3, null);
    private final Node b = new Node(2, c);
    private final Node a = new Node(1, b);
    private final AtomicReference<Node> head = new AtomicReference<>(a);

    /** Creates a state: the queue A (dummy), B, C. */
    public SuccessorVsDequeueTest() {}

    /**
     * Reads the first element as a consumer does and reports which node it validated and whether it was freed.
     *
     * @param r the node's id (0: not validated, -1: empty) and its {@code freed} flag read at the end of the guard
     */
    @Actor
    public void reader(II_Result r) {
        try (Guard g = RECLAIMER.enter()) {
            Node h = g.protect(head, 0);
            Node n = g.protect(h.next, 1);
            if (h != head.get()) {
                r.r1 = 0;
            } else if (n == null) {
                r.r1 = -1;
            } else {
                r.r1 = n.id;
                r.r2 = n.freed;
            }
        }
    }

    /** Dequeues twice, retiring each old dummy, and flushes. */
    @Actor
    public void writer() {
        head.set(b);
        RECLAIMER.retire(a, Node::free);
        head.set(c);
        RECLAIMER.retire(b, Node::free);
        RECLAIMER.flush();
    }

    /** A queue node: its successor (never changed here) and a flag its reclaim action sets. */
    static final class Node {
        final int id;
        final AtomicReference<Node> next;
        /** 1 once the reclaim action ran; plain on purpose (see the class documentation). */
        int freed;

        Node(int id, Node next) {
            this.id = id;
            this.next = new AtomicReference<>(next);
        }

        void free() {
            freed = 1;
        }
    }
}
