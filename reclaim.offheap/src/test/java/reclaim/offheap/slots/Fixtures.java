package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/** Test helpers: schemes, payloads that encode their handle, and a thread runner. */
final class Fixtures {
    private Fixtures() {
    }

    /** Every scheme available. */
    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    /** The schemes that reclaim before close (slot reuse needs reclamation). */
    static Stream<String> reclaiming() {
        return schemes().filter(s -> !s.equals("none"));
    }

    /** Hazard pointers and an epoch scheme (EBR), where available. */
    static Stream<String> hpAndEpoch() {
        return reclaiming().filter(s -> s.equals("hp") || s.equals("ebr"));
    }

    /** Closes the reclaimer and checks every retired ticket was reclaimed once, and no action threw. */
    static Stats closeAndCheck(Reclaimer r) {
        r.close();
        Stats s = r.stats();
        assertEquals(s.retired(), s.reclaimed(), () -> "retired != reclaimed: " + s);
        assertEquals(0, s.failed(), () -> "a reclaim action threw: " + s);
        return s;
    }

    /**
     * A payload of {@code size} bytes (>= 16) that encodes {@code stamp}: the stamp at offset 0 and at the end,
     * every other byte derived from the stamp and its offset.
     */
    static byte[] payload(long stamp, int size) {
        byte[] b = new byte[size];
        MemorySegment s = MemorySegment.ofArray(b);
        for (int i = 8; i < size - 8; i++) b[i] = fill(stamp, i);
        s.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, stamp);
        s.set(ValueLayout.JAVA_LONG_UNALIGNED, size - 8, stamp);
        return b;
    }

    static byte fill(long stamp, int i) {
        return (byte) (stamp * 31 + i * 7 + (stamp >>> 32));
    }

    /** Checks that {@code b} is {@code payload(stamp, b.length)}; returns a description of the first mismatch. */
    static String mismatch(long stamp, byte[] b) {
        MemorySegment s = MemorySegment.ofArray(b);
        long head = s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        long tail = s.get(ValueLayout.JAVA_LONG_UNALIGNED, b.length - 8);
        if (head != stamp || tail != stamp) {
            return "stamps " + Long.toHexString(head) + "/" + Long.toHexString(tail) + ", expected " + Long.toHexString(stamp);
        }
        for (int i = 8; i < b.length - 8; i++) {
            if (b[i] != fill(stamp, i)) return "byte " + i + " of " + Long.toHexString(stamp);
        }
        return null;
    }

    /** Whether {@code e} is the refusal of a stale handle. */
    static boolean isStale(IllegalStateException e) {
        return e.getMessage() != null && e.getMessage().startsWith("stale handle");
    }

    /** Runs the tasks on their own threads released together; rethrows the first failure; fails past {@code limit}. */
    static void runConcurrently(Duration limit, List<? extends Task> tasks) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        int n = 0;
        for (Task task : tasks) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    task.run();
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "slots-worker-" + n++);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        start.countDown();
        // The limit must have passed on both clocks before the run is declared stuck, and a join that returns early
        // is joined again: twice a join returned with its thread alive under a second into a one-minute limit.
        long startNanos = System.nanoTime();
        long startMillis = System.currentTimeMillis();
        for (Thread t : threads) {
            while (t.isAlive()) {
                long leftNanos = limit.toNanos() - (System.nanoTime() - startNanos);
                long leftMillis = limit.toMillis() - (System.currentTimeMillis() - startMillis);
                if (leftNanos <= 0 && leftMillis <= 0) {
                    fail(t.getName() + " still running after " + limit + "; failures: " + failures);
                }
                t.join(Duration.ofMillis(Math.clamp(Math.max(leftMillis, leftNanos / 1_000_000), 1, 1_000)));
            }
        }
        if (!failures.isEmpty()) {
            Throwable first = failures.poll();
            for (Throwable other : failures) first.addSuppressed(other);
            if (first instanceof Error e) throw e;
            if (first instanceof RuntimeException e) throw e;
            throw new AssertionError(first);
        }
    }

    /** A task that may throw. */
    @FunctionalInterface
    interface Task {
        void run() throws Exception;
    }
}
