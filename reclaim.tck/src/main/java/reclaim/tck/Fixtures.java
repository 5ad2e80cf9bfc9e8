package reclaim.tck;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Keyed;

/**
 * The objects the conformance tests retire and protect, and the helpers they share to run threads and collect
 * their failures.
 */
final class Fixtures {

    private Fixtures() {}

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

    static void join(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(100));
            assertFalse(t.isAlive(), "thread " + t.getName() + " did not finish");
        }
    }

    static Thread start(String name, ThrowingRunnable body, ConcurrentLinkedQueue<Throwable> errors) {
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

    /** As {@link #start}, on a virtual thread. */
    static Thread startVirtual(String name, ThrowingRunnable body, ConcurrentLinkedQueue<Throwable> errors) {
        return Thread.ofVirtual().name(name).start(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                errors.add(e);
            }
        });
    }

    /**
     * Waits, without sleeping, until {@code condition} holds, another thread of the test failed, or the bound ran
     * out; fails naming {@code what} in the last two cases.
     */
    static void awaitCondition(String what, java.util.function.BooleanSupplier condition,
            ConcurrentLinkedQueue<Throwable> errors) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertNoErrors(errors);
            if (System.nanoTime() - deadline > 0) throw new AssertionError("waited 60 s for " + what);
            Thread.yield();
        }
    }


    /** Waits for {@code latch}, bounded: a minute, then the test fails. */
    static void await(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) fail("timed out waiting");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Runs the garbage collector until {@code condition} holds, bounded (200 rounds, 20 ms apart: the collector and
     * cleaners run on threads of their own).
     *
     * @return whether the condition holds
     */
    static boolean gcUntil(BooleanSupplier condition) throws InterruptedException {
        CountDownLatch never = new CountDownLatch(1);
        for (int i = 0; i < 200 && !condition.getAsBoolean(); i++) {
            System.gc();
            never.await(20, TimeUnit.MILLISECONDS);
        }
        return condition.getAsBoolean();
    }

    /**
     * Reads a fresh object through {@code g}, unlinks it and retires it in {@code g}, its action counting in
     * {@code ran}'s element 0: the object stays protected for as long as {@code g} is open.
     *
     * @return {@code g}
     */
    static <G extends Guard> G holdingARetiredObject(G g, AtomicIntegerArray ran) {
        Object x = new Object();
        AtomicReference<Object> head = new AtomicReference<>(x);
        if (g.protect(head) != x) throw new AssertionError("did not read x");
        head.set("y"); // unlinks x
        g.retire(x, o -> ran.incrementAndGet(0)); // x stays protected by g
        return g;
    }

    /** Asserts that every method of {@code g} that takes a reference names a null argument in its exception. */
    static void assertNullArgumentsNamed(Guard g) {
        assertNpe("ref", () -> g.protect((AtomicReference<Object>) null));
        assertNpe("ref", () -> g.protect((AtomicReference<Object>) null, 0));
        assertNpe("field", () -> g.protect((VarHandle) null, new Holder()));
        assertNpe("holder", () -> g.protect(Holder.NODE, null));
        assertNpe("object", () -> g.retire(null, x -> {}));
        assertNpe("action", () -> g.retire("x", null));
    }

    /** Asserts that {@code call} throws a {@link NullPointerException} whose message names {@code name}. */
    static void assertNpe(String name, Runnable call) {
        NullPointerException e = assertThrows(NullPointerException.class, call::run);
        assertNotNull(e.getMessage(), "NPE without a message; expected it to name '" + name + "'");
        assertTrue(e.getMessage().contains(name), "NPE '" + e.getMessage() + "' does not name '" + name + "'");
    }

    static void assertNoErrors(ConcurrentLinkedQueue<Throwable> errors) {
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
}
