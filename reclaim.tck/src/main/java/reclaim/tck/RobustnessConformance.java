package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.tck.Fixtures.Node;

/**
 * Robustness: a robust scheme keeps pending objects under the bound it states while a reader stalls inside a
 * guard; a scheme that cannot bound garbage reports the stalled reader instead.
 */
interface RobustnessConformance extends SchemeUnderTest {

    /**
     * A robust scheme keeps pending objects under its stated bound while a reader is stalled inside a guard,
     * over many retires, and never reclaims what the stalled reader holds. The nodes are {@link Born} (stamped
     * with {@link Reclaimer#era()}): era-based schemes promise the bound only for those.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aStalledReaderKeepsPendingUnderTheStatedBound() throws Exception {
        assumeTrue(reclaimer().scheme().robust(), "not a robust scheme: it reports stalls instead");
        assumeFalse(actionsHandedOff(), "pending counts the action executor's queue too");
        Node held = new Node(-1, reclaimer().era());
        AtomicReference<Node> head = new AtomicReference<>(held);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("stalled-reader", () -> {
            try (Guard g = reclaimer().enter()) {
                Node n = g.protect(head);
                inside.countDown();
                assertTrue(release.await(100, TimeUnit.SECONDS));
                assertFalse(n.reclaimed, "the stalled reader's node was reclaimed under it");
            }
        }, errors);
        assertTrue(inside.await(60, TimeUnit.SECONDS));
        int retires = 100_000 * scaleFactor();
        long maxPending = 0;
        long maxBound = 0;
        for (int i = 1; i <= retires; i++) {
            Node old = head.getAndSet(new Node(i, reclaimer().era()));
            reclaimer().retire(old, Node::reclaim);
            if ((i & 255) == 0) {
                long pending = reclaimer().stats().pending();
                long bound = reclaimer().pendingBound();
                assertTrue(pending <= bound, "pending " + pending + " above the stated bound " + bound + " after " + i + " retires");
                maxPending = Math.max(maxPending, pending);
                maxBound = Math.max(maxBound, bound);
            }
        }
        assertTrue(maxBound < retires / 10, "a bound of " + maxBound + " for " + retires + " retires bounds nothing");
        assertFalse(held.reclaimed, "the stalled reader's node was reclaimed under it");
        release.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        reclaimer().flush();
        assertTrue(held.reclaimed, "not reclaimed once the stalled reader left");
        assertEquals(0, reclaimer().stats().pending());
        assertTrue(maxPending > 0);
    }

    /**
     * A scheme that cannot bound garbage detects a stalled reader and reports it in Stats.stalled().
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aStalledReaderIsReportedBySchemesThatCannotBoundGarbage() throws Exception {
        assumeTrue(!reclaimer().scheme().robust() && reclaimsEarly(), "robust schemes bound garbage instead");
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("stalled-reader", () -> {
            try (Guard g = reclaimer().enter()) {
                g.protect(head);
                inside.countDown();
                assertTrue(release.await(100, TimeUnit.SECONDS));
            }
        }, errors);
        assertTrue(inside.await(60, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int stalled = 0;
        int i = 0;
        // The stall threshold is a duration: retire and flush until it has passed (polled, bounded).
        while (stalled == 0 && System.nanoTime() < deadline) {
            Node old = head.getAndSet(new Node(++i));
            reclaimer().retire(old, Node::reclaim);
            reclaimer().flush();
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            stalled = reclaimer().stats().stalled();
        }
        assertEquals(1, stalled, "the stalled reader was not reported");
        release.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        reclaimer().flush();
        assertEquals(0, reclaimer().stats().stalled());
        assertEquals(0, reclaimer().stats().pending());
    }
}
