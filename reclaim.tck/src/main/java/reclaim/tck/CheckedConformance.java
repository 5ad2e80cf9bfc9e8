package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Stats;
import reclaim.tck.Fixtures.Holder;
import reclaim.tck.Fixtures.Node;

/**
 * Checked mode ({@link Options#checked()}): a second retire of an object whose action has not started is refused
 * with {@link IllegalStateException} naming the object, and the first retire's action still runs exactly once; an
 * object may be retired again once its action started (a recycled object); a retire inside a guard of an object
 * still held by every source the guard read it from, in a guard that retired nothing else it read, is refused;
 * {@code close()} names what it reclaimed late. The default mode checks none of it. Each test makes its own
 * reclaimer ({@link #reclaimerWith(Options)}), so the suite's reclaimer may run in either mode.
 */
interface CheckedConformance extends SchemeUnderTest {

    /** An object with a recognisable {@code toString()}, counting its action's runs. */
    final class Tagged {
        final String tag;
        final AtomicInteger runs = new AtomicInteger();

        Tagged(String tag) {
            this.tag = tag;
        }

        void reclaim() {
            runs.incrementAndGet();
        }

        @Override
        public String toString() {
            return "Tagged(" + tag + ")";
        }
    }

    private Reclaimer checked() {
        Reclaimer r = reclaimerWith(Options.DEFAULT.withChecked(true));
        assertNotNull(r, "newReclaimer(Options) returned null");
        return r;
    }

    private static void assertNames(Object object, IllegalStateException e) {
        String m = e.getMessage();
        assertNotNull(m, "refused without a message");
        assertTrue(m.contains(object.toString()), "'" + m + "' does not name " + object);
        assertTrue(m.contains(object.getClass().getName()), "'" + m + "' does not name the class");
        assertTrue(m.contains(Integer.toHexString(System.identityHashCode(object))), "'" + m + "' lacks the identity hash");
    }

    /** A second retire before the first one's action started is refused, naming the object; the action runs once. */
    @Test
    default void secondRetireBeforeReclamationIsRefusedNamingTheObject() {
        Tagged outside = new Tagged("twice-outside");
        Tagged inside = new Tagged("twice-inside");
        Tagged crossed = new Tagged("twice-crossed");
        Reclaimer r = checked();
        try {
            r.retire(outside, Tagged::reclaim);
            assertNames(outside, assertThrows(IllegalStateException.class, () -> r.retire(outside, Tagged::reclaim)));
            try (Guard g = r.enter()) {
                g.retire(inside, Tagged::reclaim);
                assertNames(inside, assertThrows(IllegalStateException.class, () -> g.retire(inside, Tagged::reclaim)));
                assertNames(inside, assertThrows(IllegalStateException.class, () -> r.retire(inside, Tagged::reclaim)));
                assertNames(outside, assertThrows(IllegalStateException.class, () -> g.retire(outside, Tagged::reclaim)));
            }
            r.retire(crossed, Tagged::reclaim);
            try (Guard g = r.enter()) {
                assertNames(crossed, assertThrows(IllegalStateException.class, () -> g.retire(crossed, Tagged::reclaim)));
            }
            r.close();
            for (Tagged t : List.of(outside, inside, crossed)) assertEquals(1, t.runs.get(), t + "'s action runs");
            Stats s = r.stats();
            assertEquals(3, s.retired(), "a refused retire is not counted: " + s);
            assertEquals(3, s.reclaimed(), s.toString());
            assertEquals(0, s.failed(), s.toString());
        } finally {
            r.close(); // idempotent: a no-op after the test's own close()
        }
    }

    /**
     * A second retire from another thread, while the first is still pending, is refused too.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void secondRetireFromAnotherThreadIsRefused() throws Exception {
        Tagged shared = new Tagged("twice-threads");
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        String firstRetirer = Thread.currentThread().getName();
        Reclaimer r = checked();
        try {
            // Held open so that no scheme reclaims the first retire before the second one.
            AtomicReference<Tagged> source = new AtomicReference<>(shared);
            try (Guard g = r.enter()) {
                assertEquals(shared, g.protect(source));
                source.set(null);
                g.retire(shared, Tagged::reclaim);
                Thread t = start("second-retirer", () -> {
                    IllegalStateException e = assertThrows(IllegalStateException.class,
                            () -> r.retire(shared, Tagged::reclaim));
                    assertNames(shared, e);
                    assertTrue(e.getMessage().contains("'" + firstRetirer + "'"), "the first retirer is not named: "
                            + e.getMessage());
                }, errors);
                join(List.of(t));
            }
            assertNoErrors(errors);
            r.close();
            assertEquals(1, shared.runs.get(), "the first retire's action runs once");
        } finally {
            r.close(); // idempotent: a no-op after the test's own close()
        }
    }

    /**
     * Once its action has started an object may be retired again, as a pool recycles a node: an action that
     * retires its own object again, and a retire after a flush reclaimed the first one.
     */
    @Test
    default void retireAfterReclamationIsAccepted() {
        Tagged recycled = new Tagged("recycled");
        AtomicReference<Reclaimer> self = new AtomicReference<>();
        Consumer<Tagged> recycleOnce = new Consumer<>() {
            @Override
            public void accept(Tagged t) {
                if (t.runs.incrementAndGet() == 1) self.get().retire(t, this); // its next life, from its own action
            }
        };
        Tagged again = new Tagged("again");
        Reclaimer r = checked();
        try {
            self.set(r);
            r.retire(recycled, recycleOnce);
            if (reclaimsEarly()) {
                r.retire(again, Tagged::reclaim);
                r.flush();
                assertEquals(1, again.runs.get(), "flush reclaims what was retired before it");
                assertDoesNotThrow(() -> r.retire(again, Tagged::reclaim), "a retire after reclamation is accepted");
                r.flush();
                assertEquals(2, again.runs.get(), "both lives reclaimed");
            }
            r.close();
            assertEquals(2, recycled.runs.get(), "the action's own retire was accepted and reclaimed");
            assertEquals(0, r.stats().failed(), "no action threw (a refused retire inside one would count): " + r.stats());
        } finally {
            r.close(); // idempotent: a no-op after the test's own close()
        }
    }

