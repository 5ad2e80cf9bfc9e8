package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Atom;
import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Stats;

/**
 * The guarantees of {@link Reclaimer} that every scheme keeps (DESIGN.md, "What every scheme guarantees"),
 * as JUnit tests. Extend it and name the scheme ({@link #scheme()}); a scheme that never reclaims before
 * {@code close()} (the {@code none} baseline) says so with {@link #reclaimsBeforeClose()} and the tests of
 * progress are skipped for it.
 *
 * <p>Every concurrent test waits on latches, barriers and joins, never on sleeps, and runs a bounded number
 * of operations; each has a timeout so that a hang fails instead of stalling the build.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class ReclaimerConformance {

    /** The reclaimer under test, created before each test and closed after it. */
    protected Reclaimer reclaimer;

    /** Creates the suite. */
    protected ReclaimerConformance() {}

    /**
     * Returns the name of the scheme under test, as for {@link Reclaimer#create(String)}.
     *
     * @return the scheme's short name
     */
    protected abstract String scheme();

    /**
     * Creates a reclaimer of the scheme under test. Override to construct one without the
     * {@link java.util.ServiceLoader}.
     *
     * @return a new reclaimer
     */
    protected Reclaimer newReclaimer() {
        return Reclaimer.create(scheme());
    }

    /**
     * Returns whether the scheme reclaims before {@code close()}; false only for the leak baseline.
     *
     * @return true for a real scheme
     */
    protected boolean reclaimsBeforeClose() {
        return true;
    }

    /**
     * Scales the operation counts of the concurrent tests.
     *
     * @return the factor; 1 (the default) is sized for 2 cores
     */
    protected int scale() {
        return 1;
    }

    @BeforeEach
    void createReclaimer() {
        reclaimer = newReclaimer();
        assertNotNull(reclaimer, "newReclaimer() returned null");
    }

    @AfterEach
    void closeReclaimer() {
        if (reclaimer != null && !reclaimer.isClosed()) reclaimer.close();
    }

    // ---------------------------------------------------------------------------------------------------
    // Test objects
    // ---------------------------------------------------------------------------------------------------

    /** A node of the test stack: {@code reclaimed} flips once its action ran; born in an era when given one. */
    static final class Node implements Born {
        final long value;
        final long birth;
        final AtomicReference<Node> next = new AtomicReference<>();
        volatile boolean reclaimed;
        final AtomicInteger actions = new AtomicInteger();

        Node(long value) {
            this(value, 0);
        }

        Node(long value, long birth) {
            this.value = value;
            this.birth = birth;
        }

        @Override
        public long birthEra() {
            return birth;
        }

        void reclaim() {
            reclaimed = true;
            actions.incrementAndGet();
        }
    }

    /**
     * A node known by a {@code long} key, as an off-heap block is known by its address: readers find it in a
     * table by key and protect the key with {@link Guard#reserve}; links are keys too.
     */
    static final class KeyedNode implements Keyed, Born {
        final long key;
        final long birth;
        final AtomicLong next = new AtomicLong();
        volatile boolean reclaimed;
        final AtomicInteger actions = new AtomicInteger();

        KeyedNode(long key, long birth) {
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

        void reclaim() {
            reclaimed = true;
            actions.incrementAndGet();
        }
    }

    /** The reserve loop of {@link Guard#reserve}'s documentation: read, reserve, re-read until they agree. */
    static long reserve(Guard g, AtomicLong cell, int slot) {
        long k = cell.get();
        while (!g.reserve(k, slot)) k = cell.get();
        return k;
    }

    /** A plain field read through a VarHandle (the protect variant for JCTools-style structures). */
    static final class Holder {
        volatile Node node;
        static final VarHandle NODE;

        static {
            try {
                NODE = MethodHandles.lookup().findVarHandle(Holder.class, "node", Node.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    private static void join(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(100));
            assertFalse(t.isAlive(), "thread " + t.getName() + " did not finish");
        }
    }

    private static Thread start(String name, ThrowingRunnable body, ConcurrentLinkedQueue<Throwable> errors) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                errors.add(e);
            }
        }, name);
        t.start();
        return t;
    }

    private static void assertNoErrors(ConcurrentLinkedQueue<Throwable> errors) {
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " thread(s) failed; first: " + errors.peek());
            errors.forEach(e::addSuppressed);
            throw e;
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    // ---------------------------------------------------------------------------------------------------
    // 1. Safety
    // ---------------------------------------------------------------------------------------------------

    /** A reclaim action never runs on an object that a guard still open protected, in the simplest race. */
    @Test
    void retiredObjectIsNotReclaimedWhileAGuardProtectsIt() throws Exception {
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        CountDownLatch protectedIt = new CountDownLatch(1);
        CountDownLatch retired = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("reader", () -> {
            try (Guard g = reclaimer.enter()) {
                Node n = g.protect(head);
                assertSame(a, n);
                protectedIt.countDown();
                assertTrue(retired.await(60, TimeUnit.SECONDS));
                assertFalse(n.reclaimed, "reclaimed while a guard protected it");
            }
        }, errors);
        assertTrue(protectedIt.await(60, TimeUnit.SECONDS));
        head.set(new Node(2));
        reclaimer.retire(a, Node::reclaim);
        for (int i = 0; i < 100; i++) reclaimer.flush();
        assertFalse(a.reclaimed, "reclaimed while a guard protected it");
        retired.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertTrue(a.reclaimed, "not reclaimed by flush() once the guard closed");
        }
        reclaimer.close();
        assertEquals(1, a.actions.get());
    }

    /**
     * Concurrent push/pop on a Treiber stack with hand-over-hand readers: no reader ever sees a node whose
     * action ran while its guard was open, and every popped node is reclaimed exactly once.
     */
    @Test
    void concurrentPushPopWithReadersNeverSeesAReclaimedNode() throws Exception {
        int writers = 2;
        int readers = 2;
        int opsPerWriter = 50_000 * scale();
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
                        try (Guard g = reclaimer.enter()) {
                            Node h;
                            do {
                                h = g.protect(head, 0);
                                n.next.set(h);
                            } while (!head.compareAndSet(h, n));
                        }
                        pushed.incrementAndGet();
                    } else {
                        try (Guard g = reclaimer.enter()) {
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
                    try (Guard g = reclaimer.enter()) {
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
        reclaimer.close();
        Stats s = reclaimer.stats();
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

    /** A retired {@link Keyed} object whose key a guard reserved is not reclaimed until that guard closes. */
    @Test
    void aReservedKeyIsNotReclaimedWhileTheGuardHoldsIt() throws Exception {
        KeyedNode a = new KeyedNode(0x7f00_0000_1000L, reclaimer.era());
        AtomicLong cell = new AtomicLong(a.key);
        CountDownLatch reserved = new CountDownLatch(1);
        CountDownLatch retired = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("reader", () -> {
            try (Guard g = reclaimer.enter()) {
                assertEquals(a.key, reserve(g, cell, 1));
                reserved.countDown();
                assertTrue(retired.await(60, TimeUnit.SECONDS));
                assertFalse(a.reclaimed, "reclaimed while a guard reserved its key");
            }
        }, errors);
        assertTrue(reserved.await(60, TimeUnit.SECONDS));
        KeyedNode b = new KeyedNode(0x7f00_0000_2000L, reclaimer.era());
        cell.set(b.key);
        reclaimer.retire(a, KeyedNode::reclaim);
        for (int i = 0; i < 100; i++) reclaimer.flush();
        assertFalse(a.reclaimed, "reclaimed while a guard reserved its key");
        retired.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertTrue(a.reclaimed, "not reclaimed by flush() once the guard closed");
        }
        reclaimer.close();
        assertEquals(1, a.actions.get());
    }

    /**
     * A Treiber stack whose links are keys (as an off-heap stack's links are addresses): writers push and pop,
     * readers walk two levels with {@link Guard#reserve}; no reader ever sees a node whose action ran while its
     * key was reserved, and every popped node is reclaimed exactly once.
     */
    @Test
    void concurrentKeyedStackNeverSeesAReclaimedNode() throws Exception {
        int writers = 2;
        int readers = 2;
        int opsPerWriter = 30_000 * scale();
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
                        KeyedNode n = new KeyedNode(keys.incrementAndGet(), reclaimer.era());
                        table.put(n.key, n);
                        long h;
                        do {
                            h = head.get();
                            n.next.set(h);
                        } while (!head.compareAndSet(h, n.key));
                    } else {
                        try (Guard g = reclaimer.enter()) {
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
                    try (Guard g = reclaimer.enter()) {
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
        reclaimer.close();
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
     */
    @Test
    void deeplyNestedGuardsProtectAndCloseInOrder() throws Exception {
        int depth = 12;
        List<Node> nodes = new ArrayList<>();
        List<AtomicReference<Node>> refs = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            Node n = new Node(i, reclaimer.era());
            nodes.add(n);
            refs.add(new AtomicReference<>(n));
        }
        List<Guard> open = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            Guard g = reclaimer.enter();
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
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertTrue(outer.reclaimed, "reclaimed once every guard closed");
        }
        try (Guard g = reclaimer.enter()) { // the thread's guard is usable again at depth 1
            assertSame(nodes.get(1), g.protect(refs.get(1), 0));
        }
    }

    /** Unlinks {@code n} from {@code ref} (if given), retires it, and flushes, on another thread. */
    private void retireAndFlushOnAnotherThread(AtomicReference<Node> ref, Node n) throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread t = start("retirer", () -> {
            if (n != null) {
                ref.set(null);
                reclaimer.retire(n, Node::reclaim);
            }
            for (int i = 0; i < 10; i++) reclaimer.flush();
        }, errors);
        join(List.of(t));
        assertNoErrors(errors);
    }

    /** Nested guards: closing the inner one does not end the outer one's protection. */
    @Test
    void nestedGuardKeepsProtectionUntilTheOutermostCloses() throws Exception {
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        try (Guard outer = reclaimer.enter()) {
            Node n = outer.protect(head);
            try (Guard inner = reclaimer.enter()) {
                assertSame(n, inner.protect(head));
            }
            head.set(null);
            retireAndFlushOnAnotherThread(a);
            assertFalse(n.reclaimed, "reclaimed while the outer guard was still open");
            assertEquals(1, n.value); // still usable
        }
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertTrue(a.reclaimed);
        }
    }

    /** A nested guard's slots are its own: reusing slot 0 inside it does not release the outer guard's slot 0. */
    @Test
    void aNestedGuardDoesNotReleaseTheOuterGuardsSlots() throws Exception {
        Node x = new Node(1, reclaimer.era());
        Node y = new Node(2, reclaimer.era());
        AtomicReference<Node> refX = new AtomicReference<>(x);
        AtomicReference<Node> refY = new AtomicReference<>(y);
        try (Guard outer = reclaimer.enter()) {
            assertSame(x, outer.protect(refX, 0));
            try (Guard inner = reclaimer.enter()) {
                assertSame(y, inner.protect(refY, 0));
                assertSame(y, inner.protect(refY, 1));
            }
            refX.set(null);
            retireAndFlushOnAnotherThread(x);
            assertFalse(x.reclaimed, "the inner guard's slot 0 released the outer guard's protection");
        }
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertTrue(x.reclaimed);
        }
    }

    /**
     * Reclaim actions that run when a reader's guard closes (the last reader reclaims, under Hyaline and
     * Crystalline) may enter guards and retire more: nothing is lost, nothing fails, and close() completes.
     */
    @Test
    void actionsRunWhenAGuardClosesMayEnterAndRetire() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Node> head = new AtomicReference<>(new Node(0, reclaimer.era()));
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch retired = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("reader", () -> {
            try (Guard g = reclaimer.enter()) {
                g.protect(head, 0);
                g.protect(head);
                inside.countDown();
                assertTrue(retired.await(60, TimeUnit.SECONDS));
            } // under Hyaline/Crystalline the batch's last reference is dropped here: the actions run here
        }, errors);
        assertTrue(inside.await(60, TimeUnit.SECONDS));
        for (int i = 0; i < 200; i++) {
            Node old = head.getAndSet(new Node(i + 1, reclaimer.era()));
            reclaimer.retire(old, n -> {
                ran.incrementAndGet();
                try (Guard g = reclaimer.enter()) {
                    g.protect(head, 0);
                    g.retire(new Node(-1), m -> ran.incrementAndGet());
                }
            });
        }
        reclaimer.flush();
        retired.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        reclaimer.flush();
        reclaimer.flush();
        reclaimer.close();
        assertEquals(400, ran.get(), "an object retired by an action was lost, or an action failed");
        assertEquals(0, reclaimer.stats().failed());
    }

    /** Short-lived platform threads do not leave their records behind: ended threads' records are reused. */
    @Test
    void shortLivedPlatformThreadsDoNotAccumulateRecords() throws Exception {
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < 300; i++) {
            int id = i;
            Thread t = start("short-" + i, () -> {
                try (Guard g = reclaimer.enter()) {
                    Node old = g.protect(head, 0);
                    if (head.compareAndSet(old, new Node(id))) g.retire(old, x -> ran.incrementAndGet());
                }
            }, errors);
            t.join();
        }
        assertNoErrors(errors);
        int participants = reclaimer.stats().participants();
        assertTrue(participants <= 16, participants + " records after 300 sequential short-lived threads");
        reclaimer.close();
        assertEquals(300, ran.get());
    }

    /** Guard-deferred retire: an object retired inside the guard that still reads it outlives the guard. */
    @Test
    void retireInsideTheReadingGuardIsDeferredUntilItCloses() {
        Node a = new Node(7);
        AtomicReference<Node> head = new AtomicReference<>(a);
        try (Guard g = reclaimer.enter()) {
            Node n = g.protect(head);
            head.set(null);
            g.retire(n, Node::reclaim);
            for (int i = 0; i < 10; i++) reclaimer.flush();
            assertFalse(n.reclaimed, "reclaimed inside the guard that retired it");
            assertEquals(7, n.value);
        }
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertTrue(a.reclaimed);
        }
    }

    /** The VarHandle variant of protect reads the field and protects what it read. */
    @Test
    void protectThroughAVarHandle() throws Exception {
        Holder holder = new Holder();
        Node a = new Node(3);
        holder.node = a;
        try (Guard g = reclaimer.enter()) {
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
            reclaimer.retire(a, Node::reclaim);
            for (int i = 0; i < 10; i++) reclaimer.flush();
        }, errors);
        join(List.of(t));
        assertNoErrors(errors);
    }

    // ---------------------------------------------------------------------------------------------------
    // 2. Exactly once
    // ---------------------------------------------------------------------------------------------------

    /** Objects retired from many threads, inside and outside guards, are each reclaimed exactly once. */
    @Test
    void everyRetiredObjectIsReclaimedExactlyOnce() throws Exception {
        int threads = 4;
        int perThread = 20_000 * scale();
        AtomicIntegerArray runs = new AtomicIntegerArray(threads * perThread);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t * perThread;
            ts.add(start("retirer-" + t, () -> {
                start.await();
                for (int i = 0; i < perThread; i++) {
                    Integer id = base + i;
                    if ((i & 1) == 0) {
                        reclaimer.retire(id, runs::incrementAndGet);
                    } else {
                        try (Guard g = reclaimer.enter()) {
                            g.retire(id, runs::incrementAndGet);
                        }
                    }
                    if (i % 5000 == 0) reclaimer.flush();
                }
            }, errors));
        }
        join(ts);
        assertNoErrors(errors);
        reclaimer.close();
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "object " + i + " reclaimed " + runs.get(i) + " times");
        Stats s = reclaimer.stats();
        assertEquals(threads * (long) perThread, s.retired());
        assertEquals(s.retired(), s.reclaimed());
        assertEquals(0, s.pending());
        assertEquals(0, s.failed());
    }

    /** A reclaim action may retire further objects (freeing a tree): nothing is lost, also during close(). */
    @Test
    void actionsThatRetireMoreLoseNothing() {
        AtomicInteger ran = new AtomicInteger();
        int depth = 300;
        reclaimer.retire(depth, chain(ran));
        reclaimer.close();
        assertEquals(depth + 1, ran.get());
        Stats s = reclaimer.stats();
        assertEquals(depth + 1, s.retired());
        assertEquals(s.retired(), s.reclaimed());
    }

    private Consumer<Integer> chain(AtomicInteger ran) {
        AtomicReference<Consumer<Integer>> self = new AtomicReference<>();
        self.set(n -> {
            ran.incrementAndGet();
            if (n > 0) reclaimer.retire(n - 1, self.get());
        });
        return self.get();
    }

    /** close() is idempotent and stats stay readable after it. */
    @Test
    void closeIsIdempotent() {
        reclaimer.retire(new Object(), o -> {});
        reclaimer.close();
        assertTrue(reclaimer.isClosed());
        reclaimer.close();
        assertEquals(1, reclaimer.stats().reclaimed());
    }

    // ---------------------------------------------------------------------------------------------------
    // 3. Progress
    // ---------------------------------------------------------------------------------------------------

    /** With no guard open, flush() reclaims everything retired before it. */
    @Test
    void flushReclaimsEverythingWhenNoGuardIsOpen() {
        assumeTrue(reclaimsBeforeClose(), "the leak baseline reclaims only at close");
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 1000; i++) reclaimer.retire(i, x -> ran.incrementAndGet());
        reclaimer.flush();
        assertEquals(1000, ran.get());
        assertEquals(0, reclaimer.stats().pending());
    }

    /** Without flush(), pending objects stay bounded: reclamation keeps up with a steady retirer. */
    @Test
    void pendingStaysBoundedWithoutFlush() {
        assumeTrue(reclaimsBeforeClose(), "the leak baseline reclaims only at close");
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        long maxPending = 0;
        int n = 200_000;
        for (int i = 1; i <= n; i++) {
            try (Guard g = reclaimer.enter()) {
                Node old = g.protect(head);
                head.set(new Node(i));
                g.retire(old, Node::reclaim);
            }
            if ((i & 1023) == 0) maxPending = Math.max(maxPending, reclaimer.stats().pending());
        }
        assertTrue(maxPending < n / 20, "pending reached " + maxPending + " of " + n + " retired");
    }

    /** A flush on one thread reclaims what threads that ended had retired (their partial batches too). */
    @Test
    void flushReclaimsWhatEndedThreadsRetired() throws Exception {
        assumeTrue(reclaimsBeforeClose(), "the leak baseline reclaims only at close");
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            ts.add(start("short-lived-" + t, () -> {
                for (int i = 0; i < 5; i++) reclaimer.retire(i, x -> ran.incrementAndGet());
            }, errors));
        }
        join(ts);
        assertNoErrors(errors);
        reclaimer.flush();
        assertEquals(20, ran.get());
    }

    // ---------------------------------------------------------------------------------------------------
    // 4. Robustness where promised
    // ---------------------------------------------------------------------------------------------------

    /**
     * A robust scheme keeps pending objects under its stated bound while a reader is stalled inside a guard,
     * over many retires, and never reclaims what the stalled reader holds. The nodes are {@link Born} (stamped
     * with {@link Reclaimer#era()}): era-based schemes promise the bound only for those.
     */
    @Test
    void aStalledReaderKeepsPendingUnderTheStatedBound() throws Exception {
        assumeTrue(reclaimer.scheme().robust(), "not a robust scheme: it reports stalls instead");
        Node held = new Node(-1, reclaimer.era());
        AtomicReference<Node> head = new AtomicReference<>(held);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("stalled-reader", () -> {
            try (Guard g = reclaimer.enter()) {
                Node n = g.protect(head);
                inside.countDown();
                assertTrue(release.await(100, TimeUnit.SECONDS));
                assertFalse(n.reclaimed, "the stalled reader's node was reclaimed under it");
            }
        }, errors);
        assertTrue(inside.await(60, TimeUnit.SECONDS));
        int retires = 100_000 * scale();
        long maxPending = 0;
        long maxBound = 0;
        for (int i = 1; i <= retires; i++) {
            Node old = head.getAndSet(new Node(i, reclaimer.era()));
            reclaimer.retire(old, Node::reclaim);
            if ((i & 255) == 0) {
                long pending = reclaimer.stats().pending();
                long bound = reclaimer.pendingBound();
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
        reclaimer.flush();
        assertTrue(held.reclaimed, "not reclaimed once the stalled reader left");
        assertEquals(0, reclaimer.stats().pending());
        assertTrue(maxPending > 0);
    }

    /** A scheme that cannot bound garbage detects a stalled reader and reports it in Stats.stalled(). */
    @Test
    void aStalledReaderIsReportedBySchemesThatCannotBoundGarbage() throws Exception {
        assumeTrue(!reclaimer.scheme().robust() && reclaimsBeforeClose(), "robust schemes bound garbage instead");
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("stalled-reader", () -> {
            try (Guard g = reclaimer.enter()) {
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
            reclaimer.retire(old, Node::reclaim);
            reclaimer.flush();
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            stalled = reclaimer.stats().stalled();
        }
        assertEquals(1, stalled, "the stalled reader was not reported");
        release.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        reclaimer.flush();
        assertEquals(0, reclaimer.stats().stalled());
        assertEquals(0, reclaimer.stats().pending());
    }

    // ---------------------------------------------------------------------------------------------------
    // Threads that end registered or inside a guard
    // ---------------------------------------------------------------------------------------------------

    /** Threads that end while explicitly registered lose nothing, and do not hold reclamation back. */
    @Test
    void threadsThatEndRegisteredLoseNothing() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            ts.add(start("registered-" + t, () -> {
                Registration reg = reclaimer.register();
                assertNotNull(reg);
                for (int i = 0; i < 10; i++) {
                    try (Guard g = reclaimer.enter()) {
                        g.retire(i, x -> ran.incrementAndGet());
                    }
                }
                // ends without closing the registration
            }, errors));
        }
        join(ts);
        assertNoErrors(errors);
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertEquals(40, ran.get(), "objects retired by threads that ended registered were not reclaimed");
        }
        reclaimer.close();
        assertEquals(40, ran.get());
        assertEquals(40, reclaimer.stats().reclaimed());
    }

    /** flush() on one thread reclaims what an idle registered thread (offline, outside guards) retired. */
    @Test
    void flushReclaimsWhatAnIdleRegisteredThreadRetired() throws Exception {
        assumeTrue(reclaimsBeforeClose(), "the leak baseline reclaims only at close");
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch idle = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread executor = start("idle-executor", () -> {
            try (Registration reg = reclaimer.register()) {
                for (int i = 0; i < 3; i++) reclaimer.retire(i, x -> ran.incrementAndGet());
                reg.offline(); // about to idle (a no-op for schemes without quiescent states)
                idle.countDown();
                assertTrue(finish.await(60, TimeUnit.SECONDS));
            }
        }, errors);
        assertTrue(idle.await(60, TimeUnit.SECONDS));
        reclaimer.flush();
        assertEquals(3, ran.get(), "flush() left an idle registered thread's objects pending");
        finish.countDown();
        join(List.of(executor));
        assertNoErrors(errors);
    }

    /** Reclaim actions run by a registered thread's own flush may enter guards and retire more. */
    @Test
    void actionsRunByARegisteredThreadsFlushMayEnterAndRetire() {
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<String> ref = new AtomicReference<>("v");
        try (Registration reg = reclaimer.register()) {
            reclaimer.retire("outer", x -> {
                ran.incrementAndGet();
                try (Guard g = reclaimer.enter()) {
                    g.protect(ref);
                    g.retire("inner", y -> ran.incrementAndGet());
                }
            });
            reclaimer.flush();
            reclaimer.flush();
            reg.offline();
        }
        reclaimer.close();
        assertEquals(2, ran.get());
        assertEquals(0, reclaimer.stats().failed(), "an action's guard or retire failed");
        assertEquals(2, reclaimer.stats().reclaimed());
    }

    /**
     * Registered threads come and go (ending without deregistering) while other threads flush, sweep and read:
     * no reader ever sees its protected node reclaimed, and every retired node is reclaimed exactly once.
     */
    @Test
    void endingRegisteredThreadsRacingFlushesStaySafe() throws Exception {
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        AtomicLong retired = new AtomicLong();
        ConcurrentLinkedQueue<Node> all = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> background = new ArrayList<>();
        for (int f = 0; f < 2; f++) {
            background.add(start("flusher-" + f, () -> {
                while (!done.get()) reclaimer.flush();
            }, errors));
        }
        background.add(start("reader", () -> {
            while (!done.get()) {
                try (Guard g = reclaimer.enter()) {
                    Node n = g.protect(head);
                    Thread.onSpinWait();
                    if (n.reclaimed) violations.incrementAndGet();
                }
            }
        }, errors));
        for (int round = 0; round < 400 * scale(); round++) {
            List<Thread> wave = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int id = round * 3 + t;
                wave.add(start("ephemeral-" + id, () -> {
                    reclaimer.register(); // never closed: the thread ends registered
                    for (int i = 0; i < 4; i++) {
                        try (Guard g = reclaimer.enter()) {
                            Node fresh = new Node(id * 4L + i);
                            all.add(fresh);
                            Node old = g.protect(head);
                            if (head.compareAndSet(old, fresh)) {
                                g.retire(old, Node::reclaim);
                                retired.incrementAndGet();
                            }
                        }
                    }
                }, errors));
            }
            join(wave);
        }
        done.set(true);
        join(background);
        assertNoErrors(errors);
        assertEquals(0, violations.get(), "a reader's protected node was reclaimed under it");
        reclaimer.close();
        Stats s = reclaimer.stats();
        assertEquals(retired.get(), s.retired());
        assertEquals(s.retired(), s.reclaimed());
        for (Node n : all) assertTrue(n.actions.get() <= 1, "a node was reclaimed twice");
    }

    /** A thread that ends inside a guard it never closed does not stall reclamation, nor close(). */
    @Test
    void aThreadThatEndsInsideAGuardDoesNotStallReclamation() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread t = start("leaks-a-guard", () -> {
            Guard g = reclaimer.enter(); // never closed: a bug in user code, which must not stall everyone
            g.retire("x", x -> ran.incrementAndGet());
        }, errors);
        join(List.of(t));
        assertNoErrors(errors);
        for (int i = 0; i < 10; i++) reclaimer.retire(i, x -> ran.incrementAndGet());
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertEquals(11, ran.get(), "a guard left open by an ended thread held reclamation back");
        }
        reclaimer.close();
        assertEquals(11, ran.get());
    }

    // ---------------------------------------------------------------------------------------------------
    // Virtual threads
    // ---------------------------------------------------------------------------------------------------

    /**
     * Virtual threads block inside guards (and may resume on another carrier) while a writer retires what
     * they read: nothing they protected is reclaimed before they close their guards.
     */
    @Test
    void virtualThreadsBlockingInsideGuardsStaySafe() throws Exception {
        int readers = 500;
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        CountDownLatch allInside = new CountDownLatch(readers);
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong violations = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < readers; i++) {
            ts.add(Thread.ofVirtual().name("vreader-" + i).start(() -> {
                try (Guard g = reclaimer.enter()) {
                    Node n = g.protect(head);
                    allInside.countDown();
                    release.await(); // blocks: the virtual thread unmounts inside the guard
                    if (n.reclaimed) violations.incrementAndGet();
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        assertTrue(allInside.await(60, TimeUnit.SECONDS));
        for (int i = 1; i <= 2000; i++) {
            Node old = head.getAndSet(new Node(i));
            reclaimer.retire(old, Node::reclaim);
        }
        reclaimer.flush();
        release.countDown();
        join(ts);
        assertNoErrors(errors);
        assertEquals(0, violations.get(), "a virtual thread's protected node was reclaimed while it blocked");
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertEquals(0, reclaimer.stats().pending());
        }
    }

    /** Thousands of short-lived virtual threads do not leave thousands of thread records behind. */
    @Test
    void shortLivedVirtualThreadsDoNotAccumulateRecords() throws Exception {
        int threads = 5000;
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int id = i;
            ts.add(Thread.ofVirtual().start(() -> {
                try {
                    try (Guard g = reclaimer.enter()) {
                        Node old = g.protect(head);
                        if (head.compareAndSet(old, new Node(id))) g.retire(old, x -> ran.incrementAndGet());
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        join(ts);
        assertNoErrors(errors);
        int participants = reclaimer.stats().participants();
        assertTrue(participants <= 256, participants + " records for " + threads + " short-lived virtual threads");
        reclaimer.close();
        assertEquals(reclaimer.stats().retired(), ran.get());
    }

    // ---------------------------------------------------------------------------------------------------
    // 5. Containment and misuse
    // ---------------------------------------------------------------------------------------------------

    /** An action that throws is counted, and every other action still runs. */
    @Test
    void throwingActionsAreContainedAndCounted() {
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 200; i++) {
            if (i % 4 == 0) {
                reclaimer.retire(i, x -> {
                    throw new IllegalStateException("deliberate failure of action " + x);
                });
            } else {
                reclaimer.retire(i, x -> ran.incrementAndGet());
            }
        }
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertEquals(150, ran.get());
            assertEquals(50, reclaimer.stats().failed());
        }
        reclaimer.close();
        Stats s = reclaimer.stats();
        assertEquals(150, ran.get());
        assertEquals(50, s.failed());
        assertEquals(200, s.reclaimed());
        assertEquals(200, s.retired());
    }

    /** Null arguments are rejected with the parameter's name. */
    @Test
    void nullArgumentsAreRejectedByName() {
        assertNpe("object", () -> reclaimer.retire(null, x -> {}));
        assertNpe("action", () -> reclaimer.retire("x", null));
        try (Guard g = reclaimer.enter()) {
            assertNpe("ref", () -> g.protect((AtomicReference<Object>) null));
            assertNpe("ref", () -> g.protect((AtomicReference<Object>) null, 0));
            assertNpe("field", () -> g.protect((VarHandle) null, new Holder()));
            assertNpe("holder", () -> g.protect(Holder.NODE, null));
            assertNpe("object", () -> g.retire(null, x -> {}));
            assertNpe("action", () -> g.retire("x", null));
        }
        assertNpe("scheme", () -> Reclaimer.create((String) null));
    }

    private static void assertNpe(String name, Runnable r) {
        NullPointerException e = assertThrows(NullPointerException.class, r::run);
        assertNotNull(e.getMessage(), "NPE without a message; expected it to name '" + name + "'");
        assertTrue(e.getMessage().contains(name), "NPE '" + e.getMessage() + "' does not name '" + name + "'");
    }

    /** Slots: 0 .. MIN_SLOTS-1 always work; a negative slot is a clear error. */
    @Test
    void slotsAreChecked() {
        AtomicReference<String> ref = new AtomicReference<>("v");
        try (Guard g = reclaimer.enter()) {
            assertTrue(g.slots() >= Guard.MIN_SLOTS);
            for (int s = 0; s < Guard.MIN_SLOTS; s++) assertEquals("v", g.protect(ref, s));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.protect(ref, -1));
            assertTrue(e.getMessage().contains("-1"), e.getMessage());
            if (g.slots() < Integer.MAX_VALUE) {
                assertThrows(IllegalArgumentException.class, () -> g.protect(ref, g.slots()));
            }
            AtomicLong cell = new AtomicLong(42);
            for (int s = 0; s < Guard.MIN_SLOTS; s++) assertEquals(42, reserve(g, cell, s));
            assertTrue(g.reserve(0, 0), "reserving 0 needs no re-read");
            IllegalArgumentException k = assertThrows(IllegalArgumentException.class, () -> g.reserve(1, -1));
            assertTrue(k.getMessage().contains("-1"), k.getMessage());
            if (g.slots() < Integer.MAX_VALUE) {
                assertThrows(IllegalArgumentException.class, () -> g.reserve(1, g.slots()));
            }
        }
    }

    /** A guard used after close, closed twice, or used from another thread fails clearly. */
    @Test
    void guardMisuseIsReported() throws Exception {
        AtomicReference<String> ref = new AtomicReference<>("v");
        Guard g = reclaimer.enter();
        assertSame(reclaimer, g.reclaimer());
        AtomicReference<Throwable> fromOther = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                g.protect(ref);
            } catch (Throwable e) {
                fromOther.set(e);
            }
        });
        t.start();
        t.join();
        assertTrue(fromOther.get() instanceof IllegalStateException, "protect from another thread: " + fromOther.get());
        g.close();
        assertThrows(IllegalStateException.class, () -> g.protect(ref));
        assertThrows(IllegalStateException.class, () -> g.reserve(1, 0));
        assertThrows(IllegalStateException.class, () -> g.retire("x", x -> {}));
        assertThrows(IllegalStateException.class, g::close);
    }

    /** After close, enter, retire and register fail with IllegalStateException; stats still work. */
    @Test
    void useAfterCloseIsReported() {
        reclaimer.close();
        assertThrows(IllegalStateException.class, reclaimer::enter);
        assertThrows(IllegalStateException.class, () -> reclaimer.retire("x", x -> {}));
        assertThrows(IllegalStateException.class, reclaimer::register);
        assertThrows(IllegalStateException.class, reclaimer::flush);
        assertNotNull(reclaimer.stats());
    }

    /**
     * close() while a guard is open throws, refuses new guards, leaves the open guard working, and a later
     * close() reclaims everything.
     */
    @Test
    void closeWithAnOpenGuardFailsThenCompletes() throws Exception {
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("holder", () -> {
            try (Guard g = reclaimer.enter()) {
                Node n = g.protect(head);
                inside.countDown();
                assertTrue(proceed.await(60, TimeUnit.SECONDS));
                assertFalse(n.reclaimed);
                g.retire(n, Node::reclaim); // an open guard still works
            }
        }, errors);
        assertTrue(inside.await(60, TimeUnit.SECONDS));
        IllegalStateException e = assertThrows(IllegalStateException.class, reclaimer::close);
        assertTrue(e.getMessage().contains("open"), e.getMessage());
        assertFalse(reclaimer.isClosed());
        assertThrows(IllegalStateException.class, reclaimer::enter);
        proceed.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        reclaimer.close();
        assertTrue(reclaimer.isClosed());
        assertTrue(a.reclaimed);
        assertEquals(1, reclaimer.stats().reclaimed());
    }

    /** register(): twice is an error, closing on another thread is an error, closing twice is fine. */
    @Test
    void registrationMisuseIsReported() throws Exception {
        Registration reg = reclaimer.register();
        assertThrows(IllegalStateException.class, reclaimer::register);
        AtomicReference<Throwable> fromOther = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                reg.close();
            } catch (Throwable e) {
                fromOther.set(e);
            }
        });
        t.start();
        t.join();
        assertTrue(fromOther.get() instanceof IllegalStateException, "close from another thread: " + fromOther.get());
        try (Guard g = reclaimer.enter()) {
            g.retire("x", x -> {});
        }
        reg.close();
        reg.close();
        try (Registration again = reclaimer.register()) {
            assertNotNull(again);
        }
    }

    /**
     * Registration.enter() opens the thread's guard: it protects like Reclaimer.enter() (a reader entered
     * through its registration holds back the reclamation of what it read), nests and mixes with it.
     */
    @Test
    void aGuardEnteredThroughTheRegistrationProtects() throws Exception {
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        CountDownLatch protectedIt = new CountDownLatch(1);
        CountDownLatch retired = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("registered-reader", () -> {
            try (Registration reg = reclaimer.register()) {
                try (Guard outer = reg.enter()) {
                    try (Guard inner = reclaimer.enter()) { // mixes with Reclaimer.enter(): one nested guard
                        assertSame(outer, inner, "the registration opened another guard than the thread's");
                    }
                    Node n = outer.protect(head);
                    assertSame(a, n);
                    protectedIt.countDown();
                    assertTrue(retired.await(60, TimeUnit.SECONDS));
                    assertFalse(n.reclaimed, "reclaimed while a guard entered through the registration protected it");
                }
                try (Guard again = reg.enter()) { // reopens after close
                    assertNotNull(again.protect(head));
                }
            }
        }, errors);
        assertTrue(protectedIt.await(60, TimeUnit.SECONDS));
        head.set(new Node(2));
        reclaimer.retire(a, Node::reclaim);
        for (int i = 0; i < 100; i++) reclaimer.flush();
        assertFalse(a.reclaimed, "reclaimed while a guard entered through the registration protected it");
        retired.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        if (reclaimsBeforeClose()) {
            reclaimer.flush();
            assertTrue(a.reclaimed, "not reclaimed once the registered reader closed its guard");
        }
    }

    /** Registration.enter() refuses another thread, a closed registration and a closed reclaimer. */
    @Test
    void registrationEnterMisuseIsReported() throws Exception {
        Registration reg = reclaimer.register();
        AtomicReference<Throwable> fromOther = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                reg.enter().close();
            } catch (Throwable e) {
                fromOther.set(e);
            }
        });
        t.start();
        t.join();
        assertTrue(fromOther.get() instanceof IllegalStateException, "enter from another thread: " + fromOther.get());
        Guard g = reg.enter();
        g.close();
        assertThrows(IllegalStateException.class, g::close, "a guard entered through the registration closed twice");
        reg.close();
        IllegalStateException closedReg = assertThrows(IllegalStateException.class, reg::enter);
        assertTrue(closedReg.getMessage().contains("registration"), closedReg.getMessage());
        try (Registration live = reclaimer.register()) {
            live.offline(); // an online QSBR thread would hold close() back
            reclaimer.close();
            assertThrows(IllegalStateException.class, live::enter, "enter through a registration after close()");
        }
    }

    /** register() inside a guard is refused, also on a thread that already holds a record from earlier guards. */
    @Test
    void registerInsideAGuardIsRefused() {
        try (Guard g = reclaimer.enter()) { // the first guard: some schemes keep the record from now on
            g.retire("x", x -> {});
        }
        try (Guard g = reclaimer.enter()) {
            assertThrows(IllegalStateException.class, reclaimer::register, "register() inside a guard");
            assertNotNull(g);
        }
        try (Registration reg = reclaimer.register()) { // outside: fine, and the refused call registered nothing
            assertNotNull(reg);
            reg.offline();
        }
    }

    /** After close(), register() and enter() throw on every thread, the closing thread included. */
    @Test
    void registerAndEnterAfterCloseThrowOnTheClosingThreadToo() {
        try (Guard g = reclaimer.enter()) { // this thread has a guard (and, for some schemes, a record) before close
            g.retire("x", x -> {});
        }
        reclaimer.close();
        assertThrows(IllegalStateException.class, reclaimer::register, "register() after close()");
        assertThrows(IllegalStateException.class, reclaimer::enter, "enter() after close()");
    }

    /** A closed registration stays closed, even when the thread registers again (and gets the same record). */
    @Test
    void aClosedRegistrationStaysClosedAfterTheThreadRegistersAgain() {
        Registration first = reclaimer.register();
        first.close();
        try (Registration second = reclaimer.register()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, first::enter);
            assertTrue(e.getMessage().contains("registration"), e.getMessage());
            assertThrows(IllegalStateException.class, first::quiescent);
            try (Guard g = second.enter()) {
                assertNotNull(g);
            }
            first.close(); // idempotent: must not end the second registration
            try (Guard g = second.enter()) {
                assertNotNull(g);
            }
            second.offline();
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Atom
    // ---------------------------------------------------------------------------------------------------

    /** A resource with a close count. */
    static final class Resource {
        final int id;
        final AtomicInteger closes = new AtomicInteger();
        volatile boolean closed;

        Resource(int id) {
            this.id = id;
        }

        void close() {
            closed = true;
            closes.incrementAndGet();
        }
    }

    /** A resource swapped under many readers is closed exactly once and never while read. */
    @Test
    void atomClosesEachSwappedResourceOnceAndNeverWhileRead() throws Exception {
        int swaps = 20_000 * scale();
        ConcurrentLinkedQueue<Resource> created = new ConcurrentLinkedQueue<>();
        Resource first = new Resource(0);
        created.add(first);
        Atom<Resource> atom = new Atom<>(reclaimer, first, Resource::close);
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> readers = new ArrayList<>();
        CountDownLatch reading = new CountDownLatch(3);
        for (int r = 0; r < 3; r++) {
            readers.add(start("atom-reader-" + r, () -> {
                boolean firstRead = true;
                while (firstRead || !done.get()) {
                    try (Guard g = reclaimer.enter()) {
                        Resource res = atom.load(g);
                        if (res.closed) violations.incrementAndGet();
                        Thread.onSpinWait();
                        if (res.closed) violations.incrementAndGet();
                    }
                    atom.read(res -> {
                        if (res.closed) violations.incrementAndGet();
                        return null;
                    });
                    reads.incrementAndGet();
                    if (firstRead) reading.countDown();
                    firstRead = false;
                }
            }, errors));
        }
        // every reader is in its loop before the swaps start (an unscheduled reader would test nothing)
        assertTrue(reading.await(60, TimeUnit.SECONDS), "readers did not start");
        for (int i = 1; i <= swaps; i++) {
            Resource next = new Resource(i);
            created.add(next);
            switch (i % 3) {
                case 0 -> atom.store(next);
                case 1 -> {
                    try (Guard g = reclaimer.enter()) {
                        Resource old = atom.swap(g, next);
                        assertFalse(old.closed, "swap returned a closed resource");
                    }
                }
                default -> atom.update(cur -> next);
            }
        }
        done.set(true);
        join(readers);
        assertNoErrors(errors);
        assertEquals(0, violations.get(), "a reader saw its resource closed while it held it");
        assertTrue(reads.get() >= 3);
        atom.close();
        assertThrows(IllegalStateException.class, () -> atom.store(new Resource(-1)));
        reclaimer.close();
        for (Resource r : created) assertEquals(1, r.closes.get(), "resource " + r.id + " closed " + r.closes.get() + " times");
    }

    /** Atom.compareAndSet retires only on success; update's losing candidates are reclaimed, not leaked. */
    @Test
    void atomCompareAndSetAndUpdate() throws Exception {
        Resource a = new Resource(1);
        Resource b = new Resource(2);
        Atom<Resource> atom = new Atom<>(reclaimer, a, Resource::close);
        assertFalse(atom.compareAndSet(b, new Resource(3)));
        assertTrue(atom.compareAndSet(a, b));
        assertEquals(2, (int) atom.read(r -> r.id));
        int threads = 2;
        int updates = 5_000;
        ConcurrentLinkedQueue<Resource> created = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            ts.add(start("updater-" + t, () -> {
                for (int i = 0; i < updates; i++) {
                    atom.update(cur -> {
                        Resource n = new Resource(cur.id + 1);
                        created.add(n);
                        return n;
                    });
                }
            }, errors));
        }
        join(ts);
        assertNoErrors(errors);
        assertEquals(2 + threads * updates, (int) atom.read(r -> r.id), "an update was lost");
        atom.close();
        reclaimer.close();
        assertEquals(1, a.closes.get());
        assertEquals(1, b.closes.get());
        for (Resource r : created) assertEquals(1, r.closes.get(), "candidate " + r.id + " closed " + r.closes.get() + " times");
    }
}
