package reclaim.impl.core;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counted windows in which a thread holds, for a moment of pointer work, what another thread must find where it looks:
 * a seal's trickle that takes the deferred stack and puts back what it will not run ({@link Reclamation}), a clock
 * collection that takes the sealed store and puts back what it will not run ({@link ClockPolicy}). The holder calls
 * {@link #begin()} before its take and {@link #end()} after its put-back (both volatile increments, the end in a
 * {@code finally}); the looker reads {@link #begun()} and {@link #ended()} before its look and asks {@link #quiet} after
 * it. If a window overlapped the look, either it was open at the first reads (begun then ahead of ended) or it began or
 * ended between them and the check (the counts moved): the looker waits for the open windows to end
 * ({@link #awaitNoneOpen()}) and looks again, and then finds what they put back. Looks by the same discipline end once
 * one saw no window; a steady stream of overlapping windows can keep a looker passing (not observed). Windows hold no
 * user code and never wait, so the wait is for other threads' pointer work only.
 */
final class Windows {
    private final AtomicLong begun = new AtomicLong();
    private final AtomicLong ended = new AtomicLong();

    /** Opens a window: before the take. */
    void begin() {
        begun.incrementAndGet();
    }

    /** Closes a window: after the put-back, in a {@code finally}. */
    void end() {
        ended.incrementAndGet();
    }

    /** @return the windows opened so far (a volatile read, before the look) */
    long begun() {
        return begun.get();
    }

    /** @return the windows closed so far (a volatile read, after {@link #begun()}, before the look) */
    long ended() {
        return ended.get();
    }

    /**
     * Returns whether no window overlapped a look between the reads {@code begun} and {@code ended} and now.
     *
     * @param begun what {@link #begun()} returned before the look
     * @param ended what {@link #ended()} returned before the look
     * @param own the windows the looker opened and closed itself during the look (0 or 1)
     * @return true if none was open at the first reads and none began or ended since but the looker's own
     */
    boolean quiet(long begun, long ended, int own) {
        return begun == ended && this.begun.get() == begun + own && this.ended.get() == ended + own;
    }

    /** Waits until no window is open (other threads' pointer work). */
    void awaitNoneOpen() {
        while (ended.get() != begun.get()) Thread.onSpinWait();
    }
}
