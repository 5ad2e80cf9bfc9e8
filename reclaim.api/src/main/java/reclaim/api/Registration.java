package reclaim.api;

/**
 * An explicit registration of the current thread with a {@link Reclaimer} (light-qsbr's executor
 * registration), returned by {@link Reclaimer#register()}.
 *
 * <p>Threads register lazily on their first guard; registering explicitly reserves the thread's record up
 * front, which spares the per-guard lease and, for QSBR, gives the zero-cost read side. A registration
 * belongs to the thread that made it: close it on that thread, normally with try-with-resources. A thread
 * that ends while registered loses nothing: its record is recycled and what it retired is still reclaimed.
 */
public interface Registration extends AutoCloseable {

    /**
     * Ends the registration: the thread's record is released and what the thread retired is handed to the
     * others. Idempotent; a no-op once the reclaimer is closed.
     *
     * @throws IllegalStateException if called from a thread other than the one that registered
     */
    @Override
    void close();
}
