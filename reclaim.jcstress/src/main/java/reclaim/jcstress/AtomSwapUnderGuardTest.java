package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import reclaim.api.Atom;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A writer's own guard protects what it swapped out, even across a {@code flush()} made inside that guard:
 * {@link Atom#swap(Guard, Object)} returns the old value "usable until the guard closes", and a flush must
 * not treat the calling thread as quiescent while it holds a guard.
 *
 * <pre>
 *   reader                                   writer
 *   g = enter()                              w = enter()
 *   v = atom.load(g)       // R1 or R2       old = atom.swap(w, R2)   // R1, retired
 *   r1 = v.id                                flush()                  // inside w
 *   r2 = v.closed                            r3 = old.closed          // plain read, last thing in w
 *   g.close()                                w.close()
 * </pre>
 *
 * Forbidden: the reader sees its resource closed ({@code r2 = 1}), or the writer sees R1 closed before its own
 * guard closed ({@code r3 = 1}). As in {@link ProtectVsRetireTest}, both rely only on the guard's
 * happens-before edge to the reclaim action, so the flag is read with plain semantics.
 *
 * <p>Reproduce (from the repository root):
 * <pre>{@code
 * mvn -B -pl reclaim.jcstress package
 * .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t AtomSwapUnderGuardTest
 * }</pre>
 */
@JCStressTest
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "Reader loaded R1 before the swap; nobody saw a closed resource.")
@Outcome(id = "2, 0, 0", expect = ACCEPTABLE, desc = "Reader loaded R2; nobody saw a closed resource.")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "Use after close: R1 was closed while the reader's guard that loaded it was open.")
@Outcome(id = ".*, .*, 1", expect = FORBIDDEN, desc = "Use after close: R1 was closed inside the writer's own guard, which swap() promised protects it.")
@Outcome(expect = FORBIDDEN, desc = "R2 was closed though it is still the cell's value.")
@State
public class AtomSwapUnderGuardTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create();

    private final Atom<Resource> atom = new Atom<>(RECLAIMER, new Resource(1), Resource::close);

    /** Creates a state: a cell holding R1. */
    public AtomSwapUnderGuardTest() {}

    /**
     * Loads the current resource and reports which one it was and whether it was closed.
     *
     * @param r {@code r1}: the resource's id; {@code r2}: its {@code closed} flag at the end of the guard
     */
    @Actor
    public void reader(III_Result r) {
        try (Guard g = RECLAIMER.enter()) {
            Resource v = atom.load(g);
            r.r1 = v.id;
            r.r2 = v.closed;
        }
    }

    /**
     * Swaps R2 in under a guard, flushes inside it, and reports whether R1 was closed before the guard ended.
     *
     * @param r {@code r3}: R1's {@code closed} flag at the end of the writer's guard
     */
    @Actor
    public void writer(III_Result r) {
        try (Guard w = RECLAIMER.enter()) {
            Resource old = atom.swap(w, new Resource(2));
            RECLAIMER.flush();
            r.r3 = old.closed;
        }
    }

    /** A resource whose close flips a flag. */
    static final class Resource {
        final int id;
        /** 1 once closed; plain on purpose (see {@link ProtectVsRetireTest}). */
        int closed;

        Resource(int id) {
            this.id = id;
        }

        void close() {
            closed = 1;
        }
    }
}
