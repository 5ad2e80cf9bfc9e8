package reclaim.api;

import java.util.Objects;
import java.util.function.Function;

/**
 * An explicit registration of the current thread with a {@link Reclaimer} (light-qsbr's executor
 * registration), returned by {@link Reclaimer#register()}.
 *
 * <p>Threads register lazily on their first guard; registering explicitly reserves the thread's record up
 * front (a platform thread otherwise keeps the record its first guard took, under most schemes, or leases one per
 * guard), lets {@code reg.enter()} skip the lookup of the thread's guard, and, for QSBR, gives the zero-cost read
 * side. A registration
 * belongs to the thread that made it: close it on that thread, normally with try-with-resources. A thread
 * that ends while registered loses nothing: its record is recycled and what it retired is still reclaimed.
 *
 * <h2>Wrong thread</h2>
 * A registration used from another thread than the one that registered throws
 * {@link IllegalStateException}, not {@code WrongThreadException} (JDK 19+): a deliberate choice, the same as
 * {@link Guard}'s, so that one {@code catch (IllegalStateException e)} covers every misuse (closed, wrong
 * thread, inside a guard), and the conformance suite ({@code reclaim.tck}) requires the same of every
 * provider. The message says which misuse it was.
 */
public interface Registration extends AutoCloseable {

    /**
     * Announces a quiescent state: the thread holds no reference read under a guard (it is outside every
     * guard). Under QSBR this is what lets reclamation progress past the thread: it costs one load when the
     * grace period has not moved, and at most every {@link Scheme.Qsbr#passIntervalNanos()} it also hands over
     * what the thread retired and tries to advance the grace period and reclaim (light-qsbr's
     * {@code maybe_pass_epoch}; under the asymmetric barrier, whose collection pays a process-wide barrier, that
     * try is made once per about a thousand objects retired, and {@link Reclaimer#flush()} reclaims at once). Other schemes need no
     * announcement and do nothing.
     *
     * @throws IllegalStateException if called inside a guard, from another thread, or after {@link #close()}
     *     (the built-in schemes check all three; the default method of a third-party provider may not)
     */
    default void quiescent() {}

    /**
     * Opens a guard on the registered thread: the same guard as {@link Reclaimer#enter()}, found through this
     * registration instead of the per-thread lookup that {@code enter()} makes. The fastest way in for a thread that enters often (an executor's worker, a reader loop):
     * register once, keep the registration, and enter through it. Guards nest as with {@link Reclaimer#enter()}
     * and mix with it freely.
     *
     * @return the thread's guard, open
     * @throws IllegalStateException if called from another thread than the one that registered, after
     *     {@link #close()}, or when the reclaimer is closed
     * @throws UnsupportedOperationException if the provider's registrations cannot open guards (every built-in
     *     scheme's can): use {@link Reclaimer#enter()}
     */
    default Guard enter() {
        throw new UnsupportedOperationException(getClass().getName() + " cannot open guards: use Reclaimer.enter()");
    }

    /**
     * Runs {@code block} inside the registered thread's guard ({@link #enter()}) and returns its result,
     * closing the guard also when {@code block} throws: {@link Reclaimer#inGuard} without the per-thread
     * lookup.
     * <pre>{@code
     * try (Registration reg = reclaimer.register()) {
     *     while (running) total += reg.inGuard(g -> g.protect(head).value());
     * }
     * }</pre>
     *
     * @param <R> the result type
     * @param block the critical section; what it protected must not escape it
     * @return what {@code block} returned
     * @throws NullPointerException if {@code block} is null
     * @throws IllegalStateException as {@link #enter()}
     * @throws UnsupportedOperationException as {@link #enter()}
     */
    default <R> R inGuard(Function<? super Guard, ? extends R> block) {
        Objects.requireNonNull(block, "block");
        try (Guard g = enter()) {
            return block.apply(g);
        }
    }

    /**
     * Takes the thread offline before it blocks or idles for long (liburcu's {@code rcu_thread_offline}):
     * under QSBR an offline thread holds nobody back. The thread must be outside every guard; its next guard,
     * or {@link #online()}, brings it back, and it stays online after that guard closes, until the next
     * {@code offline()}. Other schemes do nothing.
     *
     * @throws IllegalStateException if called inside a guard, from another thread, or after {@link #close()}
     */
    default void offline() {}

    /**
     * Brings an offline thread back online (one store and a full fence under QSBR). Idempotent. Other schemes
     * do nothing.
     *
     * @throws IllegalStateException if called inside a guard, from another thread, after {@link #close()},
     *     or when the reclaimer is closed
     */
    default void online() {}

    /**
     * Ends the registration: the thread's record is released and what the thread retired is handed to the
     * others. Idempotent; a no-op once the reclaimer is closed (on the registering thread: from another thread it
     * throws, whether the reclaimer is closed or not).
     *
     * @throws IllegalStateException if called from a thread other than the one that registered, or inside a guard
     *     of the reclaimer (the registration stays open: close the guard first, then the registration)
     */
    @Override
    void close();
}
