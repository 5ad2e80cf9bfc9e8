package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReference;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIIIIII_Result;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * Reuse of a counted batch: Hyaline and Crystalline recycle a batch whose count reached zero (its actions ran)
 * through the core's pool, and its next insertion reuses the batch's reference-count wrapper (and, but under
 * Crystalline-W, its links) with a new count. A reader, a reservation list or a link still holding the wrapper
 * from its earlier life would corrupt the new life's count: an object reclaimed while a guard protects it, an
 * action run twice, or a batch whose count never comes back to zero (its objects lost).
 *
 * <pre>
 *   reader                                   writer
 *   enter                                    enter
 *     n = protect(ref1, 0)   // a1 or b1       ref1.set(b1); retire(a1)   // a batch joining both guards
 *     r1 = n.id; r2 = n.freed                close                      // walks: may bring a1's count to zero
 *   close            // walks: a1's batch     ref2.set(b2); retire(a2)   // a recycled batch, its wrapper renewed
 *   enter                                    retire(d)                  // and again: a second life in this state
 *     m = protect(ref1, 0)  // a1 or b1       flush
 *     n = protect(ref2, 0)  // replaces m: Crystalline detaches slot 0's list and walks it inside the guard
 *     retire(c)             // the reader inserts too, racing the writer on the same list heads
 *     r3 = n.id; r4 = m.freed (read before the second protect) | n.freed
 *   close
 * </pre>
 *
 * Every retire seals a batch of one object ({@link Schemes#batchesOf}): each seal takes a fresh bag from the pool and
 * each last reference dropped gives a batch back, so the batch of {@code a1}, recycled by a walk or by the writer's
 * own insertion, may be the bag {@code d} (or a retire of the next state) is sealed in, and be inserted into the
 * reader's second guard while that guard's slot list is being detached and walked; across states every batch and
 * wrapper goes round continuously, since the reclaimer is shared.
 *
 * <p>The arbiter flushes under a lock shared by the arbiters: jcstress runs the arbiters only after both actors of
 * every state of the round returned (no guard is open), and the lock keeps the two arbiter threads from flushing at
 * once, so each flush runs to completion alone and, by {@code Reclaimer.flush}'s contract, every object retired
 * before it has been reclaimed when it returns. A count of 0 is therefore a lost object, not a late one.
 *
 * <p>Results: {@code r1}, {@code r3} the ids read in the two guards (a1 = 1, b1 = 2, a2 = 3, b2 = 4); {@code r2},
 * {@code r4} the {@code freed} flags read while protected (plain reads, last in the guard or before the slot is
 * replaced, as in {@link ProtectVsRetireTest}); {@code r5..r8} the runs of the actions of a1, a2, c and d after the
 * arbiter's flush.
 *
 * <p>Reproduce: {@code ./reclaim jcstress quick -t CountedBatchReuseTest} (every scheme, both barrier strategies;
 * {@code RECLAIM_BARRIERS=asymmetric} for one).
 */
@JCStressTest
@Outcome(id = "[12], 0, [34], 0, 1, 1, 1, 1", expect = ACCEPTABLE,
        desc = "Every protected object was live in its guard; every action ran exactly once.")
@Outcome(expect = FORBIDDEN,
        desc = "r2 or r4 = 1: reclaimed while protected; a run count of 2 or more: an action ran twice; a run count of"
                + " 0 after the arbiter's flush: a lost object (a count that never came back to zero).")
@State
public class CountedBatchReuseTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create(Schemes.batchesOf(1));
    /** Serializes the arbiters' flushes, so that each one runs alone (see the class documentation). */
    private static final Object ARBITERS = new Object();

    private final Node a1 = new Node(1);
    private final Node b1 = new Node(2);
    private final Node a2 = new Node(3);
    private final Node b2 = new Node(4);
    private final Node c = new Node(5);
    private final Node d = new Node(6);
    private final AtomicReference<Node> ref1 = new AtomicReference<>(a1);
    private final AtomicReference<Node> ref2 = new AtomicReference<>(a2);

    /** Creates a state: {@code ref1} holds a1, {@code ref2} holds a2. */
    public CountedBatchReuseTest() {}

    /**
     * Two guards in a row: the first holds what the writer's first retire inserts, the second is entered once the
     * first's walk may have recycled that batch, and replaces its slot's reservation (detaching and walking the slot's
     * list inside the guard under Crystalline) and retires an object of its own.
     *
     * @param r the ids read and the freed flags seen while protected
     */
    @Actor
    public void reader(IIIIIIII_Result r) {
        try (Guard g = RECLAIMER.enter()) {
            Node n = g.protect(ref1, 0);
            r.r1 = n.id;
            r.r2 = n.freed; // plain, last in the guard
        }
        try (Guard g = RECLAIMER.enter()) {
            Node m = g.protect(ref1, 0);
            int mFreed = m.freed; // plain, while slot 0 still protects m
            Node n = g.protect(ref2, 0); // slot 0 now protects n only
            g.retire(c, Node::free);
            r.r3 = n.id;
            r.r4 = mFreed | n.freed; // plain, last in the guard
        }
    }

    /** Unlinks and retires a1 inside a guard, then a2 and a filler outside: three batches, three pooled takes. */
    @Actor
    public void writer() {
        try (Guard g = RECLAIMER.enter()) {
            ref1.set(b1);
            g.retire(a1, Node::free);
        }
        ref2.set(b2);
        RECLAIMER.retire(a2, Node::free);
        RECLAIMER.retire(d, Node::free);
        RECLAIMER.flush();
    }

    /**
     * Flushes alone (no guard open, no other flush running) and reports how often each action ran.
     *
     * @param r the runs of a1's, a2's, c's and d's actions
     */
    @Arbiter
    public void arbiter(IIIIIIII_Result r) {
        synchronized (ARBITERS) {
            RECLAIMER.flush();
        }
        r.r5 = a1.runs();
        r.r6 = a2.runs();
        r.r7 = c.runs();
        r.r8 = d.runs();
    }

    /** A node whose reclaim action marks it freed and counts its runs. */
    static final class Node {
        private static final VarHandle RUNS;

        static {
            try {
                RUNS = MethodHandles.lookup().findVarHandle(Node.class, "runs", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final int id;
        /** 1 once the reclaim action ran; plain on purpose (see {@link ProtectVsRetireTest}). */
        int freed;
        /** Runs of the reclaim action; through {@code RUNS} (getAndAdd, volatile read). */
        @SuppressWarnings("unused")
        private int runs;

        Node(int id) {
            this.id = id;
        }

        void free() {
            freed = 1;
            RUNS.getAndAdd(this, 1);
        }

        int runs() {
            return (int) RUNS.getVolatile(this);
        }
    }
}
