package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * Stress for reuse of batches, links and the shared stack: tiny bags (every bag recycled at once), more threads than
 * cores, nested guards protecting at every level (Crystalline detaches and walks mid-guard and at each nested close),
 * and reclaim actions that enter a guard and retire again on the same thread. Checks that no reader sees a node
 * reclaimed while it protects it, and that every node's action runs exactly once by close().
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class ReuseStressTest {
    static final class Node {
        final AtomicReference<Node> next = new AtomicReference<>();
        volatile boolean reclaimed;
        final AtomicInteger runs = new AtomicInteger();
    }

    /** Operations per thread (a guard nest each). */
    private static final int OPS = Integer.getInteger("reuse.ops", 2_000);

    @Test
    void tinyBagsNestedGuardsAndRetiringActionsRunEachNodeOnce() throws Exception {
        List<Scheme> schemes = List.of(new Scheme.Hyaline(1, true), new Scheme.Hyaline(2, false),
                new Scheme.Crystalline(1, 4, false), new Scheme.Crystalline(2, 4, false),
                new Scheme.Crystalline(1, 4, true), new Scheme.Ebr(1, 1, 100_000_000L),
                new Scheme.HazardPointers(4, 1), new Scheme.Qsbr(1, 1, 100_000_000L));
        List<Options.Barrier> barriers = new ArrayList<>(List.of(Options.Barrier.FENCE));
        if (Membarrier.unavailableReason() == null) barriers.add(Options.Barrier.ASYMMETRIC);
        for (Scheme s : schemes) {
            for (Options.Barrier b : barriers) run(s, b);
        }
    }

    private void run(Scheme scheme, Options.Barrier barrier) throws Exception {
        String what = scheme + "/" + barrier;
        Reclaimer r = Reclaimer.create(scheme, Options.DEFAULT.withBarrier(barrier));
        AtomicReference<Node> head = new AtomicReference<>();
        ConcurrentLinkedQueue<Node> all = new ConcurrentLinkedQueue<>();
        AtomicLong violations = new AtomicLong();
        AtomicLong retired = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        // An action that, for some nodes, enters a guard, protects the head, and retires a fresh node.
        List<java.util.function.Consumer<Node>> action = new ArrayList<>(List.of(x -> {}));
        action.set(0, n -> {
            if (n.reclaimed) violations.incrementAndGet();
            n.reclaimed = true;
            n.runs.incrementAndGet();
            if ((System.identityHashCode(n) & 7) == 0 && !done.get()) {
                try (Guard g = r.enter()) {
                    Node h = g.protect(head, 0);
                    if (h != null && h.reclaimed && head.get() == h) violations.incrementAndGet();
                    Node extra = new Node();
                    all.add(extra);
                    retired.incrementAndGet();
                    g.retire(extra, action.get(0));
                } catch (IllegalStateException closing) {
                    // the reclaimer closes
                }
            }
        });
        int threads = 6;
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().name("stress-" + t).start(() -> {
                try {
                    java.util.concurrent.ThreadLocalRandom rnd = java.util.concurrent.ThreadLocalRandom.current();
                    for (int i = 0; i < OPS; i++) {
                        int depth = 1 + rnd.nextInt(4);
                        op(r, head, all, retired, violations, action.get(0), depth, rnd, id);
                        if (rnd.nextInt(200) == 0) r.flush();
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        for (Thread t : ts) t.join();
        done.set(true);
        assertTrue(errors.isEmpty(), what + ": " + errors);
        // Drain the stack's nodes: retire what is left.
        Node n;
        while ((n = head.get()) != null) {
            if (head.compareAndSet(n, n.next.get())) {
                retired.incrementAndGet();
                r.retire(n, action.get(0));
            }
        }
        r.close();
        assertEquals(0, violations.get(), what + ": nodes seen reclaimed while protected, or reclaimed twice");
        long ran = 0;
        for (Node x : all) {
            assertTrue(x.runs.get() <= 1, what + ": a node ran " + x.runs.get() + " times");
            ran += x.runs.get();
        }
        assertEquals(retired.get(), ran, what + ": " + r.stats());
        assertEquals(r.stats().retired(), r.stats().reclaimed(), what + ": " + r.stats());
    }

    private static void op(Reclaimer r, AtomicReference<Node> head, ConcurrentLinkedQueue<Node> all, AtomicLong retired,
            AtomicLong violations, java.util.function.Consumer<Node> action, int depth,
            java.util.concurrent.ThreadLocalRandom rnd, int id) {
        try (Guard g = r.enter()) {
            Node a = g.protect(head, 0);
            if (a != null) {
                Node b = g.protect(a.next, 1);
                if (head.get() == a && (a.reclaimed || (b != null && b.reclaimed))) violations.incrementAndGet();
            }
            if (depth > 1) op(r, head, all, retired, violations, action, depth - 1, rnd, id);
            if (rnd.nextBoolean()) {
                Node n = new Node();
                all.add(n);
                Node h;
                do {
                    h = g.protect(head, 0);
                    n.next.set(h);
                } while (!head.compareAndSet(h, n));
            } else {
                while (true) {
                    Node h = g.protect(head, 0);
                    if (h == null) break;
                    Node next = g.protect(h.next, 1);
                    if (head.get() != h) continue;
                    if (h.reclaimed || (next != null && next.reclaimed)) violations.incrementAndGet();
                    if (head.compareAndSet(h, next)) {
                        retired.incrementAndGet();
                        g.retire(h, action);
                        break;
                    }
                }
            }
            if (a != null && head.get() == a && a.reclaimed) violations.incrementAndGet();
        }
    }
}
