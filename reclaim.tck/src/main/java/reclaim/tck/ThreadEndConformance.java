package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Registration;
import reclaim.api.Stats;
import reclaim.tck.Fixtures.Node;

/**
 * Threads that end: a thread that ends registered, idles registered, or ends inside a guard it never closed
 * loses nothing it retired and holds reclamation back neither for others nor for {@code close()}.
 */
interface ThreadEndConformance extends SchemeUnderTest {

    /**
     * Threads that end while explicitly registered lose nothing, and do not hold reclamation back.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void threadsThatEndRegisteredLoseNothing() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            ts.add(start("registered-" + t, () -> {
                Registration reg = reclaimer().register();
                assertNotNull(reg);
                for (int i = 0; i < 10; i++) {
                    try (Guard g = reclaimer().enter()) {
                        g.retire(i, x -> ran.incrementAndGet());
                    }
                }
                // ends without closing the registration
            }, errors));
        }
        join(ts);
        assertNoErrors(errors);
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertEquals(40, ran.get(), "objects retired by threads that ended registered were not reclaimed");
        }
        reclaimer().close();
        assertEquals(40, ran.get());
        assertEquals(40, reclaimer().stats().reclaimed());
    }

    /**
     * flush() on one thread reclaims what an idle registered thread (offline, outside guards) retired.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void flushReclaimsWhatAnIdleRegisteredThreadRetired() throws Exception {
        assumeTrue(reclaimsEarly(), "the leak baseline reclaims only at close");
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch idle = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread executor = start("idle-executor", () -> {
            try (Registration reg = reclaimer().register()) {
                for (int i = 0; i < 3; i++) reclaimer().retire(i, x -> ran.incrementAndGet());
                reg.offline(); // about to idle (a no-op for schemes without quiescent states)
                idle.countDown();
                assertTrue(finish.await(60, TimeUnit.SECONDS));
            }
        }, errors);
        assertTrue(idle.await(60, TimeUnit.SECONDS));
        reclaimer().flush();
        assertEquals(3, ran.get(), "flush() left an idle registered thread's objects pending");
        finish.countDown();
        join(List.of(executor));
        assertNoErrors(errors);
    }

    /** Reclaim actions run by a registered thread's own flush may enter guards and retire more. */
    @Test
    default void actionsRunByARegisteredThreadsFlushMayEnterAndRetire() {
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<String> ref = new AtomicReference<>("v");
        try (Registration reg = reclaimer().register()) {
            reclaimer().retire("outer", x -> {
                ran.incrementAndGet();
                try (Guard g = reclaimer().enter()) {
                    g.protect(ref);
                    g.retire("inner", y -> ran.incrementAndGet());
                }
            });
            reclaimer().flush();
            reclaimer().flush();
            reg.offline();
        }
        reclaimer().close();
        assertEquals(2, ran.get());
        assertEquals(0, reclaimer().stats().failed(), "an action's guard or retire failed");
        assertEquals(2, reclaimer().stats().reclaimed());
    }

    /**
     * Registered threads come and go (ending without deregistering) while other threads flush, sweep and read:
     * no reader ever sees its protected node reclaimed, and every retired node is reclaimed exactly once.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void endingRegisteredThreadsRacingFlushesStaySafe() throws Exception {
        AtomicReference<Node> head = new AtomicReference<>(new Node(0));
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        AtomicLong retired = new AtomicLong();
        ConcurrentLinkedQueue<Node> all = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> background = new ArrayList<>();
        for (int f = 0; f < 2; f++) {
            background.add(start("flusher-" + f, () -> {
                while (!done.get()) reclaimer().flush();
            }, errors));
        }
        background.add(start("reader", () -> {
            while (!done.get()) {
                try (Guard g = reclaimer().enter()) {
                    Node n = g.protect(head);
                    Thread.onSpinWait();
                    if (n.reclaimed) violations.incrementAndGet();
                }
            }
        }, errors));
        for (int round = 0; round < 400 * scaleFactor(); round++) {
            List<Thread> wave = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int id = round * 3 + t;
                wave.add(start("ephemeral-" + id, () -> {
                    reclaimer().register(); // never closed: the thread ends registered
                    for (int i = 0; i < 4; i++) {
                        try (Guard g = reclaimer().enter()) {
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
        reclaimer().close();
        Stats s = reclaimer().stats();
        assertEquals(retired.get(), s.retired());
        assertEquals(s.retired(), s.reclaimed());
        for (Node n : all) assertTrue(n.actions.get() <= 1, "a node was reclaimed twice");
    }

    /**
     * A thread that ends inside a guard it never closed does not stall reclamation, nor close().
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aThreadThatEndsInsideAGuardDoesNotStallReclamation() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread t = start("leaks-a-guard", () -> {
            Guard g = reclaimer().enter(); // never closed: a bug in user code, which must not stall everyone
            g.retire("x", x -> ran.incrementAndGet());
        }, errors);
        join(List.of(t));
        assertNoErrors(errors);
        for (int i = 0; i < 10; i++) reclaimer().retire(i, x -> ran.incrementAndGet());
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertEquals(11, ran.get(), "a guard left open by an ended thread held reclamation back");
        }
        reclaimer().close();
        assertEquals(11, ran.get());
    }
}
