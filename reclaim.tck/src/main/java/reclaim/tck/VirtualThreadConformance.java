package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.tck.Fixtures.Node;

/**
 * Virtual threads: a virtual thread that blocks inside a guard (and resumes on another carrier) keeps what it
 * protected, and short-lived virtual threads do not leave a thread record each behind.
 */
interface VirtualThreadConformance extends SchemeUnderTest {

    /**
     * Virtual threads block inside guards (and may resume on another carrier) while a writer retires what
     * they read: nothing they protected is reclaimed before they close their guards.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void virtualThreadsBlockingInsideGuardsStaySafe() throws Exception {
        int readers = 500;
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        CountDownLatch allInside = new CountDownLatch(readers);
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong violations = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < readers; i++) {
            ts.add(Thread.ofVirtual().name("vreader-" + i).start(() -> {
                try (Guard g = reclaimer().enter()) {
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
            reclaimer().retire(old, Node::reclaim);
        }
        reclaimer().flush();
        release.countDown();
        join(ts);
        assertNoErrors(errors);
        assertEquals(0, violations.get(), "a virtual thread's protected node was reclaimed while it blocked");
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertEquals(0, reclaimer().stats().pending());
        }
    }

    /**
     * Thousands of short-lived virtual threads do not leave thousands of thread records behind.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void shortLivedVirtualThreadsDoNotAccumulateRecords() throws Exception {
        int threads = 5000;
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int id = i;
            ts.add(Thread.ofVirtual().start(() -> {
                try {
                    try (Guard g = reclaimer().enter()) {
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
        int participants = reclaimer().stats().participants();
        assertTrue(participants <= 256, participants + " records for " + threads + " short-lived virtual threads");
        reclaimer().close();
        assertEquals(reclaimer().stats().retired(), ran.get());
    }
}
