package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.reserve;
import static reclaim.tck.Fixtures.start;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Stats;
import reclaim.tck.Fixtures.Holder;
import reclaim.tck.Fixtures.KeyedNode;
import reclaim.tck.Fixtures.Node;

/**
 * Safety: a reclaim action never runs on an object that a guard still open protected, whether the guard
 * protected it by reference ({@code protect}), by field ({@code protect} through a VarHandle) or by key
 * ({@code reserve}); nested guards keep the outer guard's protection until the outermost one closes, and an
 * object retired inside the guard that reads it outlives that guard.
 */
interface SafetyConformance extends SchemeUnderTest {

    /**
     * A reclaim action never runs on an object that a guard still open protected, in the simplest race.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void retiredObjectIsNotReclaimedWhileAGuardProtectsIt() throws Exception {
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        CountDownLatch protectedIt = new CountDownLatch(1);
        CountDownLatch retired = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("reader", () -> {
            try (Guard g = reclaimer().enter()) {
                Node n = g.protect(head);
                assertSame(a, n);
                protectedIt.countDown();
                assertTrue(retired.await(60, TimeUnit.SECONDS));
                assertFalse(n.reclaimed, "reclaimed while a guard protected it");
            }
        }, errors);
        assertTrue(protectedIt.await(60, TimeUnit.SECONDS));
        head.set(new Node(2));
        reclaimer().retire(a, Node::reclaim);
        for (int i = 0; i < 100; i++) reclaimer().flush();
        assertFalse(a.reclaimed, "reclaimed while a guard protected it");
        retired.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertTrue(a.reclaimed, "not reclaimed by flush() once the guard closed");
        }
        reclaimer().close();
        assertEquals(1, a.actions.get());
    }

    /**
     * Concurrent push/pop on a Treiber stack with hand-over-hand readers: no reader ever sees a node whose
     * action ran while its guard was open, and every popped node is reclaimed exactly once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void concurrentPushPopWithReadersNeverSeesAReclaimedNode() throws Exception {
        int writers = 2;
        int readers = 2;
        int opsPerWriter = 50_000 * scaleFactor();
        AtomicReference<Node> head = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        AtomicLong popped = new AtomicLong();
        AtomicLong pushed = new AtomicLong();
        ConcurrentLinkedQueue<Node> all = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CyclicBarrier start = new CyclicBarrier(writers + readers);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int id = w;
            threads.add(start("writer-" + w, () -> {
                start.await();
                for (int i = 0; i < opsPerWriter; i++) {
                    if ((i & 1) == 0 || i % 7 == 0) {
                        Node n = new Node(((long) id << 32) | i);
                        all.add(n);
                        try (Guard g = reclaimer().enter()) {
                            Node h;
                            do {
                                h = g.protect(head, 0);
                                n.next.set(h);
                            } while (!head.compareAndSet(h, n));
                        }
                        pushed.incrementAndGet();
                    } else {
                        try (Guard g = reclaimer().enter()) {
                            Node h;
                            while (true) {
                                h = g.protect(head, 0);
                                if (h == null) break;
                                Node next = g.protect(h.next, 1);
                                // h still the head: next is still in the stack, so it was protected in time
                                if (head.get() != h) continue;
                                if (h.reclaimed || (next != null && next.reclaimed)) violations.incrementAndGet();
                                if (head.compareAndSet(h, next)) break;
                            }
                            if (h != null) {
                                g.retire(h, Node::reclaim);
                                popped.incrementAndGet();
                            }
                        }
                    }
                }
            }, errors));
        }
        for (int r = 0; r < readers; r++) {
            threads.add(start("reader-" + r, () -> {
                start.await();
                while (!done.get()) {
                    try (Guard g = reclaimer().enter()) {
                        // A Treiber stack marks no popped node, so a reader may follow a link only while its
                        // source is still the head (then the target is still in the stack): two levels deep.
                        Node a = g.protect(head, 0);
                        if (a == null) continue;
                        Node b = g.protect(a.next, 1);
                        if (head.get() != a) continue;
                        Thread.onSpinWait();
                        if (a.reclaimed || (b != null && b.reclaimed)) violations.incrementAndGet();
                    }
                }
            }, errors));
        }
        for (int i = 0; i < writers; i++) threads.get(i).join(TimeUnit.SECONDS.toMillis(100));
        done.set(true);
        join(threads);
        assertNoErrors(errors);
        assertEquals(0, violations.get(), "readers saw nodes reclaimed while protected");
        reclaimer().close();
        Stats s = reclaimer().stats();
        assertEquals(popped.get(), s.retired());
        assertEquals(s.retired(), s.reclaimed());
        assertEquals(0, s.pending());
        long reclaimedNodes = 0;
        for (Node n : all) {
            assertTrue(n.actions.get() <= 1, "a node was reclaimed twice");
            reclaimedNodes += n.actions.get();
        }
        assertEquals(popped.get(), reclaimedNodes);
        assertEquals(pushed.get(), all.size());
    }

    /**
     * A retired {@link Keyed} object whose key a guard reserved is not reclaimed until that guard closes.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aReservedKeyIsNotReclaimedWhileTheGuardHoldsIt() throws Exception {
        reservedKeyOutlivesItsRetire(false);
    }

    /**
     * Reserving {@code 0} in a slot releases nothing: the key the slot held before stays protected (as a
     * {@code NativeMemory.load} that reads a null link in the slot it stands on keeps the block it loaded).
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void reservingZeroKeepsTheKeyTheSlotHeld() throws Exception {
        reservedKeyOutlivesItsRetire(true);
    }

    /**
     * A reader reserves a key in slot 1 (then, if {@code thenZero}, reserves {@code 0} in the same slot); another
     * thread unlinks, retires and flushes it; it is not reclaimed before the reader's guard closes, once after.
     */
    private void reservedKeyOutlivesItsRetire(boolean thenZero) throws Exception {
        KeyedNode a = new KeyedNode(0x7f00_0000_1000L, reclaimer().era());
        AtomicLong cell = new AtomicLong(a.key);
        CountDownLatch reserved = new CountDownLatch(1);
        CountDownLatch retired = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("reader", () -> {
            try (Guard g = reclaimer().enter()) {
                assertEquals(a.key, reserve(g, cell, 1));
                if (thenZero) assertTrue(g.reserve(0, 1), "reserving 0 needs no re-read");
                reserved.countDown();
                assertTrue(retired.await(60, TimeUnit.SECONDS));
                assertFalse(a.reclaimed, "reclaimed while a guard reserved its key");
            }
        }, errors);
        assertTrue(reserved.await(60, TimeUnit.SECONDS));
        KeyedNode b = new KeyedNode(0x7f00_0000_2000L, reclaimer().era());
        cell.set(b.key);
        reclaimer().retire(a, KeyedNode::reclaim);
        for (int i = 0; i < 100; i++) reclaimer().flush();
        assertFalse(a.reclaimed, "reclaimed while a guard reserved its key");
        retired.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertTrue(a.reclaimed, "not reclaimed by flush() once the guard closed");
        }
        reclaimer().close();
        assertEquals(1, a.actions.get());
    }

    /**
     * A Treiber stack whose links are keys (as an off-heap stack's links are addresses): writers push and pop,
     * readers walk two levels with {@link Guard#reserve}; no reader ever sees a node whose action ran while its
     * key was reserved, and every popped node is reclaimed exactly once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void concurrentKeyedStackNeverSeesAReclaimedNode() throws Exception {
        int writers = 2;
        int readers = 2;
        int opsPerWriter = 30_000 * scaleFactor();
        ConcurrentHashMap<Long, KeyedNode> table = new ConcurrentHashMap<>();
        AtomicLong head = new AtomicLong(); // 0: empty
        AtomicLong keys = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        AtomicLong popped = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CyclicBarrier start = new CyclicBarrier(writers + readers);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            threads.add(start("writer-" + w, () -> {
                start.await();
                for (int i = 0; i < opsPerWriter; i++) {
                    if ((i & 1) == 0 || i % 7 == 0) {
                        KeyedNode n = new KeyedNode(keys.incrementAndGet(), reclaimer().era());
                        table.put(n.key, n);
                        long h;
                        do {
                            h = head.get();
                            n.next.set(h);
                        } while (!head.compareAndSet(h, n.key));
                    } else {
                        try (Guard g = reclaimer().enter()) {
                            long h;
                            KeyedNode top = null;
                            while (true) {
                                h = reserve(g, head, 0);
                                if (h == 0) break;
                                top = table.get(h);
                                long next = reserve(g, top.next, 1);
                                if (head.get() != h) continue; // next was still in the stack when reserved
                                KeyedNode nn = next == 0 ? null : table.get(next);
                                if (top.reclaimed || (nn != null && nn.reclaimed)) violations.incrementAndGet();
                                if (head.compareAndSet(h, next)) break;
                            }
                            if (h != 0) {
                                g.retire(top, KeyedNode::reclaim);
                                popped.incrementAndGet();
                            }
                        }
                    }
                }
            }, errors));
        }
        for (int r = 0; r < readers; r++) {
            threads.add(start("reader-" + r, () -> {
                start.await();
                while (!done.get()) {
                    try (Guard g = reclaimer().enter()) {
                        long a = reserve(g, head, 0);
                        if (a == 0) continue;
                        KeyedNode na = table.get(a);
                        long b = reserve(g, na.next, 1);
                        if (head.get() != a) continue;
                        Thread.onSpinWait();
                        KeyedNode nb = b == 0 ? null : table.get(b);
                        if (na.reclaimed || (nb != null && nb.reclaimed)) violations.incrementAndGet();
                    }
                }
            }, errors));
        }
        for (int i = 0; i < writers; i++) threads.get(i).join(TimeUnit.SECONDS.toMillis(100));
        done.set(true);
        join(threads);
        assertNoErrors(errors);
        assertEquals(0, violations.get(), "readers saw nodes reclaimed while their keys were reserved");
        reclaimer().close();
        long reclaimedNodes = 0;
        for (KeyedNode n : table.values()) {
            assertTrue(n.actions.get() <= 1, "a node was reclaimed twice");
            reclaimedNodes += n.actions.get();
        }
        assertEquals(popped.get(), reclaimedNodes);
    }

    /**
     * Guards nest deeper than any fixed per-level table: twelve levels, protecting and reserving at some and not
     * at others, close in order and keep every outer level's protection until it closes.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void deeplyNestedGuardsProtectAndCloseInOrder() throws Exception {
        int depth = 12;
        List<Node> nodes = new ArrayList<>();
        List<AtomicReference<Node>> refs = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            Node n = new Node(i, reclaimer().era());
            nodes.add(n);
            refs.add(new AtomicReference<>(n));
        }
        List<Guard> open = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            Guard g = reclaimer().enter();
            open.add(g);
            // only the shallow levels protect: closing the deep ones must not trip over per-level tables sized
            // for the levels that protected
            if (i == 0 || i == 2) assertSame(nodes.get(i), g.protect(refs.get(i), 0));
            if (i == 0 || i == 3) {
                AtomicLong cell = new AtomicLong(1000 + i);
                assertEquals(1000 + i, reserve(g, cell, 1));
            }
        }
        // unlink and retire the outermost level's node from another thread: the outer guard still protects it
        Node outer = nodes.get(0);
        retireAndFlushOnAnotherThread(refs.get(0), outer);
        for (int i = depth - 1; i >= 1; i--) open.get(i).close();
        retireAndFlushOnAnotherThread(null, null);
        assertFalse(outer.reclaimed, "the outermost guard's protection ended with an inner guard");
        open.get(0).close();
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertTrue(outer.reclaimed, "reclaimed once every guard closed");
        }
        try (Guard g = reclaimer().enter()) { // the thread's guard is usable again at depth 1
            assertSame(nodes.get(1), g.protect(refs.get(1), 0));
        }
    }

    /** Unlinks {@code n} from {@code ref} (if given), retires it, and flushes, on another thread. */
    private void retireAndFlushOnAnotherThread(AtomicReference<Node> ref, Node n) throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread t = start("retirer", () -> {
            if (n != null) {
                ref.set(null);
                reclaimer().retire(n, Node::reclaim);
            }
            for (int i = 0; i < 10; i++) reclaimer().flush();
        }, errors);
        join(List.of(t));
        assertNoErrors(errors);
    }

    /**
     * Nested guards: closing the inner one does not end the outer one's protection.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void nestedGuardKeepsProtectionUntilTheOutermostCloses() throws Exception {
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        try (Guard outer = reclaimer().enter()) {
            Node n = outer.protect(head);
            try (Guard inner = reclaimer().enter()) {
                assertSame(n, inner.protect(head));
            }
            head.set(null);
            retireAndFlushOnAnotherThread(a);
            assertFalse(n.reclaimed, "reclaimed while the outer guard was still open");
            assertEquals(1, n.value); // still usable
        }
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertTrue(a.reclaimed);
        }
    }

    /**
     * A nested guard's slots are its own: reusing slot 0 inside it does not release the outer guard's slot 0.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aNestedGuardDoesNotReleaseTheOuterGuardsSlots() throws Exception {
        Node x = new Node(1, reclaimer().era());
        Node y = new Node(2, reclaimer().era());
        AtomicReference<Node> refX = new AtomicReference<>(x);
        AtomicReference<Node> refY = new AtomicReference<>(y);
        try (Guard outer = reclaimer().enter()) {
            assertSame(x, outer.protect(refX, 0));
            try (Guard inner = reclaimer().enter()) {
                assertSame(y, inner.protect(refY, 0));
                assertSame(y, inner.protect(refY, 1));
            }
            refX.set(null);
            retireAndFlushOnAnotherThread(x);
            assertFalse(x.reclaimed, "the inner guard's slot 0 released the outer guard's protection");
        }
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertTrue(x.reclaimed);
        }
    }

    /**
     * {@code Guard.nest()} opens a nested guard as {@code enter()} does: its slots are its own (reusing slot 0 in it
     * does not release the outer guard's slot 0), closing it leaves the outer guard open and protecting, and what it
     * protected stays protected until the outermost guard closes.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aGuardNestedWithNestIsANestedGuard() throws Exception {
        Node x = new Node(1, reclaimer().era());
        Node y = new Node(2, reclaimer().era());
        AtomicReference<Node> refX = new AtomicReference<>(x);
        AtomicReference<Node> refY = new AtomicReference<>(y);
        try (Guard outer = reclaimer().enter()) {
            assertSame(x, outer.protect(refX, 0));
            for (int i = 0; i < 3; i++) { // as a view does: many short nested guards
                try (Guard inner = outer.nest()) {
                    assertSame(y, inner.protect(refY, 0));
                }
            }
            refX.set(null);
            refY.set(null);
            retireAndFlushOnAnotherThread(x);
            retireAndFlushOnAnotherThread(y);
            assertFalse(x.reclaimed, "a nested guard's slot 0 released the outer guard's protection");
            assertFalse(y.reclaimed, "reclaimed what a nested guard protected while the outermost guard was open");
            assertEquals(2, outer.protect(new AtomicReference<>(y), 1).value, "the outer guard is still open");
        }
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertTrue(x.reclaimed);
            assertTrue(y.reclaimed);
        }
    }

    /**
     * Reclaim actions that run when a reader's guard closes (the last reader reclaims, under Hyaline and
     * Crystalline) may enter guards and retire more: nothing is lost, nothing fails, and close() completes.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void actionsRunWhenAGuardClosesMayEnterAndRetire() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Node> head = new AtomicReference<>(new Node(0, reclaimer().era()));
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch retired = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("reader", () -> {
            try (Guard g = reclaimer().enter()) {
                g.protect(head, 0);
                g.protect(head);
                inside.countDown();
                assertTrue(retired.await(60, TimeUnit.SECONDS));
            } // under Hyaline/Crystalline the batch's last reference is dropped here: the actions run here
        }, errors);
        assertTrue(inside.await(60, TimeUnit.SECONDS));
        for (int i = 0; i < 200; i++) {
            Node old = head.getAndSet(new Node(i + 1, reclaimer().era()));
            reclaimer().retire(old, n -> {
                ran.incrementAndGet();
                try (Guard g = reclaimer().enter()) {
                    g.protect(head, 0);
                    g.retire(new Node(-1), m -> ran.incrementAndGet());
                }
            });
        }
        reclaimer().flush();
        retired.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        reclaimer().flush();
        reclaimer().flush();
        reclaimer().close();
        assertEquals(400, ran.get(), "an object retired by an action was lost, or an action failed");
        assertEquals(0, reclaimer().stats().failed());
    }

    /**
     * Short-lived platform threads do not leave their records behind: ended threads' records are reused.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void shortLivedPlatformThreadsDoNotAccumulateRecords() throws Exception {
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < 300; i++) {
            int id = i;
            Thread t = start("short-" + i, () -> {
                try (Guard g = reclaimer().enter()) {
                    Node old = g.protect(head, 0);
                    if (head.compareAndSet(old, new Node(id))) g.retire(old, x -> ran.incrementAndGet());
                }
            }, errors);
            t.join();
        }
        assertNoErrors(errors);
        int participants = reclaimer().stats().participants();
        assertTrue(participants <= 16, participants + " records after 300 sequential short-lived threads");
        reclaimer().close();
        assertEquals(300, ran.get());
    }

    /** Guard-deferred retire: an object retired inside the guard that still reads it outlives the guard. */
    @Test
    default void retireInsideTheReadingGuardIsDeferredUntilItCloses() {
        Node a = new Node(7);
        AtomicReference<Node> head = new AtomicReference<>(a);
        try (Guard g = reclaimer().enter()) {
            Node n = g.protect(head);
            head.set(null);
            g.retire(n, Node::reclaim);
            for (int i = 0; i < 10; i++) reclaimer().flush();
            assertFalse(n.reclaimed, "reclaimed inside the guard that retired it");
            assertEquals(7, n.value);
        }
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertTrue(a.reclaimed);
        }
    }

    /**
     * The VarHandle variant of protect reads the field and protects what it read.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void protectThroughAVarHandle() throws Exception {
        Holder holder = new Holder();
        Node a = new Node(3);
        holder.node = a;
        try (Guard g = reclaimer().enter()) {
            Node n = g.protect(Holder.NODE, holder);
            assertSame(a, n);
            assertSame(a, g.<Node>protect(Holder.NODE, holder, 1));
            holder.node = null;
            retireAndFlushOnAnotherThread(a);
            assertFalse(n.reclaimed);
        }
    }

    private void retireAndFlushOnAnotherThread(Node a) throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread t = start("retirer", () -> {
            reclaimer().retire(a, Node::reclaim);
            for (int i = 0; i < 10; i++) reclaimer().flush();
        }, errors);
        join(List.of(t));
        assertNoErrors(errors);
    }
}
