package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.assertNullArgumentsNamed;
import static reclaim.tck.Fixtures.await;
import static reclaim.tck.Fixtures.gcUntil;
import static reclaim.tck.Fixtures.holdingARetiredObject;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.reserve;
import static reclaim.tck.Fixtures.start;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.tck.Fixtures.Holder;
import reclaim.tck.Fixtures.KeyedNode;
import reclaim.tck.Fixtures.Node;

/**
 * Owned guards ({@link Reclaimer#enterOwned()}): a critical section opened on one thread, used on others one at a
 * time, and closed on any.
 * <ul>
 *   <li><b>safety across threads</b>: what a guard protected on the thread that opened it, by reference, by field
 *       and by key, and what it protects later on other threads, is not reclaimed while a writer retires it, until
 *       the guard is closed on whichever thread holds it last; also along a {@code CompletableFuture} chain that
 *       hops between platform and virtual threads;</li>
 *   <li><b>exactly once</b>: objects retired through an owned guard on several threads are reclaimed once each,
 *       none before the guard closed;</li>
 *   <li><b>independence</b>: thread guards opened and closed while an owned guard is held, and other owned guards,
 *       neither end it nor are ended by it; under QSBR it holds reclamation back across the holder's quiescent
 *       states until it closes;</li>
 *   <li><b>close</b>: {@code Reclaimer.close()} refuses while an owned guard is open, on the thread that holds it
 *       and on another, the guard keeps working and a later close completes; a reclaimer dropped with an owned guard
 *       open is finished when the guard closes on another thread;</li>
 *   <li><b>misuse</b>: two threads calling at once are refused with {@link IllegalStateException} and the guard
 *       stays usable; use after close and a second close are refused on every thread;</li>
 *   <li>owned guards opened and closed in turn reuse records instead of piling them up.</li>
 * </ul>
 * A provider without owned guards fails these tests: the suite holds every provider to the full API.
 */
interface OwnedGuardConformance extends SchemeUnderTest {

    /** Objects retired to push a scheme to collect (bags are sealed and judged as they fill). */
    int PUSH = 2048;

