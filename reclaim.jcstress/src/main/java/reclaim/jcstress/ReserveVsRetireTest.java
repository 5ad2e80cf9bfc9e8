package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicLong;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;

/**
 * The core race of {@link Guard#reserve}: a reader reserves a {@code long} key (as an off-heap structure
 * reserves a block's address) while a writer unlinks the block, retires it and asks for reclamation at once.
 *
 * <pre>
 *   reader                                  writer
 *   g = enter()                             cell.set(KEY_B)          // unlink A
 *   k = cell; while (!g.reserve(k, 0))      retire(A, a.freed = 1)   // A is Keyed by KEY_A
 *       k = cell                            flush()
 *   r1 = id of k; r2 = block(k).freed       // plain read, last thing in the guard
 *   g.close()
 * </pre>
 *
 * If the reader settled on A's key, A's action must not have run before its guard closes: hazard pointers
 * keep A only because its key is in a key slot (the scanner matches the retired {@link Keyed} object against
 * the keys), robust Hyaline and Crystalline because the reserved era covers A's birth, EBR and QSBR because
 * the guard is open. The read of {@code freed} is plain for the reason given in {@link ProtectVsRetireTest}.
 *
 * <p>Reproduce (from the repository root): {@code ./reclaim jcstress quick -t ReserveVsRetireTest}.
 */
@JCStressTest
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "Reader reserved A's key before the unlink; A was live until its guard closed.")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "Reader reserved B's key, the replacement.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "Use after free: A was reclaimed while the guard that reserved its key was open.")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "B was reclaimed though it was never retired.")
@State
public class ReserveVsRetireTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create();
    private static final long KEY_A = 0x1000;
    private static final long KEY_B = 0x2000;

    private final Block a = new Block(1, KEY_A, RECLAIMER.era());
    private final Block b = new Block(2, KEY_B, RECLAIMER.era());
    private final AtomicLong cell = new AtomicLong(KEY_A);

    /** Creates a state: {@code cell} holds A's key; B waits to replace it. */
    public ReserveVsRetireTest() {}

    /**
     * Reserves whatever key {@code cell} holds and reports which block it was and whether it was freed.
     *
     * @param r the block's id and its {@code freed} flag as read at the end of the guard
     */
    @Actor
    public void reader(II_Result r) {
        try (Guard g = RECLAIMER.enter()) {
            long k = cell.get(); // volatile, as reserve requires
            while (!g.reserve(k, 0)) k = cell.get();
            Block n = k == KEY_A ? a : b;
            r.r1 = n.id;
            r.r2 = n.freed;
        }
    }

    /** Unlinks A, retires it and flushes. */
    @Actor
    public void writer() {
        cell.set(KEY_B);
        RECLAIMER.retire(a, Block::free);
        RECLAIMER.flush();
    }

    /** A block known by its key, born in the era of the state's creation; its action marks it freed. */
    static final class Block implements Keyed, Born {
        final int id;
        final long key;
        final long birth;
        /** 1 once the reclaim action ran; plain on purpose. */
        int freed;

        Block(int id, long key, long birth) {
            this.id = id;
            this.key = key;
            this.birth = birth;
        }

        @Override
        public long key() {
            return key;
        }

        @Override
        public long birthEra() {
            return birth;
        }

        void free() {
            freed = 1;
        }
    }
}
