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
import reclaim.api.Registration;

/**
 * QSBR's epoch-advance race: a <em>registered</em> reader, whose guards announce nothing (QSBR's zero-cost
 * read side: the thread stays online and the close of its outermost guard is its quiescent state), against a
 * writer that unlinks, retires and runs a grace period ({@code flush()}: the grace-period counter advances
 * and every online thread's announcement is read).
 *
 * <pre>
 *   reader (registered once per thread)     writer
 *   g = enter()          // no store         ref.set(B)              // unlink A
 *   n = g.protect(ref)   // A or B           retire(A, a.freed = 1)
 *   r1 = n.id                                flush()                 // gp++, min over online threads
 *   r2 = n.freed         // plain, last read
 *   g.close()            // quiescent state: announce gp (release)
 * </pre>
 *
 * The reader announced its last quiescent state before it read A, so its announcement is at most the tag of
 * A (read after the unlink): A must not be reclaimed before the reader's next quiescent state, the close.
 * {@code 1, 1} is forbidden. Under the other schemes a registered reader is an ordinary guard, and the same
 * outcome is forbidden for the same reason (their guard rule). The plain read of {@code freed} relies only on
 * the guard's happens-before edge (see {@link ProtectVsRetireTest}).
 *
 * <p>Reproduce: {@code ./reclaim jcstress quick -t RegisteredReaderVsGracePeriod} (every scheme), or for QSBR
 * alone {@code .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t RegisteredReaderVsGracePeriod
 * -jvmArgsPrepend -Dreclaim.scheme=qsbr}.
 */
@JCStressTest
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "The registered reader saw A, live until its quiescent state.")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "The reader saw B, the replacement.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "A grace period completed past an online reader that still held A.")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "B was reclaimed though it was never retired.")
@State
public class RegisteredReaderVsGracePeriodTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create();
    /** Each jcstress worker thread registers once (executor style) and stays registered and online. */
    private static final ThreadLocal<Registration> REGISTRATION = ThreadLocal.withInitial(RECLAIMER::register);

    private final ProtectVsRetireTest.Node a = new ProtectVsRetireTest.Node(1);
    private final ProtectVsRetireTest.Node b = new ProtectVsRetireTest.Node(2);
    private final AtomicReference<ProtectVsRetireTest.Node> ref = new AtomicReference<>(a);

    /** Creates a state: {@code ref} holds A; B waits to replace it. */
    public RegisteredReaderVsGracePeriodTest() {}

    /**
     * Reads under a guard of a registered thread.
     *
     * @param r the node's id and its {@code freed} flag as read at the end of the guard
     */
    @Actor
    public void reader(II_Result r) {
        REGISTRATION.get();
        try (Guard g = RECLAIMER.enter()) {
            ProtectVsRetireTest.Node n = g.protect(ref);
            r.r1 = n.id;
            r.r2 = n.freed;
        }
    }

    /** Unlinks A, retires it and runs a grace period. */
    @Actor
    public void writer() {
        ref.set(b);
        RECLAIMER.retire(a, ProtectVsRetireTest.Node::free);
        RECLAIMER.flush();
    }
}