    /**
     * Opened on thread A, which protects by reference (two slots and without one), by field and by key, hands the
     * guard to thread B through a {@link CompletableFuture} and ends; a writer unlinks and retires all of it and
     * pushes reclamation (sweeping what ended threads left) while B reads; B protects one more node, which the writer retires too, and closes the guard.
     * Nothing is reclaimed before the close; after it, a flush reclaims each object once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void anOwnedGuardHandedToAnotherThreadKeepsWhatItProtected() throws Exception {
        Reclaimer r = reclaimer();
        Node a = new Node(1);
        Node b = new Node(2);
        a.next.set(b);
        AtomicReference<Node> head = new AtomicReference<>(a);
        Node c = new Node(3);
        Holder holder = new Holder();
        holder.node = c;
        Node d = new Node(4);
        AtomicReference<Node> single = new AtomicReference<>(d);
        KeyedNode k = new KeyedNode(0x5eed_0001L, r.era());
        AtomicLong cell = new AtomicLong(k.key());
        Node e = new Node(5);
        List<Node> fillers = new ArrayList<>();
        CompletableFuture<OwnedGuard> handed = new CompletableFuture<>();
        CountDownLatch firstRetired = new CountDownLatch(1);
        CountDownLatch eProtected = new CountDownLatch(1);
        CountDownLatch eRetired = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        Thread opener = start("opener", () -> {
            try {
                OwnedGuard g = r.enterOwned();
                assertSame(a, g.protect(head, 0));
                assertSame(b, g.protect(a.next, 1));
                assertEquals(k.key(), reserve(g, cell, 2));
                assertSame(c, g.<Node>protect(Holder.NODE, holder));
                assertSame(d, g.protect(single));
                handed.complete(g); // the hand-over: completing the future happens-before B's get()
            } catch (Throwable t) {
                handed.completeExceptionally(t);
                throw t;
            }
        }, errors);
        ts.add(opener);
        ts.add(start("writer", () -> {
            handed.get(60, TimeUnit.SECONDS);
            opener.join(TimeUnit.SECONDS.toMillis(60)); // the thread that opened the guard has ended: a sweep may run
            head.set(new Node(10)); // unlinks a, and b with it
            holder.node = null;
            single.set(null);
            cell.set(0);
            for (Node n : List.of(a, b, c, d)) r.retire(n, Node::reclaim);
            r.retire(k, KeyedNode::reclaim);
            push(r, fillers);
            firstRetired.countDown();
            await(eProtected);
            head.set(new Node(11)); // unlinks e
            r.retire(e, Node::reclaim);
            push(r, null);
            eRetired.countDown();
        }, errors));
        ts.add(start("reader", () -> {
            OwnedGuard g = handed.get(60, TimeUnit.SECONDS);
            try {
                // Read what A protected while the writer retires it and pushes reclamation.
                do {
                    assertAlive("protected on the opening thread", a, b, c, d);
                    assertEquals(0, k.actions.get(), "a key reserved on the opening thread was reclaimed");
                } while (!firstRetired.await(1, TimeUnit.MILLISECONDS) && errors.isEmpty());
                if (!errors.isEmpty()) return; // the writer failed: reported by join
                head.set(e);
                assertSame(e, g.protect(head, 3));
                eProtected.countDown();
                await(eRetired);
                assertAlive("protected on this thread or the opening one", a, b, c, d, e);
                assertEquals(0, k.actions.get(), "a key reserved on the opening thread was reclaimed");
            } finally {
                eProtected.countDown();
                g.close(); // on B: the opener ended long ago
                closed.countDown();
            }
        }, errors));
        join(ts);
        assertNoErrors(errors);
        if (reclaimsEarly()) {
            r.flush(); // no guard open anywhere: everything retired before it is reclaimed
            for (Node n : List.of(a, b, c, d, e)) assertEquals(1, n.actions.get(), "node " + n.value + " after flush");
            assertEquals(1, k.actions.get(), "the keyed node after flush");
        }
        r.close();
        for (Node n : List.of(a, b, c, d, e)) assertEquals(1, n.actions.get(), "node " + n.value + " after close()");
        assertEquals(1, k.actions.get(), "the keyed node after close()");
        for (Node n : fillers) assertEquals(1, n.actions.get(), "a filler node after close()");
    }

    /**
     * Chains of {@link CompletableFuture} stages, each stage on a pool thread or a new virtual thread, carry one
     * owned guard each: the first stage opens it, every stage protects the current head and checks that what the
     * earlier stages protected is not reclaimed, the last stage closes it, while a writer keeps replacing the head
     * and retiring the old one. No stage sees a reclaimed node; after close(), every retired node ran once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void ownedGuardsRidingCompletableFutureChainsAcrossThreadsStaySafe() throws Exception {
        Reclaimer r = reclaimer();
        int chains = 150 * scaleFactor();
        int stages = 5;
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        ConcurrentLinkedQueue<Node> retired = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicLong violations = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = start("writer", () -> {
            for (long i = 1, n = 200_000L * scaleFactor(); !stop.get() && i <= n; i++) { // bounded: nodes stay pending
                Node old = head.getAndSet(new Node(i));
                r.retire(old, Node::reclaim);
                retired.add(old);
                if ((i & 63) == 0) r.flush();
                if ((i & 1023) == 0) Thread.yield(); // give the chains' threads the cores now and then
            }
        }, errors);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor();
        try {
            List<CompletableFuture<?>> all = new ArrayList<>();
            for (int c = 0; c < chains; c++) {
                Hop hop = new Hop();
                CompletableFuture<Hop> f = CompletableFuture.supplyAsync(() -> {
                    hop.guard = r.enterOwned();
                    hop.seen.add(hop.guard.protect(head));
                    return hop;
                }, pool);
                for (int s = 1; s < stages; s++) {
                    f = f.thenApplyAsync(h -> {
                        for (Node n : h.seen) if (n.reclaimed) violations.incrementAndGet();
                        h.seen.add(h.guard.protect(head));
                        return h;
                    }, (s & 1) == 0 ? pool : virtual);
                }
                all.add(f.whenCompleteAsync((h, failure) -> {
                    if (failure != null) errors.add(failure);
                    if (hop.guard != null) {
                        for (Node n : hop.seen) if (n.reclaimed) violations.incrementAndGet();
                        hop.guard.close();
                    }
                }, (c & 1) == 0 ? pool : virtual));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(100, TimeUnit.SECONDS);
        } finally {
            stop.set(true);
            pool.shutdown();
            virtual.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS), "the pool did not end");
            assertTrue(virtual.awaitTermination(60, TimeUnit.SECONDS), "the virtual threads did not end");
            join(List.of(writer));
        }
        assertNoErrors(errors);
        assertEquals(0, violations.get(), "a stage saw a node reclaimed while its owned guard protected it");
        r.close();
        for (Node n : retired) assertEquals(1, n.actions.get(), "node " + n.value + " ran " + n.actions.get() + " times");
    }

    /** A chain's owned guard and what its stages protected; handed from stage to stage by the future. */
    final class Hop {
        OwnedGuard guard;
        final List<Node> seen = new ArrayList<>();
    }

