package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.awaitCondition;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;
import static reclaim.tck.Fixtures.startVirtual;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.tck.Fixtures.Node;

/**
 * {@code Guard.refresh()}: the outermost guard leaves and enters again without closing, so that a reader that stays
 * inside one guard for a long walk holds nobody back (under EBR and QSBR) and keeps nothing retired meanwhile; what
 * it protected before is not protected after. A nested guard's refresh changes nothing.
 */
interface RefreshConformance extends SchemeUnderTest {

    /** A refreshed outermost guard stays open on the same object: it protects, nests and closes as before. */
    @Test
    default void refreshKeepsTheOutermostGuardOpenAndUsable() {
        AtomicReference<Node> head = new AtomicReference<>(new Node(1));
        Guard g = reclaimer().enter();
        assertEquals(1, g.protect(head).value);
        assertTrue(g.refresh(), "the outermost guard did not refresh");
        assertEquals(1, g.protect(head).value, "protect after a refresh");
        assertEquals(1, g.protect(head, 0).value, "protect into a slot after a refresh");
        try (Guard inner = reclaimer().enter()) {
            assertEquals(1, inner.protect(head, 1).value);
        }
        assertTrue(g.refresh(), "a second refresh");
        g.close();
        assertThrows(IllegalStateException.class, g::close, "the refreshed guard closed twice");
        assertThrows(IllegalStateException.class, g::refresh, "refresh() of a closed guard");
    }

