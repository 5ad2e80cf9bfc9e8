package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.tck.Fixtures.Node;

/**
 * Progress: with no guard open, {@code flush()} reclaims everything retired before it, also what threads that
 * have ended retired; without {@code flush()}, reclamation keeps up with a steady retirer. The leak baseline,
 * which reclaims only at {@code close()}, skips these.
 */
interface ProgressConformance extends SchemeUnderTest {

    /** With no guard open, flush() reclaims everything retired before it. */
    @Test
    default void flushReclaimsEverythingWhenNoGuardIsOpen() {
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only at close");
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 1000; i++) reclaimer().retire(i, x -> ran.incrementAndGet());
        reclaimer().flush();
        assertEquals(1000, ran.get());
        assertEquals(0, reclaimer().stats().pending());
    }

    /** Without flush(), pending objects stay bounded: reclamation keeps up with a steady retirer. */
    @Test
    default void pendingStaysBoundedWithoutFlush() {
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only at close");
        assumeFalse(actionsHandedOff(), "pending counts the action executor's queue too");
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        long maxPending = 0;
        int n = 200_000;
        for (int i = 1; i <= n; i++) {
            try (Guard g = reclaimer().enter()) {
                Node old = g.protect(head);
                head.set(new Node(i));
                g.retire(old, Node::reclaim);
            }
            if ((i & 1023) == 0) maxPending = Math.max(maxPending, reclaimer().stats().pending());
        }
        assertTrue(maxPending < n / 20, "pending reached " + maxPending + " of " + n + " retired");
    }

    /**
     * A flush on one thread reclaims what threads that ended had retired (their partial batches too).
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void flushReclaimsWhatEndedThreadsRetired() throws Exception {
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only at close");
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            ts.add(start("short-lived-" + t, () -> {
                for (int i = 0; i < 5; i++) reclaimer().retire(i, x -> ran.incrementAndGet());
            }, errors));
        }
        join(ts);
        assertNoErrors(errors);
        reclaimer().flush();
        assertEquals(20, ran.get());
    }
}