    /**
     * Objects retired through an owned guard, on the thread that opened it and on the one it was handed to, are not
     * reclaimed while it stays open, flushes on both threads notwithstanding (it protected some of them); once it
     * is closed a flush reclaims them, and each action runs exactly once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void retiresThroughAnOwnedGuardOnTwoThreadsRunOnceAndNotBeforeItCloses() throws Exception {
        Reclaimer r = reclaimer();
        Node x = new Node(1);
        Node y = new Node(2);
        AtomicReference<Node> head = new AtomicReference<>(x);
        OwnedGuard g = r.enterOwned();
        assertSame(x, g.protect(head, 0));
        head.set(y); // unlinks x
        g.retire(x, Node::reclaim);
        List<Node> more = new ArrayList<>();
        for (int i = 0; i < PUSH; i++) {
            Node n = new Node(100 + i);
            more.add(n);
            g.retire(n, Node::reclaim);
        }
        r.flush();
        assertEquals(0, x.actions.get(), "retired through the guard, protected by it, reclaimed while it is open");
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread other = start("holder", () -> { // started after the calls above: the start is the hand-over
            assertSame(y, g.protect(head, 1));
            head.set(new Node(3)); // unlinks y
            g.retire(y, Node::reclaim);
            for (int i = 0; i < PUSH; i++) {
                Node n = new Node(10_000 + i);
                synchronized (more) {
                    more.add(n);
                }
                g.retire(n, Node::reclaim);
            }
            r.flush();
            assertEquals(0, x.actions.get(), "x reclaimed while the owned guard that protected it is open");
            assertEquals(0, y.actions.get(), "y reclaimed while the owned guard that protected it is open");
            g.close();
        }, errors);
        join(List.of(other));
        assertNoErrors(errors);
        if (reclaimsEarly()) {
            r.flush();
            assertEquals(1, x.actions.get(), "x after the guard closed and a flush");
            assertEquals(1, y.actions.get(), "y after the guard closed and a flush");
            synchronized (more) {
                for (Node n : more) assertEquals(1, n.actions.get(), "node " + n.value + " after a flush");
            }
        }
        r.close();
        assertEquals(1, x.actions.get());
        assertEquals(1, y.actions.get());
        synchronized (more) {
            for (Node n : more) assertEquals(1, n.actions.get(), "node " + n.value + " after close()");
        }
        assertEquals(r.stats().retired(), r.stats().reclaimed(), r.stats().toString());
    }

    /**
     * Thread guards opened, nested and closed while an owned guard is held neither end it nor are ended by it, in
     * either order; two owned guards on one thread close in either order; and what the owned guard protected stays
     * unreclaimed until it closes, whatever the thread guards did.
     */
    @Test
    default void threadGuardsAndOtherOwnedGuardsAreIndependentOfAnOwnedGuard() {
        Reclaimer r = reclaimer();
        Node x = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(x);
        Guard outer = r.enter();
        OwnedGuard owned = r.enterOwned();
        assertSame(x, owned.protect(head, 0));
        try (Guard inner = r.enter()) {
            assertSame(x, inner.protect(head));
        }
        outer.close(); // the thread's outermost guard closes with the owned guard open
        OwnedGuard second = r.enterOwned();
        assertNotSame(owned, second, "each enterOwned() opens a guard of its own");
        second.close(); // the later one first
        head.set(new Node(2)); // unlinks x
        r.retire(x, Node::reclaim);
        for (int round = 0; round < 3; round++) {
            try (Guard g = r.enter()) {
                g.retire(new Node(10 + round), Node::reclaim);
            }
            r.flush();
        }
        assertEquals(0, x.actions.get(), "x reclaimed while the owned guard that protected it is open");
        Guard t = owned.nest(); // an owned guard does not nest: the thread's guard, as enter() opens it
        assertSame(head.get(), owned.protect(head, 1), "the owned guard stopped working");
        owned.close(); // with a thread guard open
        assertThrows(IllegalStateException.class, owned::nest, "nest() of a closed owned guard");
        assertNotNull(t.protect(head), "the thread guard stopped working when the owned guard closed");
        t.close();
        assertThrows(IllegalStateException.class, t::close, "the thread guard was closed twice");
        if (reclaimsEarly()) {
            r.flush();
            assertEquals(1, x.actions.get(), "x after the owned guard closed and a flush");
        }
    }

