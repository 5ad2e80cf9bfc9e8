package reclaim.api;

/**
 * A guard that belongs to no thread: opened with {@link Reclaimer#enterOwned()} on any thread, used by one thread
 * at a time (whichever holds it now), and closed once, on any thread. It is for code that hops threads inside one
 * critical section: a {@code CompletableFuture} chain, a request handed from an acceptor to a worker, a stage of a
 * reactive pipeline. seize (Rust) calls the same thing {@code OwnedGuard}; there the type system keeps two threads
 * from using it at once, here a check does (see <em>Misuse</em>).
 * <pre>{@code
 * OwnedGuard g = reclaimer.enterOwned();                       // on the acceptor's thread
 * Node n = g.protect(head);
 * CompletableFuture.supplyAsync(() -> g.protect(n.next()), pool) // on a worker: n is still protected
 *         .whenComplete((next, failure) -> g.close());        // closed wherever the chain ends
 * }</pre>
 *
 * <h2>What it keeps</h2>
 * Everything {@link Guard} promises, whichever thread makes the call: an object read through {@code protect} (or a
 * key validated by {@code reserve}) on any thread stays unreclaimed until this guard is closed, and an object
 * retired through it is reclaimed exactly once, after every guard that could have loaded it, this one included, has
 * closed. The thread that closes it need not be the one that opened it.
 *
 * <h2>Memory consistency effects</h2>
 * Those of {@link Guard}, plus one rule for the hand-over: <b>a thread's last call on the guard must happen-before
 * the next thread's first call</b>. Hand the guard over through something that orders the two threads, as any
 * object is handed over: a {@code BlockingQueue}, the completion of a {@code CompletableFuture} and the stage that
 * depends on it, an {@code Executor}'s submission, a volatile field. What a thread read through the guard (the
 * objects it protected) is visible to the next thread through that same hand-over. The guard's own state passes
 * from one caller to the next with a happens-before edge in any case (every call acquires it and releases it, see
 * <em>Misuse</em>), so a hand-over that forgets the ordering cannot corrupt the guard; it is a data race on what
 * the two threads share.
 *
 * <h2>Nesting and other guards</h2>
 * An owned guard does not nest: each {@code enterOwned()} opens a new guard with a record (participant) of its own,
 * and its {@code close()} ends exactly that section. It is independent of the thread guards of
 * {@link Reclaimer#enter()}: a thread that holds an owned guard may open and close thread guards (they nest among
 * themselves, as always), and closing one never closes the other. A registered thread's quiescent states and
 * {@code offline()} do not affect an owned guard it holds: under QSBR an owned guard is online from
 * {@code enterOwned()} until {@code close()} and holds reclamation back exactly as long as an open guard does
 * (reported in {@link Stats#stalled()} if that is long). Since it is no thread's guard, the calls that behave
 * differently inside the caller's own guard ({@link Reclaimer#synchronize()}, {@link Reclaimer#flush()}'s wait for an
 * action executor) treat a thread that holds one as outside every guard: they wait for it like any other guard, and
 * for themselves if they wait for a grace period while it is open. {@link #reclaimer()} returns the reclaimer that
 * opened it (null once that reclaimer was dropped and collected: a guard does not keep it reachable).
 *
 * <h2>Closing the reclaimer</h2>
 * An open owned guard is an open guard: {@link Reclaimer#close()} refuses with {@link IllegalStateException} while
 * one is open, on any thread (after its usual moment of waiting, also when the caller is the thread using the
 * guard: the guard belongs to no thread), and the guard keeps working; close the guard, then close the reclaimer
 * again. A reclaimer dropped without {@code close()} while an owned guard is open is finished when that guard
 * closes, on the closing thread. An owned guard that is dropped without {@code close()} stays open for good (nothing
 * can tell a guard waiting in a queue from one that was lost): close it on every path, failures included
 * ({@code whenComplete}, {@code finally}).
 *
 * <h2>Misuse</h2>
 * Every call takes the guard for its duration (a compare-and-set of a word that names the calling thread) and gives
 * it back at its end. A call that begins while another call on the same guard is in progress, on another thread or
 * from a reclaim action that the first call runs, throws {@link IllegalStateException} naming the thread in the
 * call, before it touches anything: the guard stays consistent and the call in progress completes normally. A
 * call after {@code close()} (on any thread) and a second {@code close()} throw {@link IllegalStateException} too.
 * Not detected: two threads that take turns without a hand-over that orders them (their calls never overlap), which
 * is a data race in the caller's code, as above.
 *
 * <h2>Cost</h2>
 * More than a thread guard's, and only worth paying where the section really moves. {@code enterOwned()} allocates
 * the guard and the scheme's per-guard state (a few small objects) and leases a record with one compare-and-set, as
 * the outermost guard of a virtual thread does; {@code close()} gives it back with a release store. Every call adds
 * one compare-and-set and one release store (the check above) to what the same call costs on a thread guard. The
 * JMH benchmark {@code OwnedGuardBenchmark} measures enter, protect and close against the thread guard.
 */
public interface OwnedGuard extends Guard {

    /**
     * Ends this critical section, on any thread; what it protected may be reclaimed from then on.
     *
     * @throws IllegalStateException if the guard is already closed, or another call on it is in progress
     */
    @Override
    void close();
}
