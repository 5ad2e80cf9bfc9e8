package reclaim.impl.core;

import java.util.concurrent.locks.LockSupport;

/**
 * How a thread waits for another thread's progress that it cannot be told about (a grace period, a handed-off batch
 * that another thread runs): a few spins, a few yields, then parks that double from a microsecond up to a
 * millisecond. Not interruptible: an interrupt that arrives meanwhile is cleared while waiting (a park would return
 * at once, again and again) and restored by {@link #done()}. One per wait, owned by the waiting thread.
 */
final class Backoff {
    private static final int SPINS = 64;
    private static final int YIELDS = 16;
    private static final long FIRST_PARK_NANOS = 1_000;
    private static final long MAX_PARK_NANOS = 1_000_000;

    private int rounds;
    private long park = FIRST_PARK_NANOS;
    private boolean interrupted;

    /**
     * Waits a little, never past {@code deadline}.
     *
     * @param deadline a {@link System#nanoTime()} value, or {@link Long#MAX_VALUE} for none
     */
    void pause(long deadline) {
        if (rounds < SPINS) {
            rounds++;
            Thread.onSpinWait();
        } else if (rounds < SPINS + YIELDS) {
            rounds++;
            Thread.yield();
        } else {
            long nanos = park;
            if (deadline != Long.MAX_VALUE) nanos = Math.min(nanos, Math.max(1, deadline - System.nanoTime()));
            LockSupport.parkNanos(this, nanos);
            park = Math.min(park * 2, MAX_PARK_NANOS);
            if (Thread.interrupted()) interrupted = true;
        }
    }

    /**
     * Restores the interrupt status cleared while waiting: before user code runs on the waiting thread between two
     * waits (it must see the status as the caller left it), and at the end. The waits after it may clear it again.
     */
    void done() {
        if (interrupted) {
            interrupted = false;
            Thread.currentThread().interrupt();
        }
    }
}