    /**
     * A registered thread holding an owned guard announces quiescent states, goes offline and flushes: none of that
     * ends the owned guard, which keeps what it protected (under QSBR it stays online until it closes); once it is
     * closed, a flush reclaims it.
     */
    @Test
    default void anOwnedGuardHoldsReclamationBackAcrossQuiescentStatesUntilItCloses() {
        Reclaimer r = reclaimer();
        Node x = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(x);
        try (Registration reg = r.register()) {
            OwnedGuard g = r.enterOwned();
            assertSame(x, g.protect(head));
            head.set(new Node(2)); // unlinks x
            r.retire(x, Node::reclaim);
            for (int i = 0; i < 64; i++) {
                reg.quiescent();
                try (Guard t = reg.enter()) {
                    t.retire(new Node(10 + i), Node::reclaim);
                }
                reg.quiescent();
                r.flush();
            }
            reg.offline();
            r.flush();
            assertEquals(0, x.actions.get(), "x reclaimed while the owned guard that protected it is open");
            assertSame(x, g.protect(new AtomicReference<>(x)), "the owned guard stopped working");
            g.close();
            r.flush();
            if (reclaimsEarly()) assertEquals(1, x.actions.get(), "x after the owned guard closed and a flush");
        }
    }

    /**
     * {@code close()} while this thread holds an open owned guard is refused; the guard keeps working, no new owned
     * guard opens, and once the guard is closed {@code close()} completes and reclaims what it retired.
     */
    @Test
    default void closeIsRefusedWhileThisThreadHoldsAnOwnedGuard() {
        Reclaimer r = reclaimer();
        AtomicReference<Node> head = new AtomicReference<>(new Node(1));
        OwnedGuard g = r.enterOwned();
        Node x = g.protect(head);
        IllegalStateException e = assertThrows(IllegalStateException.class, r::close);
        assertTrue(e.getMessage().contains("open"), e.getMessage());
        assertFalse(r.isClosed(), "close() refused but reports closed");
        assertThrows(IllegalStateException.class, r::enterOwned, "an owned guard opened after a refused close()");
        assertSame(x, g.protect(head), "the owned guard stopped working after a refused close()");
        head.set(new Node(2));
        g.retire(x, Node::reclaim);
        g.close();
        r.close();
        assertTrue(r.isClosed());
        assertEquals(1, x.actions.get(), "what the owned guard retired, after close()");
        assertThrows(IllegalStateException.class, r::enterOwned, "enterOwned() after close()");
    }

