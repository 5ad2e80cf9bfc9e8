package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * {@link Reclaimer#pendingBound()} holds where reclaim actions retire: an action that frees a node of a tree by retiring
 * its two children fills bags inside the collection running it, and no collection starts inside an action, so those
 * bags wait in the sealed store for a later collection. One thread, no guard ever open, every read between two
 * operations: the counts are exact, and pending must never pass the bound.
 */
class PendingBoundWithActionsThatRetireTest {
    /** Levels of the tree: 2^LEVELS - 1 nodes. */
    private static final int LEVELS = 14;

    private record Node(int id, int level) {}

    @ParameterizedTest
    @CsvSource({"hp,FENCE", "hp,ASYMMETRIC", "hyaline,FENCE", "hyaline,ASYMMETRIC", "crystalline,FENCE",
            "crystalline,ASYMMETRIC", "crystalline-w,FENCE", "crystalline-w,ASYMMETRIC"})
    void pendingStaysWithinTheBoundWhileActionsRetireATree(String name, Options.Barrier barrier) {
        org.junit.jupiter.api.Assumptions.assumeTrue(barrier == Options.Barrier.FENCE || Membarrier.unavailableReason() == null,
                "membarrier is unavailable here");
        int nodes = (1 << LEVELS) - 1;
        int plain = 4 * Core.HEAVY_AMORTIZED;
        AtomicIntegerArray runs = new AtomicIntegerArray(nodes + plain);
        try (Reclaimer r = Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(barrier))) {
            AtomicLong nextId = new AtomicLong(1);
            r.retire(new Node(0, 1), new Free(r, runs, nextId)); // the root; each action retires the node's two children
            long most = 0;
            for (int i = 0; i < plain; i++) {
                r.retire(new Node(nodes + i, 0), n -> runs.incrementAndGet(n.id()));
                long pending = r.stats().pending();
                long bound = r.pendingBound();
                most = Math.max(most, pending);
                assertTrue(pending <= bound, name + " " + barrier + ": pending " + pending + " above the bound " + bound
                        + " after " + (i + 1) + " plain retires (" + r.stats() + ")");
            }
            assertTrue(most > 2L * ReclaimerHandle.coreOf(r).batchSize(), name + ": pending peaked at " + most
                    + ": the test proves nothing");
            for (int i = 0; i < 2 * LEVELS && r.stats().pending() > 0; i++) r.flush(); // a level a flush at least
            assertEquals(nodes + plain, r.stats().reclaimed(), name + " " + barrier + ": " + r.stats());
        }
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), name + " " + barrier + ": object " + i);
    }

    /** A node's action: counts its run, then frees the node's children by retiring them. */
    private record Free(Reclaimer r, AtomicIntegerArray runs, AtomicLong nextId) implements Consumer<Node> {
        @Override
        public void accept(Node n) {
            runs.incrementAndGet(n.id());
            if (n.level() < LEVELS) {
                for (int c = 0; c < 2; c++) r.retire(new Node((int) nextId.getAndIncrement(), n.level() + 1), this);
            }
        }
    }
}
