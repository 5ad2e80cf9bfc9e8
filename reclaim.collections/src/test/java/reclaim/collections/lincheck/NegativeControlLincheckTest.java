package reclaim.collections.lincheck;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.LincheckAssertionError;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import reclaim.collections.EagerReclaimer;
import reclaim.collections.RecyclingListSet;

/**
 * The proof that the Lincheck tests are looking: with the configuration they use, Lincheck rejects a
 * structure that is not linearizable. Two controls: a counter whose increment is a check-then-act race,
 * and the real {@link RecyclingListSet} over a reclaimer that recycles a node as soon as it is retired,
 * whatever guards are open ({@link EagerReclaimer}), whose traversals then read nodes in their next life.
 */
@Tag("lincheck")
class NegativeControlLincheckTest {

    @Test
    void modelCheckingRejectsACheckThenActCounter() {
        LincheckAssertionError e = assertThrows(LincheckAssertionError.class,
                () -> Lincheck.check(RacyCounter.class, CounterSpec.class, "none", Lincheck.Mode.MODEL_CHECKING),
                "Lincheck accepted a counter whose increment is a read and a separate write");
        assertTrue(e.getMessage().contains("Invalid execution results"), e::getMessage);
    }

    @Test
    void modelCheckingRejectsASetWhoseNodesAreRecycledUnderItsReaders() {
        LincheckAssertionError e = assertThrows(LincheckAssertionError.class,
                () -> Lincheck.check(UnguardedSet.class, ListSetLincheckTest.Spec.class, "none",
                        Lincheck.Mode.MODEL_CHECKING),
                "Lincheck accepted a set whose removed nodes are reused while other threads still traverse them");
        assertTrue(e.getMessage().contains("Invalid execution results"), e::getMessage);
    }

    /** Not linearizable: two increments can read the same value and both write its successor. */
    public static final class RacyCounter {
        private final AtomicInteger value = new AtomicInteger();

        /** Creates a counter at zero. */
        public RacyCounter() {
        }

        @Operation
        public int getAndIncrement() {
            int v = value.get();
            value.set(v + 1); // the race: not a CAS
            return v;
        }

        @Operation
        public int get() {
            return value.get();
        }
    }

    /** The counter's specification. */
    public static final class CounterSpec {
        private int value;

        /** Creates a counter at zero. */
        public CounterSpec() {
        }

        public int getAndIncrement() {
            return value++;
        }

        public int get() {
            return value;
        }
    }

    /**
     * The set, over a reclaimer that ignores guards; its specification is {@link ListSetLincheckTest.Spec} (whose
     * view and flush operations it does not offer).
     */
    @Param(name = "element", gen = IntGen.class, conf = "1:4")
    public static final class UnguardedSet {
        private final RecyclingListSet<Integer> set = new RecyclingListSet<>(new EagerReclaimer(), Lincheck.POOL);

        /** Creates the set. */
        public UnguardedSet() {
        }

        @Operation
        public boolean add(@Param(name = "element") int e) {
            return set.add(e);
        }

        @Operation
        public boolean remove(@Param(name = "element") int e) {
            return set.remove(e);
        }

        @Operation
        public boolean contains(@Param(name = "element") int e) {
            return set.contains(e);
        }
    }
}
