package reclaim.impl.core;

import java.lang.ref.WeakReference;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The child JVM of {@link ParkedVirtualReaderTest}, run with {@code -Djdk.trackAllThreads=false}: a virtual thread
 * parks inside a guard, holding a node it protected, and nothing but an object with a finalizer refers to it. The
 * collections that follow may clear every weak reference to it, though it lives and the finalizer revives it. Prints
 * {@code freedWhileParked=} (the node's action ran while the reader's guard was open) and {@code reader=} (what the
 * reader found when it resumed).
 */
public final class ParkedVirtualReaderChild {
    private static volatile Thread revived;
    private static volatile boolean resume;

    private ParkedVirtualReaderChild() {
    }

    /** A node whose action marks it freed. */
    static final class Node {
        volatile boolean freed;
    }

    /** Revives the reader when collected: what finalization allows, and why a weak reference cannot tell it ended. */
    static final class Reviver {
        private final Thread reader;

        Reviver(Thread reader) {
            this.reader = reader;
        }

        @Override
        @SuppressWarnings({"removal", "deprecation"})
        protected void finalize() {
            revived = reader;
        }
    }

    /**
     * Runs the scenario.
     *
     * @param args the scheme
     * @throws Exception if a wait fails
     */
    @SuppressWarnings({"removal", "deprecation"})
    public static void main(String[] args) throws Exception {
        Reclaimer r = Reclaimer.create(args[0]);
        AtomicReference<Node> head = new AtomicReference<>(new Node());
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        AtomicReference<String> found = new AtomicReference<>("did not resume");
        WeakReference<Thread> weak = startReader(r, head, inside, finished, found);
        if (!inside.await(30, TimeUnit.SECONDS)) throw new AssertionError("the reader did not enter");
        for (int i = 0; i < 3000 && weak.get() != null && weak.get().getState() != Thread.State.WAITING; i++) {
            Thread.onSpinWait();
            Thread.yield();
        }
        for (int i = 0; i < 30 && weak.get() != null; i++) System.gc();
        Node n = head.getAndSet(new Node());
        r.retire(n, x -> x.freed = true);
        for (int i = 0; i < 20; i++) {
            for (int j = 0; j < 200; j++) r.retire(new Node(), x -> { });
            r.flush();
        }
        System.out.println("freedWhileParked=" + n.freed);
        Thread reader = weak.get();
        for (int i = 0; i < 200 && reader == null && revived == null; i++) {
            System.gc();
            System.runFinalization();
        }
        if (reader == null) reader = revived;
        resume = true;
        if (reader != null) LockSupport.unpark(reader);
        finished.await(30, TimeUnit.SECONDS);
        System.out.println("reader=" + found.get());
    }

    private static WeakReference<Thread> startReader(Reclaimer r, AtomicReference<Node> head, CountDownLatch inside,
            CountDownLatch finished, AtomicReference<String> found) {
        Thread reader = Thread.ofVirtual().unstarted(() -> {
            try (Guard g = r.enter()) {
                Node n = g.protect(head);
                inside.countDown();
                while (!resume) LockSupport.park();
                found.set(n.freed ? "freed" : "intact");
            } finally {
                finished.countDown();
            }
        });
        new Reviver(reader);
        reader.start();
        return new WeakReference<>(reader);
    }
}
