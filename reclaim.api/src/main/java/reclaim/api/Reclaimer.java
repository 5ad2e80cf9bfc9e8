package reclaim.api;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A safe-memory-reclamation domain: readers open {@linkplain Guard guards}, writers retire what they
 * unlinked, and each retired object's reclaim action runs exactly once, when no guard can still hold it.
 *
 * <p>Create one per data structure (or per resource family) with {@link #create(String)},
 * {@link #create(Scheme)} or {@link #create()}; implementations are found with
 * {@link java.util.ServiceLoader} (see {@link reclaim.spi.ReclaimerProvider}). A reclaimer is thread-safe.
 *
 * <h2>Guarantees (every scheme)</h2>
 * <ol>
 *   <li><b>Safety.</b> An object retired at time t is reclaimed only after every guard that could have
 *       loaded it before t has closed.</li>
 *   <li><b>Exactly once.</b> Each retired object's action runs once; after {@link #close()} every retired
 *       object has been reclaimed.</li>
 *   <li><b>Progress.</b> With no guard open, pending objects are reclaimed within a bounded number of later
 *       operations, or by {@link #flush()}; except under {@link Scheme.None}, the leak baseline for benchmarks,
 *       which reclaims nothing before {@link #close()}.</li>
 *   <li><b>Robustness where promised.</b> Hazard pointers, robust Hyaline and Crystalline keep pending
 *       objects bounded while a thread is stalled inside a guard (Hyaline and Crystalline: objects that are
 *       {@link Born}, whose birth era tells them apart from what the stalled thread may hold; hazard pointers:
 *       every object); EBR and QSBR cannot, and report the stall in {@link Stats#stalled()}.</li>
 *   <li><b>Containment.</b> A reclaim action that throws is counted in {@link Stats#failed()} and reported
 *       (on the {@code System.Logger} named {@code reclaim}); the other actions still run.</li>
 * </ol>
 *
 * <h2>Closing</h2>
 * {@link #close()} reclaims everything retired and is idempotent. It waits a moment (one second in all by default:
 * {@link Options#withCloseWait}) for guards that are just closing (not for one the calling thread holds open itself, which cannot close
 * meanwhile: that one makes it refuse at once; an {@link OwnedGuard} is waited for, whichever thread uses it); called
 * while guards are still open after that, it throws
 * {@link IllegalStateException} and stops accepting new guards and retires from other threads;
 * the open guards finish normally, and a later {@code close()} completes. It never returns while another
 * thread is still reclaiming (a collection started by its {@code retire}, {@code flush} or the close of its
 * guard, or a batch of actions that an {@linkplain Options#withActionExecutor action executor} is running; what
 * the executor has not started, {@code close()} runs itself): it waits for that thread, within the same moment,
 * or refuses in the same way; once {@code close()} returns, every retired object's action has run exactly once.
 * After close, {@code enter}, {@code retire}, {@code register} and {@code flush} throw
 * {@link IllegalStateException}; {@code stats} still works. Between a {@code close()} that refused and one that
 * completes, they throw it too, with a message that says the reclaimer is closing ({@link #isClosed()} is still
 * false), with one exception: on a thread whose guard of this reclaimer is still open, a nested {@code enter()} and a
 * retire (through a guard or {@link #retire}) are accepted, so that the open guard finishes its work normally;
 * {@code close()} then reclaims what it retired. {@code register()} and {@code flush()} throw on every thread.
 *
 * <p>The reclaim actions that {@code close()} runs, on its thread and one at a time, may open guards of this
 * reclaimer (a guard there holds nothing back: nothing else is reclaimed while its action runs) and retire into it
 * ({@code close()} reclaims those objects too); {@code flush()} there throws, as on any thread while closing. A
 * guard that such an action leaves open when it returns is closed
 * then, before the next action runs, so that nothing it read is used after its reclamation: any later use of it
 * throws {@link IllegalStateException}, and the action counts as failed, as one that throws. Anywhere else an
 * action runs on whichever thread reclaims, perhaps inside a guard that thread has open, and nothing closes what it
 * leaves open: an action must close every guard it opens before it returns (try-with-resources), or the guard stays
 * open on that thread, nested in the thread's own, holding reclamation back until that thread closes it.
 *
 * <p>A reclaimer dropped without {@code close()} does not stay reachable through the threads that used it:
 * once it is unreachable (no registration of it is alive), the built-in implementation closes it on a cleaner
 * thread of its own ({@link java.lang.ref.Cleaner}), as {@code Arena.ofAuto()} frees its memory, or, if a guard of
 * it is still open, when the last such guard closes, on that guard's thread; its per-thread state is collected
 * after. Reclaim actions then run at a time the garbage collector chooses: call {@code close()} when the moment
 * matters. {@link Guard#reclaimer()} of a guard whose reclaimer was dropped and collected returns null.
 *
 * <h2>Retiring twice</h2>
 * Retire an object once per unlink. Retiring it again before its action has started is undefined, as in
 * crossbeam-epoch: by default no scheme notices, and the action may run twice (a double free when the action frees
 * memory). In checked mode ({@link Options#checked()}, or the system property {@value Options#CHECKED_PROPERTY}) the
 * second retire throws {@link IllegalStateException} naming the object; see {@link Options} for everything checked
 * mode detects, what it does not, and what it costs.
 */
public interface Reclaimer extends AutoCloseable {

    /** The system property {@link #create()} reads: a scheme name, as for {@link Scheme#named(String)}. */
    String SCHEME_PROPERTY = "reclaim.scheme";

    /** The scheme {@link #create()} uses when {@value #SCHEME_PROPERTY} is not set: {@value}. */
    String DEFAULT_SCHEME = "ebr";

    /**
     * Creates a reclaimer for the scheme named by the system property {@value #SCHEME_PROPERTY}, or for
     * {@value #DEFAULT_SCHEME} when it is not set.
     *
     * @return a new reclaimer
     * @throws IllegalArgumentException if the name is unknown or no provider supports the scheme
     */
    static Reclaimer create() {
        return create(System.getProperty(SCHEME_PROPERTY, DEFAULT_SCHEME));
    }

    /**
     * Creates a reclaimer for the named scheme with its default tuning.
     *
     * @param scheme a short name, see {@link Scheme#named(String)}
     * @return a new reclaimer
     * @throws NullPointerException if {@code scheme} is null
     * @throws IllegalArgumentException if the name is unknown (the message lists the known names,
     *     {@link Scheme#NAMES}), or no provider present supports it (the message lists the schemes that are
     *     available)
     */
    static Reclaimer create(String scheme) {
        if (scheme == null) throw new NullPointerException("scheme");
        return create(Scheme.named(scheme));
    }

    /**
     * Creates a reclaimer for {@code scheme}, from the provider of highest priority that supports it.
     * Providers that fail to load are skipped and reported.
     *
     * @param scheme the scheme and its tuning
     * @return a new reclaimer
     * @throws NullPointerException if {@code scheme} is null
     * @throws IllegalArgumentException if no provider present supports the scheme (the message lists the
     *     schemes that are available, and any provider that failed to load)
     */
    static Reclaimer create(Scheme scheme) {
        return Providers.installed().create(scheme, null);
    }

    /**
     * Creates a reclaimer for {@code scheme} with {@code options}, from the provider of highest priority that
     * supports the scheme.
     *
     * @param scheme the scheme and its tuning
     * @param options settings for any scheme ({@link Options#fromSystemProperties()} is what {@link #create(Scheme)} uses)
     * @return a new reclaimer
     * @throws NullPointerException if {@code scheme} or {@code options} is null
     * @throws IllegalArgumentException if no provider present supports the scheme, or the provider refuses a setting
     *     (for example {@link Options.Barrier#ASYMMETRIC} where the platform offers no process-wide barrier)
     */
    static Reclaimer create(Scheme scheme, Options options) {
        return Providers.installed().create(scheme, java.util.Objects.requireNonNull(options, "options"));
    }

    /**
     * Returns the names of {@link Scheme#NAMES} whose schemes the providers present can create. Names outside
     * that list, such as {@code crystalline-w}, are not reported even when a provider supports them.
     *
     * @return the available scheme names, in {@link Scheme#NAMES} order
     */
    static Set<String> availableSchemes() {
        return Providers.installed().schemes();
    }

    /**
     * Returns this reclaimer's scheme and tuning.
     *
     * @return the scheme
     */
    Scheme scheme();

    /**
     * Opens a critical section on the current thread. Allocation-free once the thread has used this
     * reclaimer before.
     *
     * @return the guard; close it on this thread
     * @throws IllegalStateException if the reclaimer is closed, or closing (a {@code close()} in progress, or one
     *     that refused because guards were open), except in a reclaim action that {@code close()} runs (see the
     *     class documentation) and on a thread whose guard is open already: a nested {@code enter()} returns that
     *     guard one level deeper, as always, since an open guard finishes normally while the reclaimer is closing;
     *     also if the thread's guards are nested as deep as {@link Guard} says they count already
     */
    Guard enter();

    /**
     * Opens a critical section that belongs to no thread: an {@link OwnedGuard}, which may be used on one thread
     * after another (one at a time) and closed on any. For code that hops threads inside one section (a
     * {@code CompletableFuture} chain, a request handed from an acceptor to a worker); the thread-bound guard of
     * {@link #enter()} is cheaper everywhere else. Each call opens a new guard on a record of its own, independent
     * of the calling thread's guards; see {@link OwnedGuard} for the hand-over rule, misuse and cost.
     *
     * @return a new open guard; close it exactly once, on any thread
     * @throws IllegalStateException if the reclaimer is closed or closing (a {@link #close()} in progress, or one
     *     that refused because guards were open: it accepts no new guard), also from a reclaim action that
     *     {@code close()} runs
     * @throws UnsupportedOperationException if the provider offers no owned guard (the built-in provider offers one
     *     for every scheme; the default method throws this)
     */
    default OwnedGuard enterOwned() {
        throw new UnsupportedOperationException(getClass().getName() + " offers no owned guard: use enter() on each thread");
    }

    /**
     * Runs {@code block} inside a critical section and returns its result: opens a guard with
     * {@link #enter()}, applies {@code block} to it and closes it, also when {@code block} throws. The same as
     * try-with-resources around {@code enter()}, in one expression:
     * <pre>{@code
     * String name = reclaimer.inGuard(g -> g.protect(head).name());   // head: AtomicReference<Node>
     * }</pre>
     * What {@code block} protected must not escape it (return a value computed from it, not the protected
     * object, unless the object stays valid without the guard). Kotlin callers use the inline
     * {@code reclaimer.withGuard { g -> }} of {@code reclaim.coroutines}, which allocates nothing and cannot
     * suspend inside; this method needs nothing but this module.
     *
     * @param <R> the result type
     * @param block the critical section
     * @return what {@code block} returned
     * @throws NullPointerException if {@code block} is null
     * @throws IllegalStateException if the reclaimer is closed
     */
    default <R> R inGuard(Function<? super Guard, ? extends R> block) {
        Objects.requireNonNull(block, "block");
        try (Guard g = enter()) {
            return block.apply(g);
        }
    }

    /**
     * Retires an object that has been unlinked, from outside any guard (inside one, {@link Guard#retire}
     * is the same and cheaper): {@code action} runs on it exactly once, when no guard can hold it.
     *
     * <p>Retiring an object again before its action has started is undefined (the action may run twice), unless
     * this reclaimer is in checked mode ({@link Options#checked()}), which refuses it.
     *
     * <p>A reclaim action may retire too: what its object links to (a list freed node by node), or the object itself
     * again (recycling). A thread that runs reclaim actions in a collection, a flush or a guard's close starts no further
     * collection inside them, whatever guard they use (owned guards included), walks what a guard closed inside them
     * detached only after them, and defers a {@link #flush()} they call to the end of its own work: what they retire is
     * reclaimed by a later collection (a later retire's, enter's or flush's, or {@code close()}'s), so a chain of such
     * actions runs as a loop, however long the list, and does not grow the thread's stack with it.
     *
     * @param <T> the object's type
     * @param object the unlinked object
     * @param action the reclaim action
     * @throws NullPointerException if {@code object} or {@code action} is null
     * @throws IllegalStateException if the reclaimer is closed, or closing (a {@code close()} in progress, or one
     *     that refused because guards were open), unless this thread has a guard of it open from {@link #enter()}
     *     or runs a reclaim action that {@code close()} runs (see <em>Closing</em>); in checked mode also if
     *     {@code object} is retired and its action has not started, or if this thread's guard is open and read
     *     {@code object} from a source that still holds it (see {@link Options}); a refused retire retires nothing
     */
    <T> void retire(T object, Consumer<? super T> action);

    /**
     * Reclaims now what can be reclaimed: hands this thread's (and idle threads') partly filled batches to
     * reclamation, tries to advance the scheme's epoch and runs the actions that are due. With no guard open
     * anywhere, every object retired before the call is reclaimed when it returns, except those that a collection in
     * progress meanwhile (another thread's retire, enter or flush, or the one running the reclaim action that calls
     * this) has already taken from where this call looks: that collection reclaims them before it ends, unless a guard
     * that was closing while it worked kept them from it; those wait for the next collection (any thread's retire,
     * enter or flush) or for {@link #close()}. Nor does it take the partly filled batch of a thread whose retire is
     * adding to it at that moment: what waits there goes with that batch (sealed when it fills, or by that thread's
     * flush, a later flush or {@link #close()}). With an {@linkplain Options#withActionExecutor action executor} that
     * includes the actions handed to it: it runs those
     * not started yet itself and waits for the others. Called inside a guard of this reclaimer (or from an action on
     * the executor), it runs those not started yet and waits for none: an action the executor is running may itself
     * wait for a grace period ({@link #synchronize()}), which the caller's open guard would hold back for ever. An
     * object whose action the executor had started is then reclaimed when that action ends, on the executor, whether
     * the caller's guard is still open or not. An {@link OwnedGuard} the caller keeps open does not count as its guard
     * here (it belongs to no thread): the call waits for the executor's running actions as it would outside every
     * guard, and an action among them that waits for a grace period waits for that owned guard, so neither returns
     * (as {@link #synchronize()} called with one open waits for itself). Close the owned guard or hand it on first, or
     * flush inside a guard from {@link #enter()}. Under {@link Scheme.None} (the leak baseline) it reclaims nothing: that
     * scheme runs every action at {@link #close()}.
     *
     * <p>Called by a reclaim action of this reclaimer on a thread that is running its actions (in a collection, a
     * flush, or a guard's close: see {@link #retire}), it returns at once, and the work that runs the action flushes
     * again before it ends, as many times as its actions ask: what was retired before the call is reclaimed by then,
     * as above. A chain of actions that each retire and flush runs as a loop, not as a recursion.
     *
     * @throws IllegalStateException if the reclaimer is closed, or closing (a {@code close()} in progress, or one
     *     that refused because guards were open), also inside a guard that is still open and from a reclaim action
     *     that {@code close()} runs (which reclaims what the action retires)
     */
    void flush();

    /**
     * Waits for a grace period: returns once every guard that was open when it was called has closed (liburcu's
     * and the Linux kernel's {@code synchronize_rcu}). For a writer that must itself know that no reader can still
     * hold what it unlinked before it goes on (unmap a file, close a descriptor, reuse a buffer it owns), where
     * {@link #retire} would run the same step later on another thread. The name is RCU's; it has nothing to do with
     * Java's {@code synchronized}.
     * <pre>{@code
     * Mapping old = current.getAndSet(fresh);   // readers that start now see only fresh
     * reclaimer.synchronize();                  // readers that could see old have left their guards
     * old.unmap();
     * }</pre>
     *
     * <p><b>Which guards it waits for.</b> Every guard whose {@link #enter()} happened-before this call, on any
     * thread, until its outermost {@link Guard#close()} or a {@link Guard#refresh()} (a refresh counts as closing
     * and opening again). Under hazard pointers too, whether the guard protected anything or not: it waits for
     * guards, not only for protected pointers. Guards opened during or after the call may or may not be waited for,
     * and never make it wait forever: however often threads open and close guards, it returns once the guards of
     * the call's moment have closed. A guard left open by a thread that ended is no longer waited for.
     *
     * <p><b>Registered threads.</b> Under QSBR, a registered thread that is online counts as inside a guard from
     * its last {@linkplain Registration#quiescent() quiescent state} on, between its guards too, until it passes
     * another one (a {@code quiescent()}, the close of its outermost guard) or goes
     * {@linkplain Registration#offline() offline}: a worker that stays online without either holds every grace
     * period, as it holds reclamation. The calling thread itself is quiescent (it is outside every guard), so a
     * registered QSBR thread may call this. Under the other schemes a registered thread outside its guards holds
     * nothing.
     *
     * <p><b>Where it may be called.</b> Outside every guard of this reclaimer on the calling thread: inside one it
     * would wait for itself, and is refused. An {@link OwnedGuard} belongs to no thread, so it does not count as the
     * caller's: this waits for it as for any other guard, and returns only once some thread closes it (a thread
     * that calls this while it keeps one open waits for itself). A reclaim action runs wherever reclamation happens
     * to run, perhaps inside a guard of the thread that triggered it; one that needs a grace period should run on an
     * {@linkplain Options#withActionExecutor executor}. The wait spins briefly, then parks with a growing back-off
     * (up to a millisecond per check); it is not interruptible, and keeps the thread's interrupt status.
     *
     * <p><b>After close.</b> On a closed reclaimer it returns at once: {@code close()} completed only with no guard
     * open, and none can open since. On a reclaimer that is closing (a {@code close()} refused because guards are
     * still open) it waits for those guards as usual.
     *
     * <p><b>Memory consistency effects:</b> everything a guard that was open at the call did (its reads and writes,
     * up to its close or refresh) happens-before this method returns.
     *
     * <p>The default implementation throws {@link UnsupportedOperationException}; every built-in scheme implements
     * it.
     *
     * @throws IllegalStateException if the calling thread is inside a guard of this reclaimer
     * @throws UnsupportedOperationException if the provider cannot wait for a grace period
     */
    default void synchronize() {
        throw new UnsupportedOperationException(getClass().getName() + " cannot wait for a grace period");
    }

    /**
     * Waits for a grace period as {@link #synchronize()} does, for at most {@code timeout}.
     *
     * <p>A timeout that is zero or negative checks once, without waiting. When it returns {@code false}, some guard
     * open at the call was still open at the deadline: nothing is known of the others, and the call has no effect
     * to undo.
     *
     * <p><b>Memory consistency effects:</b> when it returns {@code true}, as {@link #synchronize()}.
     *
     * @param timeout how long to wait at most
     * @return {@code true} if every guard open at the call has closed, {@code false} if the timeout elapsed first
     * @throws NullPointerException if {@code timeout} is null
     * @throws IllegalStateException if the calling thread is inside a guard of this reclaimer
     * @throws UnsupportedOperationException if the provider cannot wait for a grace period
     */
    default boolean synchronize(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        throw new UnsupportedOperationException(getClass().getName() + " cannot wait for a grace period");
    }

    /**
     * Returns a snapshot of the counters.
     *
     * @return the stats
     */
    Stats stats();

    /**
     * Returns the bound a {@linkplain Scheme#robust() robust} scheme keeps on {@link Stats#pending()}
     * however long a guard stays open, computed for the current number of participants (it grows when more
     * threads hold records at once); {@link Long#MAX_VALUE} for a scheme that cannot bound garbage. Under
     * Hyaline and Crystalline the objects born no later than the oldest open reservation, which a stalled guard
     * may hold, are added on top, and every object that is not {@link Born} counts as such: the bound stays fixed
     * for {@link Born} objects made after the stall and grows with objects that are not born. Hazard pointers
     * bound every object. With an
     * {@linkplain Options#withActionExecutor action executor}, the objects handed to it whose actions have not run
     * yet are added: the scheme bounds what it holds back, not the executor's queue. So are the objects in sealed
     * batches waiting for a collection: reclaim actions that retire (an action that frees what its object links to by
     * retiring it) fill batches that no collection inside those actions takes, and they wait, any number of them,
     * for the next operation that collects. Once {@link #close()} has begun, the bound no longer counts what it takes
     * to reclaim nor what its reclaim actions retire: read it on an open reclaimer.
     *
     * @return the bound on pending objects
     */
    default long pendingBound() {
        return Long.MAX_VALUE;
    }

    /**
     * Returns the current era, to stamp as the birth era of a new object (see {@link Born}). Schemes
     * without eras return a monotone value all the same.
     *
     * @return the era, {@code >= 1}
     */
    long era();

    /**
     * Registers the current thread explicitly (executor style), reserving its record until the returned
     * registration is closed. Optional: threads register lazily on first use.
     *
     * @return the registration; close it on this thread
     * @throws IllegalStateException if the thread is already registered with this reclaimer, is inside a guard
     *     of it, or the reclaimer is closed or closing
     */
    Registration register();

    /**
     * Returns whether {@link #close()} has completed.
     *
     * @return true once closed
     */
    boolean isClosed();

    /**
     * Returns, in checked mode, what {@link #close()} reclaimed late: the objects still pending when it began to
     * reclaim what was left (not reclaimed by the scheme before, as everything is under the {@code none} baseline),
     * described as {@code class@identityHash (toString())}, read before their actions ran. Once {@code close()} has
     * completed it lists at most 64 of them, in no particular order; the same report, with the total count, goes
     * to the {@code System.Logger} named {@code reclaim} at level {@code INFO} when there was any. Objects that
     * reclaim actions retire while {@code close()} runs are not listed.
     *
     * @return the descriptions; empty when the reclaimer is not in checked mode, before {@code close()} began to
     *     reclaim what was left (the reclaim actions that {@code close()} runs may already see the list), and when
     *     nothing was left
     * @see Options#checked()
     */
    default java.util.List<String> pendingAtClose() {
        return java.util.List.of();
    }

    /**
     * Reclaims every retired object and closes this reclaimer. Idempotent.
     *
     * @throws IllegalStateException if guards are still open, or, under QSBR, a registered thread is online (the
     *     calling thread included: take it {@linkplain Registration#offline() offline} or close its registration
     *     first); see the class documentation; or if called by a reclaim action that a {@code close()} in
     *     progress runs (that action fails, contained and counted as any failing action; the reclaimer is closed
     *     when the outer {@code close()} returns)
     */
    @Override
    void close();
}
