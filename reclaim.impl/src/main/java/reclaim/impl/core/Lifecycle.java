package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Whether a core is open, closing or closed, and what reclamation is in flight: the part that lets
 * {@code close()} know that no other thread is still running reclaim actions or holding bags it took.
 *
 * <h2>Work in flight</h2>
 * A collection takes sealed bags out of the store, judges them and runs actions or puts back what it kept; a
 * guard that leaves with batches detached from its slot (Hyaline, Crystalline) runs their actions after it
 * released its participant. Both run outside any participant that {@code close()} could wait for, so each counts
 * itself here for as long as it runs:
 * <ul>
 *   <li>{@link #tryBeginWork()}: a collection that may be skipped. It counts itself (a volatile read-modify-write),
 *       then reads the state (volatile); {@code close()} stores CLOSING (volatile), then reads the count
 *       (volatile). That store–load pair on both sides means that either the collection sees CLOSING and backs
 *       off, or {@code close()} sees it counted and waits for it. A collection that backs off loses nothing:
 *       whatever it would have taken stays in the store, which {@code close()} drains.</li>
 *   <li>{@link #beginWork()}: work that must run (a guard's detached batches, which nobody else can reach). The guard
 *       counts itself before it releases its participant (a release store); {@code close()} reads every
 *       participant before it reads the count, so if it saw the participant released it sees the count.</li>
 * </ul>
 * {@code close()} waits, bounded, for the count to reach zero, after it closed every participant (no new work
 * can start then), and refuses with an exception if it does not: a later {@code close()} completes.
 *
 * <p>The count is one word on a line of its own; it is touched once per collection and once per guard that
 * leaves with detached batches, never on the read path.
 */
abstract class Lifecycle {
    static final int OPEN = 0;
    static final int CLOSING = 1;
    static final int CLOSED = 2;

    /** Padding before {@link #inFlight}. */
    long p00, p01, p02, p03, p04, p05, p06, p07;
    /** Collections and detached walks running now; through {@code IN_FLIGHT} only. */
    private long inFlight;
    /** Padding after {@link #inFlight}. */
    long q00, q01, q02, q03, q04, q05, q06, q07;

    /** OPEN, CLOSING or CLOSED; through {@code STATE} only. */
    private int state = OPEN;

    /** For the core, which extends this class so that its hot word (the state) costs no extra load on enter. */
    Lifecycle() {}

    /** @return the state, opaque (a hint: OPEN may be stale) */
    int stateOpaque() {
        return (int) STATE.getOpaque(this);
    }

    /** @return the state, with volatile semantics */
    int stateVolatile() {
        return (int) STATE.getVolatile(this);
    }

    /** @param value the new state, stored with volatile semantics */
    void setStateVolatile(int value) {
        STATE.setVolatile(this, value);
    }

    /**
     * Counts a collection in, unless the core is closing.
     *
     * @return true if the caller may collect (it must call {@link #endWork()}); false if it must not
     */
    boolean tryBeginWork() {
        getAndAddInFlight(1);
        // Store-load pair with close(): our count (volatile RMW) before the read of the state; close stores the
        // state before it reads the count.
        if (stateVolatile() == OPEN) return true;
        getAndAddInFlight(-1);
        return false;
    }

    /** Counts in work that must run whatever the state; the caller calls {@link #endWork()}. */
    void beginWork() {
        getAndAddInFlight(1);
    }

    /** Counts work out. */
    void endWork() {
        getAndAddInFlight(-1);
    }

    /**
     * Waits until no work is in flight, or until the deadline.
     *
     * @param deadline a {@link System#nanoTime()} value
     * @param backoff how to wait
     * @return true if nothing is in flight
     */
    boolean awaitQuiet(long deadline, Backoff backoff) {
        while (inFlightVolatile() != 0) {
            if (System.nanoTime() - deadline > 0) return false;
            backoff.pause(deadline);
        }
        return true;
    }

    /** @return the work in flight, with volatile semantics */
    long inFlightVolatile() {
        return (long) IN_FLIGHT.getVolatile(this);
    }

    private void getAndAddInFlight(long delta) {
        IN_FLIGHT.getAndAdd(this, delta);
    }

    private static final VarHandle STATE;
    private static final VarHandle IN_FLIGHT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Lifecycle.class, "state", int.class);
            IN_FLIGHT = l.findVarHandle(Lifecycle.class, "inFlight", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
