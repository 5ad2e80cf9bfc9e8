package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import reclaim.api.Atom;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The {@link Atom} swap-and-close race: a reader loads the current resource under a guard while a writer
 * stores a new one (which retires the old one with the cell's close action) and flushes.
 *
 * <pre>
 *   reader                                   writer
 *   g = enter()                              atom.store(R2)   // retires R1: close once no reader holds it
 *   v = atom.load(g)       // R1 or R2       flush()
 *   r1 = v.id
 *   r2 = v.closed          // plain read, last thing in the guard
 *   g.close()
 * </pre>
 *
 * A reader that loaded R1 must find it open until its guard closes: {@code 1, 1} is the bug that Lucene's
 * swap-and-close and every hot-swapped native handle must never hit. As in {@link ProtectVsRetireTest}, the
 * forbidden outcome relies only on the guard's happens-before edge to the reclaim action, which is why the
 * flag is read with plain semantics.
 *
 * <p>Reproduce (from the repository root):
 * <pre>{@code
 * mvn -B -pl reclaim.jcstress package
 * .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t AtomLoadVsStoreTest
 * }</pre>
 */
@JCStressTest
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "Reader loaded R1 before the store; R1 stayed open until its guard closed.")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "Reader loaded R2, the new resource.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "Use after close: R1 was closed while the guard that loaded it was open.")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "R2 was closed though it is still the cell's value.")
@State
public class AtomLoadVsStoreTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create();

    private final Atom<Resource> atom = new Atom<>(RECLAIMER, new Resource(1), Resource::close);

    /** Creates a state: a cell holding R1. */
    public AtomLoadVsStoreTest() {}

    /**
     * Loads the current resource and reports which one it was and whether it was closed.
     *
     * @param r the resource's id and its {@code closed} flag as read at the end of the guard
     */
    @Actor
    public void reader(II_Result r) {
        try (Guard g = RECLAIMER.enter()) {
            Resource v = atom.load(g);
            r.r1 = v.id;
            r.r2 = v.closed;
        }
    }

    /** Stores R2 (retiring R1) and flushes. */
    @Actor
    public void writer() {
        atom.store(new Resource(2));
        RECLAIMER.flush();
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