    /**
     * {@code close()} while another thread holds an open owned guard (opened on this thread and handed over) is
     * refused; the holder keeps using it and closes it; then {@code close()} completes.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void closeIsRefusedWhileAnotherThreadHoldsAnOwnedGuard() throws Exception {
        Reclaimer r = reclaimer();
        Node x = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(x);
        OwnedGuard g = r.enterOwned();
        assertSame(x, g.protect(head));
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch refused = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread holder = start("holder", () -> {
            try {
                assertSame(x, g.protect(head, 1));
                holding.countDown();
                await(refused);
                assertSame(x, g.protect(head, 2), "the owned guard stopped working after a refused close()");
                head.set(new Node(2));
                g.retire(x, Node::reclaim);
            } finally {
                holding.countDown();
                g.close();
            }
        }, errors);
        await(holding);
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, r::close);
            assertTrue(e.getMessage().contains("open"), e.getMessage());
            assertFalse(r.isClosed(), "close() refused but reports closed");
            assertEquals(0, x.actions.get(), "x reclaimed by a refused close() while an owned guard protects it");
        } finally {
            refused.countDown();
            join(List.of(holder));
        }
        assertNoErrors(errors);
        r.close();
        assertTrue(r.isClosed());
        assertEquals(1, x.actions.get(), "what the owned guard retired, after close()");
    }

    /**
     * Two threads calling one owned guard at once: the call that begins while the other is in progress is refused
     * with {@link IllegalStateException} (the two race until that happens, within a bounded time), every call that
     * is not refused returns what it read, and the guard stays usable and closes normally.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void twoThreadsCallingAnOwnedGuardAtOnceAreRefused() throws Exception {
        Reclaimer r = reclaimer();
        Node x = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(x);
        OwnedGuard g = r.enterOwned();
        AtomicInteger refusals = new AtomicInteger();
        AtomicReference<String> message = new AtomicReference<>();
        CyclicBarrier go = new CyclicBarrier(2);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int slot = t;
            ts.add(start("caller-" + t, () -> {
                go.await(60, TimeUnit.SECONDS);
                while (refusals.get() == 0 && System.nanoTime() - deadline < 0 && errors.isEmpty()) {
                    for (int i = 0; i < 256; i++) {
                        try {
                            if (g.protect(head, slot) != x) throw new AssertionError("a call returned what it did not read");
                        } catch (IllegalStateException refused) {
                            message.compareAndSet(null, refused.getMessage());
                            refusals.incrementAndGet();
                        }
                    }
                }
            }, errors));
        }
        join(ts);
        assertNoErrors(errors);
        assertTrue(refusals.get() > 0, "two threads called one owned guard at once for 30 s and no call was refused");
        assertNotNull(message.get(), "the refusal has no message");
        assertSame(x, g.protect(head, 0), "the owned guard stopped working after refusing a call");
        head.set(new Node(2));
        g.retire(x, Node::reclaim);
        g.close();
        r.close();
        assertEquals(1, x.actions.get(), "what the owned guard retired, after close()");
    }

    /**
     * An owned guard closed on another thread refuses every later call, on that thread and on others, including a
     * second close; it no longer counts as open, so {@code close()} of the reclaimer completes.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void anOwnedGuardIsRefusedAfterItsCloseOnEveryThread() throws Exception {
        Reclaimer r = reclaimer();
        AtomicReference<Node> head = new AtomicReference<>(new Node(1));
        Holder holder = new Holder();
        holder.node = new Node(2);
        OwnedGuard g = r.enterOwned();
        g.protect(head);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread closer = start("closer", () -> {
            g.close();
            assertRefusesEverything(g, head, holder, "on the thread that closed it");
        }, errors);
        join(List.of(closer));
        assertNoErrors(errors);
        assertRefusesEverything(g, head, holder, "on the thread that opened it");
        Thread third = start("third", () -> assertRefusesEverything(g, head, holder, "on a third thread"), errors);
        join(List.of(third));
        assertNoErrors(errors);
        r.close(); // nothing open
        assertTrue(r.isClosed());
    }

    private static void assertRefusesEverything(OwnedGuard g, AtomicReference<Node> head, Holder holder, String where) {
        assertThrows(IllegalStateException.class, () -> g.protect(head), "protect after close, " + where);
        assertThrows(IllegalStateException.class, () -> g.protect(head, 0), "protect(slot) after close, " + where);
        assertThrows(IllegalStateException.class, () -> g.protect(Holder.NODE, holder), "protect(field) after close, " + where);
        assertThrows(IllegalStateException.class, () -> g.protect(Holder.NODE, holder, 0),
                "protect(field, slot) after close, " + where);
        assertThrows(IllegalStateException.class, () -> g.reserve(7, 0), "reserve after close, " + where);
        assertThrows(IllegalStateException.class, () -> g.retire(new Node(3), Node::reclaim), "retire after close, " + where);
        assertThrows(IllegalStateException.class, g::close, "a second close, " + where);
    }

    /**
     * An owned guard checks its arguments as any guard does (null arguments named, slots checked) and reports its
     * reclaimer and slots.
     */
    @Test
    default void anOwnedGuardChecksArgumentsAndReportsItsReclaimer() {
        Reclaimer r = reclaimer();
        AtomicReference<String> ref = new AtomicReference<>("v");
        OwnedGuard g = r.enterOwned();
        try {
            assertSame(r, g.reclaimer());
            assertTrue(g.slots() >= Guard.MIN_SLOTS, "slots() " + g.slots());
            for (int s = 0; s < Guard.MIN_SLOTS; s++) assertEquals("v", g.protect(ref, s));
            assertThrows(IllegalArgumentException.class, () -> g.protect(ref, -1));
            assertThrows(IllegalArgumentException.class, () -> g.reserve(1, -1));
            assertNullArgumentsNamed(g);
            assertEquals("v", g.protect(ref), "the guard stopped working after refusing bad arguments");
        } finally {
            g.close();
        }
    }

