package reclaim.collections.lincheck;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import reclaim.collections.RecyclingQueue;

/**
 * The GC twin of {@link RecyclingQueue} ({@link RecyclingQueue#gcTwin()}) is linearizable: the same algorithm,
 * with dequeued nodes dropped and linked to themselves, which the readers must step over.
 */
@Tag("lincheck")
class QueueTwinLincheckTest {

    @Test
    void linearizableUnderModelChecking() {
        Lincheck.check(Tested.class, QueueLincheckTest.Spec.class, "gc", Lincheck.Mode.MODEL_CHECKING);
    }

    @Test
    void linearizableUnderStress() {
        Lincheck.check(Tested.class, QueueLincheckTest.Spec.class, "gc", Lincheck.Mode.STRESS);
    }

    /** The twin, as Lincheck drives it. */
    @Param(name = "element", gen = IntGen.class, conf = "1:3")
    public static final class Tested {
        private final RecyclingQueue<Integer> queue = RecyclingQueue.gcTwin();

        /** Creates the queue. */
        public Tested() {
        }

        @Operation
        public boolean offer(@Param(name = "element") int e) {
            return queue.offer(e);
        }

        @Operation
        public Integer poll() {
            return queue.poll();
        }

        @Operation
        public Integer peek() {
            return queue.peek();
        }

        @Operation
        public int size() {
            return queue.size();
        }

        @Operation
        public boolean isEmpty() {
            return queue.isEmpty();
        }

        /** A poll through a view, after a read in the same view. */
        @Operation
        public Integer pinnedPoll() {
            try (RecyclingQueue.Pinned<Integer> q = queue.pin()) {
                q.isEmpty();
                return q.poll();
            }
        }
    }
}
