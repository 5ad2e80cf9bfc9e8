package reclaim.collections.lincheck;

import java.util.ArrayDeque;
import java.util.List;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import reclaim.collections.NodeLives;
import reclaim.collections.RecyclingQueue;

/**
 * {@link RecyclingQueue} is linearizable under every scheme, with its nodes recycled (see {@link Lincheck}),
 * through its per-operation API and through {@link RecyclingQueue.Pinned} views.
 */
@Tag("lincheck")
class QueueLincheckTest extends EverySchemeLincheck {

    QueueLincheckTest() {
        super(Tested.class, Spec.class);
    }

    /**
     * The race a random scenario rarely hits: a size() that read head before a poll and the tail's
     * successor after an offer counted an element twice (the queue held 1, 0, 1 elements; size() said 2)
     * until it checked that head and tail held still around its read.
     */
    @Test
    void sizeIsLinearizableWhenAPollAndAnOfferOverlapIt() {
        Lincheck.checkScenario(Tested.class, Spec.class, "hp",
                List.of(Lincheck.actor(Tested.class, "offer", 1)),
                List.of(List.of(Lincheck.actor(Tested.class, "size")),
                        List.of(Lincheck.actor(Tested.class, "poll"), Lincheck.actor(Tested.class, "offer", 2))),
                100);
    }

    /** The queue over a fresh reclaimer, as Lincheck drives it. */
    @Param(name = "element", gen = IntGen.class, conf = "1:3")
    public static final class Tested extends Lincheck.Reclaimed {
        private final RecyclingQueue<Integer> queue = new RecyclingQueue<>(reclaimer, Lincheck.POOL);

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

        /** Reads the first node in a guard and checks that it keeps its life until the guard closes (always true). */
        @Operation
        public boolean headKeepsItsLife() {
            return NodeLives.queueHeadKeepsItsLife(queue);
        }

        /** An offer through a view, after a read in the same view (see {@link Lincheck}). */
        @Operation
        public boolean pinnedOffer(@Param(name = "element") int e) {
            try (RecyclingQueue.Pinned<Integer> q = queue.pin()) {
                q.peek();
                return q.offer(e);
            }
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

    /** The sequential specification. */
    public static final class Spec extends Lincheck.Sequential {
        private final ArrayDeque<Integer> queue = new ArrayDeque<>();

        /** Creates an empty queue. */
        public Spec() {
        }

        public boolean offer(int e) {
            return queue.offer(e);
        }

        public Integer poll() {
            return queue.poll();
        }

        public Integer peek() {
            return queue.peek();
        }

        public int size() {
            return queue.size();
        }

        public boolean isEmpty() {
            return queue.isEmpty();
        }

        public boolean pinnedOffer(int e) {
            return offer(e);
        }

        public boolean headKeepsItsLife() {
            return true;
        }

        public Integer pinnedPoll() {
            return poll();
        }
    }
}