    /**
     * Inside a nested guard refresh() returns false and changes nothing: the enclosing guard still protects what it
     * read, through a flush.
     */
    @Test
    default void refreshInsideANestedGuardKeepsWhatTheEnclosingGuardProtects() {
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        try (Guard outer = reclaimer().enter()) {
            Node n = outer.protect(head);
            head.set(new Node(2));
            outer.retire(n, Node::reclaim);
            try (Guard inner = reclaimer().enter()) {
                assertFalse(inner.refresh(), "a nested guard refreshed");
                inner.protect(head, 0);
            }
            reclaimer().flush();
            assertFalse(a.reclaimed, "reclaimed while the enclosing guard still protected it");
        }
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertTrue(a.reclaimed, "not reclaimed once the guard closed");
        }
    }

    /**
     * An object retired inside a guard that stays open is reclaimed after a few refreshes and flushes on the same
     * thread: a refresh lets reclamation pass the guard, as closing it would. With an action executor a flush inside
     * the guard runs the handed-off batch itself only if the executor has not started it, and does not wait for it
     * otherwise ({@code Reclaimer.flush()}): the action then ends on the executor, the guard still open and refreshed
     * no more.
     *
     * @throws InterruptedException if the wait for the executor is interrupted
     */
    @Test
    default void refreshLetsReclamationPassAGuardThatStaysOpen() throws InterruptedException {
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only at close");
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        CountDownLatch reclaimed = new CountDownLatch(1);
        try (Guard g = reclaimer().enter()) {
            Node n = g.protect(head);
            head.set(new Node(2));
            g.retire(n, x -> {
                x.reclaim();
                reclaimed.countDown();
            });
            int rounds = 0;
            while (!a.reclaimed && rounds < 10) {
                assertTrue(g.refresh());
                reclaimer().flush();
                rounds++;
            }
            if (actionsHandedOff() && !a.reclaimed) {
                // The executor claimed the batch before a flush could run it: that flush returned without waiting.
                assertTrue(reclaimed.await(60, TimeUnit.SECONDS), "still not reclaimed after " + rounds
                        + " refreshes and flushes inside the guard, nor by the executor while the guard stayed open");
            }
            assertTrue(a.reclaimed, "still not reclaimed after " + rounds + " refreshes and flushes inside the guard");
            assertEquals(2, g.protect(head).value, "the guard still reads after the refreshes");
        }
    }

    /**
     * A platform-thread reader that stays inside one guard and refreshes it every few steps, while a writer swaps and
     * retires: pending objects stay bounded (under EBR and QSBR too), and no node is reclaimed between the reader's
     * protect and the refresh after it.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aReaderThatRefreshesKeepsPendingBoundedWhileAWriterChurns() throws Exception {
        refreshingReaderUnderChurn(ReaderKind.PLATFORM);
    }

    /**
     * As {@link #aReaderThatRefreshesKeepsPendingBoundedWhileAWriterChurns()}, for a registered reader (under QSBR a
     * refresh is its quiescent state).
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aRegisteredReaderThatRefreshesKeepsPendingBounded() throws Exception {
        refreshingReaderUnderChurn(ReaderKind.REGISTERED);
    }

    /**
     * As {@link #aReaderThatRefreshesKeepsPendingBoundedWhileAWriterChurns()}, for a reader on a virtual thread.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aVirtualThreadReaderThatRefreshesKeepsPendingBounded() throws Exception {
        refreshingReaderUnderChurn(ReaderKind.VIRTUAL);
    }

    /**
     * refresh() from another thread than the guard's is refused, and leaves the guard working.
     *
     * @throws Exception if a join or a thread of the test fails
     */
    @Test
    default void refreshFromAnotherThreadIsRefused() throws Exception {
        AtomicReference<Node> head = new AtomicReference<>(new Node(1));
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        try (Guard g = reclaimer().enter()) {
            join(List.of(start("other", () -> assertThrows(IllegalStateException.class, g::refresh), errors)));
            assertEquals(1, g.protect(head).value);
        }
        assertNoErrors(errors);
    }

    /**
     * An owned guard refreshes too, on the thread that holds it now: an object retired while it was open is then
     * reclaimed by a few flushes, and the guard still reads and closes as before.
     *
     * @throws Exception if a join or a thread of the test fails
     */
    @Test
    default void anOwnedGuardRefreshesOnTheThreadThatHoldsIt() throws Exception {
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        OwnedGuard og = reclaimer().enterOwned();
        assertEquals(1, og.protect(head).value);
        head.set(new Node(2));
        reclaimer().retire(a, Node::reclaim);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        join(List.of(start("owned-holder", () -> {
            int rounds = 0;
            do {
                assertTrue(og.refresh(), "the owned guard did not refresh");
                reclaimer().flush();
            } while (reclaimsEarly() && !a.reclaimed && ++rounds < 10);
            if (reclaimsEarly()) assertTrue(a.reclaimed, "still not reclaimed after refreshes of the owned guard");
            assertEquals(2, og.protect(head).value, "the owned guard reads after its refreshes");
            og.close();
            assertThrows(IllegalStateException.class, og::refresh, "refresh() of a closed owned guard");
        }, errors)));
        assertNoErrors(errors);
    }

    /** How the churn test's reader enters. */
    enum ReaderKind { PLATFORM, REGISTERED, VIRTUAL }

    /**
     * The reader keeps one guard and refreshes every 16 reads; the writer makes rounds of swaps and, after each,
     * waits until the reader has refreshed twice more (a bounded wait, so that a descheduled reader cannot make the
     * test depend on timing). A bag sealed in one round is then due within the next two, so pending stays within a
     * few rounds' retires; without the refreshes, EBR and QSBR would keep all of them.
     */
    private void refreshingReaderUnderChurn(ReaderKind kind) throws Exception {
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only at close");
        assumeFalse(actionsHandedOff(), "pending counts the action executor's queue too");
        Reclaimer r = reclaimer();
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        AtomicLong refreshes = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch inside = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Fixtures.ThrowingRunnable body = () -> {
            Registration reg = kind == ReaderKind.REGISTERED ? r.register() : null;
            try (Guard g = reg != null ? reg.enter() : r.enter()) {
                inside.countDown();
                long steps = 0;
                while (!stop.get()) {
                    Node n = g.protect(head);
                    assertFalse(n.reclaimed, "a node was reclaimed while the reader protected it");
                    if (++steps % 16 == 0) {
                        assertTrue(g.refresh(), "the reader's outermost guard did not refresh");
                        refreshes.incrementAndGet();
                    }
                }
            } finally {
                if (reg != null) reg.close();
            }
        };
        Thread reader = kind == ReaderKind.VIRTUAL ? startVirtual("refreshing-reader", body, errors)
                : start("refreshing-reader", body, errors);
        int rounds = 50;
        int perRound = 2_000;
        long maxPending = 0;
        try {
            assertTrue(inside.await(60, TimeUnit.SECONDS), "the reader did not enter");
            long value = 0;
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < perRound; i++) {
                    try (Guard g = r.enter()) {
                        Node old = g.protect(head);
                        head.set(new Node(++value));
                        g.retire(old, Node::reclaim);
                    }
                    if ((i & 127) == 0) maxPending = Math.max(maxPending, r.stats().pending());
                }
                long target = refreshes.get() + 2;
                awaitCondition("two more refreshes of the reader", () -> refreshes.get() >= target, errors);
            }
        } finally {
            stop.set(true);
        }
        join(List.of(reader));
        assertNoErrors(errors);
        int retires = rounds * perRound;
        assertTrue(maxPending < 5L * perRound, "pending reached " + maxPending + " of " + retires
                + " retires although the reader refreshed its guard at least twice every " + perRound + " retires");
    }
}