    /**
     * Objects recycled through a pool by their actions, taken and retired again by several threads at once, are
     * never refused, and each retire is reclaimed once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void recycledObjectsAreRetiredAgainByOtherThreads() throws Exception {
        int threads = 4;
        int rounds = 2_000 * scaleFactor();
        ConcurrentLinkedQueue<Tagged> pool = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < 8; i++) pool.add(new Tagged("pooled-" + i));
        AtomicLong retires = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Reclaimer r = checked();
        try {
            Consumer<Tagged> backToPool = t -> {
                t.reclaim();
                pool.add(t); // from here on another thread may take it and retire it
            };
            CyclicBarrier go = new CyclicBarrier(threads);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                ts.add(start("recycler-" + t, () -> {
                    go.await();
                    for (int i = 0; i < rounds; i++) {
                        Tagged taken = pool.poll();
                        if (taken == null) {
                            r.flush(); // reclaims, and so refills the pool (not under the none baseline)
                            continue;
                        }
                        if ((i & 1) == 0) {
                            r.retire(taken, backToPool);
                        } else {
                            try (Guard g = r.enter()) {
                                g.retire(taken, backToPool);
                            }
                        }
                        retires.incrementAndGet();
                    }
                }, errors));
            }
            join(ts);
            assertNoErrors(errors);
            r.close();
            long runs = 0;
            for (Tagged t : pool) runs += t.runs.get();
            assertEquals(8, pool.size(), "every pooled object came back");
            assertEquals(retires.get(), runs, "each retire was reclaimed once");
            assertEquals(0, r.stats().failed(), r.stats().toString());
        } finally {
            r.close(); // idempotent: a no-op after the test's own close()
        }
    }

    /**
     * A retire inside a guard of an object still held where the guard read it (by reference, by slot, by field,
     * and through the reclaimer or a registration's guard) is refused, naming the object; once unlinked it is
     * accepted, and its action runs once.
     */
    @Test
    default void retireOfAnObjectStillLinkedIsRefused() {
        Node byRef = new Node(1);
        Node bySlot = new Node(2);
        Node byField = new Node(3);
        Node byRegistration = new Node(4);
        AtomicReference<Node> ref = new AtomicReference<>(byRef);
        AtomicReference<Node> slotted = new AtomicReference<>(bySlot);
        Holder holder = new Holder();
        holder.node = byField;
        AtomicReference<Node> registered = new AtomicReference<>(byRegistration);
        Reclaimer r = checked();
        try {
            try (Guard g = r.enter()) {
                Node a = g.protect(ref);
                Node b = g.protect(slotted, 1);
                Node c = g.protect(Holder.NODE, holder);
                try (Guard inner = r.enter()) { // nested: what the outer guard read is remembered here too
                    assertNames(a, assertThrows(IllegalStateException.class, () -> inner.retire(a, Node::reclaim)));
                }
                assertNames(a, assertThrows(IllegalStateException.class, () -> g.retire(a, Node::reclaim)));
                assertNames(a, assertThrows(IllegalStateException.class, () -> r.retire(a, Node::reclaim)));
                assertNames(b, assertThrows(IllegalStateException.class, () -> g.retire(b, Node::reclaim)));
                assertNames(c, assertThrows(IllegalStateException.class, () -> g.retire(c, Node::reclaim)));
                assertTrue(ref.compareAndSet(a, null));
                assertTrue(slotted.compareAndSet(b, null));
                holder.node = null;
                g.retire(a, Node::reclaim);
                r.retire(b, Node::reclaim);
                g.retire(c, Node::reclaim);
            }
            try (Registration reg = r.register()) {
                try (Guard g = reg.enter()) {
                    Node d = g.protect(registered);
                    assertNames(d, assertThrows(IllegalStateException.class, () -> g.retire(d, Node::reclaim)));
                    registered.set(null);
                    g.retire(d, Node::reclaim);
                }
            }
            r.close();
            for (Node n : List.of(byRef, bySlot, byField, byRegistration)) {
                assertEquals(1, n.actions.get(), "node " + n.value + "'s action runs once");
            }
            assertEquals(4, r.stats().retired(), "refused retires are not counted: " + r.stats());
        } finally {
            r.close(); // idempotent: a no-op after the test's own close()
        }
    }