    /**
     * Owned guards opened and closed in turn by several threads, each handed to the next thread before it closes,
     * reuse records: the registry stays small, and everything retired through them runs once by close().
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void ownedGuardsOpenedInTurnReuseRecords() throws Exception {
        Reclaimer r = reclaimer();
        int threads = 4;
        int per = 1000 * scaleFactor();
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        AtomicIntegerArray runs = new AtomicIntegerArray(threads * per);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<OwnedGuard> toClose = new ConcurrentLinkedQueue<>(); // opened by one thread, closed by another
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t * per;
            ts.add(start("turns-" + t, () -> {
                for (int i = 0; i < per; i++) {
                    OwnedGuard g = r.enterOwned();
                    g.protect(head);
                    g.retire(base + i, (Consumer<Integer>) runs::incrementAndGet);
                    toClose.add(g);
                    OwnedGuard other = toClose.poll();
                    if (other != null) other.close();
                }
            }, errors));
        }
        join(ts);
        for (OwnedGuard g; (g = toClose.poll()) != null; ) g.close();
        assertNoErrors(errors);
        int participants = r.stats().participants();
        assertTrue(participants <= 64, participants + " records after " + threads * per + " owned guards, at most "
                + threads * 2 + " open at once");
        r.close();
        for (int i = 0; i < threads * per; i++) assertEquals(1, runs.get(i), "object " + i + " ran " + runs.get(i) + " times");
    }

    /**
     * A reclaimer dropped without {@code close()} while an owned guard of it is open (the code kept only the guard)
     * is collected; nothing the guard protected is reclaimed while it stays open, and once another thread closes it,
     * everything the reclaimer held is reclaimed.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aReclaimerDroppedWithAnOwnedGuardOpenIsFinishedWhenAnotherThreadClosesIt() throws Exception {
        AtomicIntegerArray ran = new AtomicIntegerArray(1);
        OwnedGuard[] open = new OwnedGuard[1];
        WeakReference<Reclaimer> weak = openOwnedAndDrop(ran, open);
        assertTrue(gcUntil(() -> weak.get() == null), "an open owned guard keeps its dropped reclaimer reachable");
        assertNull(open[0].reclaimer(), "reclaimer() of a guard whose reclaimer was collected");
        assertEquals(0, ran.get(0), "an object protected by an open owned guard was reclaimed");
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        OwnedGuard g = open[0];
        open[0] = null;
        join(List.of(start("closer", g::close, errors)));
        assertNoErrors(errors);
        gcUntil(() -> ran.get(0) != 0);
        assertEquals(1, ran.get(0), "what the dropped reclaimer held was not reclaimed once its owned guard closed");
    }

    private WeakReference<Reclaimer> openOwnedAndDrop(AtomicIntegerArray ran, OwnedGuard[] open) {
        Reclaimer r = freshReclaimer();
        OwnedGuard g = holdingARetiredObject(r.enterOwned(), ran);
        assertSame(r, g.reclaimer());
        open[0] = g;
        return new WeakReference<>(r);
    }

    /** Retires {@link #PUSH} nodes (collected into {@code into} when given) and flushes: pushes collection. */
    private static void push(Reclaimer r, List<Node> into) {
        for (int i = 0; i < PUSH; i++) {
            Node n = new Node(1_000_000 + i);
            if (into != null) into.add(n);
            r.retire(n, Node::reclaim);
            if ((i & 255) == 0) r.flush();
        }
        r.flush();
    }

    private static void assertAlive(String what, Node... nodes) {
        for (Node n : nodes) {
            if (n.reclaimed) fail("node " + n.value + ", " + what + ", was reclaimed while the owned guard is open");
        }
    }
}
