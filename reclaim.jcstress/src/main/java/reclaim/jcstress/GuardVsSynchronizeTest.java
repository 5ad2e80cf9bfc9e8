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
 * The race behind {@code Reclaimer.synchronize()}'s own example (swap, wait for a grace period, free): a reader that
 * enters while a writer swaps the shared reference and waits, on a thread that was never registered (so that under
 * EBR, QSBR and the asymmetric barrier its enter is a store to its open word and no fence).
 *
 * <pre>
 *   reader                              writer
 *   g = enter()                         ref.set(B)              // readers that start now see only B
 *   n = g.protect(ref)   // A or B      synchronize()           // readers that could see A have left
 *   r1 = n.id                           a.freed = 1             // plain: "unmap" A
 *   r2 = n.freed         // plain, last read
 *   g.close()
 * </pre>
 *
 * If the reader got A, its protect read {@code ref} before the writer's swap in the synchronization order, so the
 * reader's announcement (its open word, its lease) was stored before a read the writer's swap follows: the grace
 * period must either see that announcement and wait for the close, or the reader must have read B. {@code 1, 1} is
 * forbidden. The reader's enter does not happen-before the call, so this is more than the happens-before clause of
 * {@code synchronize()}: it is the store-load pair between the reader's announcement and the waiter's first look,
 * which under the asymmetric barrier the waiter's heavy barrier ({@code membarrier}) provides.
 *
 * <p>Reproduce: {@code ./reclaim jcstress quick -t GuardVsSynchronize} (every scheme), or one scheme with
 * {@code .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t GuardVsSynchronize -jvmArgsPrepend
 * -Dreclaim.scheme=hp}.
 */
@JCStressTest
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "The reader saw A; the grace period waited for its close.")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "The reader saw B, the replacement.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "synchronize() returned while a guard that read A was open.")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "The reader saw B marked freed: impossible, B is never freed.")
@State
public class GuardVsSynchronizeTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create();

    private final ProtectVsRetireTest.Node a = new ProtectVsRetireTest.Node(1);
    private final ProtectVsRetireTest.Node b = new ProtectVsRetireTest.Node(2);
    private final AtomicReference<ProtectVsRetireTest.Node> ref = new AtomicReference<>(a);

    /** Creates a state: {@code ref} holds A; B waits to replace it. */
    public GuardVsSynchronizeTest() {}

    /**
     * Reads under a guard of an unregistered thread.
     *
     * @param r the node's id and its {@code freed} flag as read at the end of the guard
     */
    @Actor
    public void reader(II_Result r) {
        try (Guard g = RECLAIMER.enter()) {
            ProtectVsRetireTest.Node n = g.protect(ref);
            r.r1 = n.id;
            r.r2 = n.freed;
        }
    }

    /** Swaps A out, waits for a grace period, then frees A. */
    @Actor
    public void writer() {
        ref.set(b);
        RECLAIMER.synchronize();
        a.freed = 1;
    }
}