    /**
     * An object read from two sources, one of which moved on (the link that was unlinked) while the other still
     * holds it (the next field of a node that was itself unlinked), is accepted: it is not reachable any more.
     */
    @Test
    default void retireOfAnObjectUnlinkedFromOneOfItsSourcesIsAccepted() {
        retireBothInOneGuard((g, head) -> {
            Node f = g.protect(head);
            Node s = g.protect(f.next);
            assertTrue(head.compareAndSet(f, s)); // another thread's dequeue, as it were: first is unlinked
            Node again = g.protect(head);
            assertEquals(s, again);
            assertTrue(head.compareAndSet(s, null)); // second is unlinked; first.next still holds it
            assertDoesNotThrow(() -> g.retire(s, Node::reclaim)); // first: first's own retire does not cover it
            g.retire(f, Node::reclaim);
        });
    }

    /**
     * A node and its marker unlinked together (a Harris list): the node is retired first, then the marker, which
     * only the unlinked node's next field still holds. Accepted: the source may belong to the node retired first.
     */
    @Test
    default void retireOfWhatOnlyARetiredNodeStillHoldsIsAccepted() {
        retireBothInOneGuard((g, head) -> {
            Node cur = g.protect(head, 0);
            Node mark = g.protect(cur.next, 1);
            assertTrue(head.compareAndSet(cur, null)); // unlinks both
            g.retire(cur, Node::reclaim);
            assertDoesNotThrow(() -> g.retire(mark, Node::reclaim));
        });
    }

    /**
     * The frame of the two tests above: a list of two nodes (1, then 2, held by 1's next field) under {@code head},
     * a checked reclaimer, and {@code unlinkAndRetire} run in one guard of it, where it unlinks and retires both
     * nodes. Closing the reclaimer then runs each node's action exactly once.
     */
    private void retireBothInOneGuard(BiConsumer<Guard, AtomicReference<Node>> unlinkAndRetire) {
        Node first = new Node(1);
        Node second = new Node(2);
        first.next.set(second);
        AtomicReference<Node> head = new AtomicReference<>(first);
        Reclaimer r = checked();
        try {
            try (Guard g = r.enter()) {
                unlinkAndRetire.accept(g, head);
            }
            r.close();
            assertEquals(1, first.actions.get());
            assertEquals(1, second.actions.get());
        } finally {
            r.close(); // idempotent: a no-op after the test's own close()
        }
    }

    /**
     * {@code close()} names the objects still pending when it began to reclaim what was left, and only those: at
     * most 64 of them.
     */
    @Test
    default void closeNamesWhatItReclaimedLate() {
        List<Tagged> all = new ArrayList<>();
        Reclaimer r = checked();
        try {
            for (int i = 0; i < 100; i++) {
                Tagged t = new Tagged("late-" + i);
                all.add(t);
                r.retire(t, Tagged::reclaim);
            }
            assertTrue(r.pendingAtClose().isEmpty(), "nothing is listed before close()");
            List<Tagged> pending = new ArrayList<>();
            for (Tagged t : all) if (t.runs.get() == 0) pending.add(t);
            r.close();
            List<String> late = r.pendingAtClose();
            assertEquals(Math.min(64, pending.size()), late.size(), "listed: " + late);
            for (String d : late) {
                assertTrue(pending.stream().anyMatch(t -> d.contains(t.toString() + ")")
                        && d.contains(Integer.toHexString(System.identityHashCode(t)))),
                        "'" + d + "' names no object that was still pending");
            }
            if (!reclaimsEarly()) assertEquals(64, late.size(), "the none baseline leaves all 100 to close()");
            for (Tagged t : all) assertEquals(1, t.runs.get(), t + "'s action runs once");
        } finally {
            r.close(); // idempotent: a no-op after the test's own close()
        }
    }

    /**
     * In the default mode nothing is checked: retiring twice and retiring what is still linked are undefined, and
     * refused by no scheme here; {@code close()} names nothing.
     */
    @Test
    default void defaultModeChecksNothing() {
        AtomicInteger runs = new AtomicInteger();
        Tagged twice = new Tagged("unchecked-twice");
        Node linked = new Node(7);
        AtomicReference<Node> ref = new AtomicReference<>(linked);
        Reclaimer r = reclaimerWith(Options.DEFAULT);
        try {
            r.retire(twice, t -> runs.incrementAndGet());
            assertDoesNotThrow(() -> r.retire(twice, t -> runs.incrementAndGet()));
            try (Guard g = r.enter()) {
                Node n = g.protect(ref);
                assertDoesNotThrow(() -> g.retire(n, Node::reclaim));
            }
            r.close();
            assertFalse(runs.get() == 0, "the action ran");
            assertTrue(r.pendingAtClose().isEmpty(), "unchecked, close() names nothing: " + r.pendingAtClose());
        } finally {
            r.close(); // idempotent: a no-op after the test's own close()
        }
    }
}
