package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * Hyaline's and Crystalline's last-reference race: a reader leaves its guard (detaching a list that may
 * hold a link of the batch and decrementing its count) while the retirer inserts the batch into the active
 * reservations and adds the number of links it inserted (two actors: {@code -c 2} runs no test with three).
 * Exactly one of the two brings the count to zero and reclaims: the action must never run twice. The reclaimer uses batches of one object, so every
 * retire is an insertion racing the leaves. The scheme comes from {@code -Dreclaim.scheme}; under the other
 * schemes the same outcome is forbidden for their own reasons.
 *
 * <p>The reclaimer is shared by all states (one per state would pin a thread-local per state and thread), so
 * when the arbiter's flush runs another state's guard may be open and the action may not have run yet:
 * {@code 0} is acceptable; {@code 2} or more is the bug.
 *
 * <p>Reproduce: {@code ./reclaim jcstress quick -t LastReferenceFrees}.
 */
@JCStressTest
@Outcome(id = "1", expect = ACCEPTABLE, desc = "Reclaimed exactly once, by whoever dropped the last reference.")
@Outcome(id = "0", expect = ACCEPTABLE_INTERESTING, desc = "Not yet reclaimed: another state's guard was open at the flush.")
@Outcome(id = "[2-9]", expect = FORBIDDEN, desc = "The action ran twice: two threads both saw the count reach zero.")
@State
public class LastReferenceFreesTest {
    private static final Reclaimer RECLAIMER = Reclaimer.create(Schemes.batchesOf(1));

    private final AtomicReference<Object> ref = new AtomicReference<>(new Object());
    private final AtomicInteger runs = new AtomicInteger();

    /** Creates a state. */
    public LastReferenceFreesTest() {}

    /** A reader whose guard may overlap the retire. */
    @Actor
    public void reader1() {
        try (Guard g = RECLAIMER.enter()) {
            g.protect(ref);
        }
    }

    /** Unlinks and retires the object: a batch of one, inserted at once. */
    @Actor
    public void retirer() {
        Object old = ref.getAndSet(new Object());
        RECLAIMER.retire(old, o -> runs.incrementAndGet());
    }

    /**
     * Flushes and reports how often the action ran.
     *
     * @param r runs of the action
     */
    @Arbiter
    public void arbiter(I_Result r) {
        RECLAIMER.flush();
        r.r1 = runs.get();
    }
}
