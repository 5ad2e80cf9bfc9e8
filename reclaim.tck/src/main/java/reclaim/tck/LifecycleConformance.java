package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.tck.Fixtures.assertNoErrors;
import static reclaim.tck.Fixtures.join;
import static reclaim.tck.Fixtures.start;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import reclaim.api.Guard;
import reclaim.api.Registration;
import reclaim.tck.Fixtures.Node;

/**
 * Lifecycle of the reclaimer and of registrations: {@code close()} is idempotent, waits for open guards (it
 * throws while one is open and completes once they close), and refuses every thread afterwards; a guard
 * entered through a registration protects like any other, and a closed registration stays closed.
 */
interface LifecycleConformance extends SchemeUnderTest {

    /** close() is idempotent and stats stay readable after it. */
    @Test
    default void closeIsIdempotent() {
        reclaimer().retire(new Object(), o -> {});
        reclaimer().close();
        assertTrue(reclaimer().isClosed());
        reclaimer().close();
        assertEquals(1, reclaimer().stats().reclaimed());
    }

    /**
     * close() while a guard is open throws, refuses new guards, leaves the open guard working (on its thread a
     * nested enter and a retire are accepted, a flush is refused), and a later close() reclaims everything.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void closeWithAnOpenGuardFailsThenCompletes() throws Exception {
        Node a = new Node(1);
        Node b = new Node(2);
        AtomicReference<Node> head = new AtomicReference<>(a);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("holder", () -> {
            try (Guard g = reclaimer().enter()) {
                Node n = g.protect(head);
                inside.countDown();
                assertTrue(proceed.await(60, TimeUnit.SECONDS));
                assertFalse(n.reclaimed);
                try (Guard inner = reclaimer().enter()) { // nested in the open guard: accepted while closing
                    assertSame(g, inner);
                }
                IllegalStateException f = assertThrows(IllegalStateException.class, reclaimer()::flush,
                        "flush() inside the open guard while closing");
                assertTrue(f.getMessage().contains("closing"), f.getMessage());
                reclaimer().retire(b, Node::reclaim); // on the open guard's thread: accepted while closing
                g.retire(n, Node::reclaim); // an open guard still works
            }
        }, errors);
        assertTrue(inside.await(60, TimeUnit.SECONDS));
        IllegalStateException e = assertThrows(IllegalStateException.class, reclaimer()::close);
        assertTrue(e.getMessage().contains("open"), e.getMessage());
        assertFalse(reclaimer().isClosed());
        // Closing: every call that would add work is refused, saying so.
        Map<String, Executable> refused = new LinkedHashMap<>();
        refused.put("enter()", reclaimer()::enter);
        refused.put("retire()", () -> reclaimer().retire(new Node(9), Node::reclaim));
        refused.put("register()", reclaimer()::register);
        refused.put("flush()", reclaimer()::flush);
        refused.forEach((call, body) -> {
            IllegalStateException r = assertThrows(IllegalStateException.class, body, call + " while closing");
            assertTrue(r.getMessage().contains("closing"), call + ": " + r.getMessage());
        });
        proceed.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        reclaimer().close();
        assertTrue(reclaimer().isClosed());
        assertTrue(a.reclaimed);
        assertTrue(b.reclaimed);
        assertEquals(2, reclaimer().stats().reclaimed());
    }

    /**
     * Registration.enter() opens the thread's guard: it protects like Reclaimer.enter() (a reader entered
     * through its registration holds back the reclamation of what it read), nests and mixes with it.
     *
     * @throws Exception if a wait, a join or a thread of the test fails
     */
    @Test
    default void aGuardEnteredThroughTheRegistrationProtects() throws Exception {
        Node a = new Node(1);
        AtomicReference<Node> head = new AtomicReference<>(a);
        CountDownLatch protectedIt = new CountDownLatch(1);
        CountDownLatch retired = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread reader = start("registered-reader", () -> {
            try (Registration reg = reclaimer().register()) {
                try (Guard outer = reg.enter()) {
                    try (Guard inner = reclaimer().enter()) { // mixes with Reclaimer.enter(): one nested guard
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
        reclaimer().retire(a, Node::reclaim);
        for (int i = 0; i < 100; i++) reclaimer().flush();
        assertFalse(a.reclaimed, "reclaimed while a guard entered through the registration protected it");
        retired.countDown();
        join(List.of(reader));
        assertNoErrors(errors);
        if (reclaimsEarly()) {
            reclaimer().flush();
            assertTrue(a.reclaimed, "not reclaimed once the registered reader closed its guard");
        }
    }

    /** After close(), register(), enter(), retire() and flush() throw on every thread, the closing thread included. */
    @Test
    default void registerAndEnterAfterCloseThrowOnTheClosingThreadToo() {
        try (Guard g = reclaimer().enter()) { // this thread has a guard (and, for some schemes, a record) before close
            g.retire("x", x -> {});
        }
        reclaimer().close();
        assertThrows(IllegalStateException.class, reclaimer()::register, "register() after close()");
        assertThrows(IllegalStateException.class, reclaimer()::enter, "enter() after close()");
        assertThrows(IllegalStateException.class, () -> reclaimer().retire("y", y -> {}), "retire() after close()");
        assertThrows(IllegalStateException.class, reclaimer()::flush, "flush() after close()");
        assertEquals(1, reclaimer().stats().retired(), "the refused retire retired nothing");
    }

    /**
     * A reclaim action that close() runs may open a guard and retire into the reclaimer (close() reclaims that too);
     * flush() there throws, as on any thread while the reclaimer is closing.
     */
    @Test
    default void anActionThatCloseRunsMayEnterAndRetireButNotFlush() {
        Node retiredByAction = new Node(2);
        AtomicReference<Throwable> flushed = new AtomicReference<>();
        AtomicReference<Throwable> entered = new AtomicReference<>();
        reclaimer().retire(new Node(1), n -> {
            n.reclaim();
            try (Guard g = reclaimer().enter()) {
                g.retire(retiredByAction, Node::reclaim);
            } catch (Throwable t) {
                entered.set(t);
            }
            try {
                reclaimer().flush();
            } catch (Throwable t) {
                flushed.set(t);
            }
        });
        reclaimer().close();
        assertEquals(null, entered.get(), "enter() and retire() in an action that close() runs");
        assertTrue(retiredByAction.reclaimed, "close() reclaimed what its action retired");
        assertTrue(flushed.get() instanceof IllegalStateException, "flush() in the action: " + flushed.get());
        assertEquals(0, reclaimer().stats().failed(), "the action caught the refusal: it did not fail");
    }

    /** A closed registration stays closed, even when the thread registers again (and gets the same record). */
    @Test
    default void aClosedRegistrationStaysClosedAfterTheThreadRegistersAgain() {
        Registration first = reclaimer().register();
        first.close();
        try (Registration second = reclaimer().register()) {
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
}
