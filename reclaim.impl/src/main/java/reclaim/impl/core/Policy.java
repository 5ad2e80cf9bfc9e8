package reclaim.impl.core;

/**
 * What one scheme decides, over the {@link Core}'s parts: what a guard announces or publishes when it opens and
 * leaves, what a participant of the scheme holds, how a sealed bag is judged, and what a registered thread does.
 * Each scheme's package has one subclass, which reads as its paper; the core calls these hooks and owns the rest
 * (participants, guards, bags, sealing, flush, close).
 *
 * <p>Hooks marked "no user code" run while the caller holds bookkeeping (a participant BUSY or about to be
 * released) and must not run reclaim actions; they detach what must be walked and the core walks it (through
 * {@link #left}) when the bookkeeping is complete.
 */
public abstract class Policy {
    /** The core this policy runs in; set once, when the core is built. */
    protected Core core;

    /** Creates the policy. */
    protected Policy() {}

    /**
     * Returns what the scheme asks of the core.
     *
     * @return the capabilities
     */
    protected abstract Capabilities capabilities();

    /** Called once by the core's constructor. */
    final void attach(Core c) {
        if (core != null) throw new IllegalStateException("policy already attached");
        core = c;
        attached();
    }

    /** Called once the policy is attached to its core (a policy in this package binds the core's parts here). */
    void attached() {}

    // ---- participants and guards ----

    /**
     * Creates a participant (the scheme's subclass if it keeps per-participant state). Called when the registry
     * grows.
     *
     * @param state the state it is appended in
     * @param holder the thread that holds it
     * @param batchSize objects per bag
     * @return the participant
     */
    protected Participant newParticipant(long state, ThreadRef holder, int batchSize) {
        return new Participant(state, holder, batchSize);
    }

    /**
     * Creates the guard of {@code thread} (once per thread and reclaimer). Schemes whose {@code protect} does more
     * than a volatile load return a subclass.
     *
     * @param thread the thread the guard belongs to, or null for the guard behind an owned guard (it belongs to no
     *     thread; see {@code OwnedGuardImpl})
     * @return the guard
     */
    protected ThreadGuard newGuard(Thread thread) {
        return new ThreadGuard(core, thread);
    }

    /**
     * Returns what a guard that leases a participant announces in its state word (positive); read the clock
     * with volatile semantics if it is one. Default: the core's grace clock ({@link GracePeriods#clockVolatile()}),
     * which means "in a guard" and lets a grace period tell this guard from later ones.
     *
     * @return the announcement
     */
    protected long announcement() {
        return core.grace.clockVolatile();
    }

    /**
     * Whether this scheme's participants become sticky (a platform thread keeps its own, instead of leasing one by
     * CAS per outermost guard) and the outermost enter writes {@link #announcement()} into the owner's open word:
     * EBR's epoch, Hyaline's era (for stall detection). Scanners read it through
     * {@link Participant#announcementVolatile()}. Under the asymmetric barrier ({@link Barrier}) the store is the
     * whole enter; under fences the core follows it with a full fence (the reader's side of the store-load pair
     * with the scanner's fence), which is still cheaper than a lease: no CAS on a shared participant, no holder
     * reference to store (each of those stores pays the collector's post-write barrier). Default: false (the scheme
     * is sticky already, or keeps its leases).
     *
     * @param asymmetric whether the reclaimer runs the asymmetric barrier
     * @return whether the participants are sticky and announce in the open word under that barrier
     */
    protected boolean announcesInOpenWord(boolean asymmetric) {
        return false;
    }

    /**
     * Whether, where participants are sticky, a thread's explicit registration still announces in its state word,
     * through {@link #enterReserved} and {@link #exitReserved}, while the sticky participants of unregistered platform
     * threads announce in the open word: QSBR, whose registered executors stay online between their guards and
     * announce quiescent states there. The core then passes the outermost enter and close on either kind of own
     * participant to {@link #enterReserved} and {@link #exitReserved}, so that an executor's guard stays what it was
     * (a load of the policy's own scratch, no test of which kind it is). Default: false (registrations enter and
     * leave on the open word too).
     *
     * @return whether registrations announce in the state word
     */
    protected boolean registrationsAnnounceInStateWord() {
        return false;
    }

    /**
     * Called when the outermost guard of {@code g} has opened on its participant. No user code.
     *
     * @param g the guard
     */
    protected void entered(ThreadGuard g) {}

    /**
     * Called by the outermost enter of a guard that opens on the open word of the thread's own participant
     * ({@code g.registered()}), between the open word's store and the core's fence under the fence strategy (before the
     * core reads its state under either strategy): where a scheme's reader announces in a word of its own (Hyaline's
     * session word), the store it makes here is ordered before the guard's loads by that one fence, instead of by a
     * fence of its own after it. {@link #entered} or {@link #enteredAgain} follows once the guard is open. No user code.
     * Default: nothing.
     *
     * @param g the calling thread's guard; its record may not be set yet
     * @param fenced whether the core's full fence follows (the fence strategy); a constant where the JIT inlines the
     *        short path of either strategy, so that a scheme with nothing to do under one costs nothing there
     */
    protected void opening(ThreadGuard g, boolean fenced) {}

    /**
     * Called when the core refuses an enter after {@link #opening} ran (the core is closing): take back what
     * {@code opening} published, before the core clears the open word. {@link #entered} was not called and
     * {@link #leaving} will not be; anything inserted meanwhile is left for the pass that {@code close()} runs
     * ({@link #tidyClosed}). No user code. Default: nothing.
     *
     * @param g the calling thread's guard
     */
    protected void openingRefused(ThreadGuard g) {}

    /**
     * Called instead of {@link #entered} when the outermost guard of {@code g} opens on the short path
     * ({@link ThreadGuard#fast()}): on the thread's own participant, which it has held without a break since an
     * {@link #entered} on it (when the thread's participant changes, its next outermost enter takes the general path
     * and calls {@link #entered} again). A scheme that only binds its guard to the participant's arrays there needs
     * nothing more. No user code. Default: {@link #entered}.
     *
     * @param g the guard
     */
    protected void enteredAgain(ThreadGuard g) {
        entered(g);
    }

    /**
     * Called when the outermost guard of {@code g} closes, before its participant is released. No user code:
     * detach what the guard held and return it; {@link #left} walks it once the participant is released.
     *
     * @param g the guard
     * @return what was detached, or null if there is nothing to walk
     */
    protected Object leaving(ThreadGuard g) {
        return null;
    }

    /**
     * Whether {@link #leaving} may detach something: read once, by the core's constructor. A policy that returns false
     * is never asked at a leave on the open word (the thread's own participant), which then neither calls nor loads
     * it; the default, true, is always right. {@link ClockPolicy} returns false and makes {@code leaving} final.
     *
     * @return false only if {@link #leaving} always returns null
     */
    protected boolean detachesOnLeave() {
        return true;
    }

    /**
     * Walks what {@link #leaving} or {@link #swept} detached; may run reclaim actions. Called with no participant
     * held for it, counted as work in flight.
     *
     * @param detached what was detached (not null)
     */
    protected void left(Object detached) {}

    /**
     * Releases what the scheme still holds on behalf of guards that have closed (Hyaline: links inserted into a slot as
     * its guard left). Called at the end of every collection of a {@link CountingPolicy}, and by {@code close()} once
     * every participant is closed, no guard is open and no work is in flight, before it drains the sealed bags. May run
     * reclaim actions. Default: nothing.
     */
    protected void tidy() {}

    /**
     * {@code close()}'s pass over what the scheme still holds for guards, once every participant is closed, no guard is
     * open and no work is in flight, before it drains the sealed bags. No guard can open any more: a session that still
     * looks active belongs to an enter that the core is refusing (it began its announcement in {@link #opening} before it
     * read the state), which reads nothing and takes nothing when it ends; so a scheme that keeps lists for sessions
     * takes every list here, where {@link #tidy} leaves the lists of active sessions to their holders. May run reclaim
     * actions. Default: {@link #tidy}.
     */
    protected void tidyClosed() {
        tidy();
    }

    /**
     * Called on a participant whose thread ended, after its bag was adopted and before it is freed. No user code:
     * detach what the dead thread's guard held and return it.
     *
     * @param p the participant
     * @return what was detached, or null
     */
    protected Object swept(Participant p) {
        return null;
    }

    /**
     * Returns whether a participant that is FREE or HELD is still used by a guard that the scheme can see
     * (a published hazard or reservation); {@code close()} counts it as open. Default: false.
     *
     * @param p the participant
     * @return true if a guard still uses it
     */
    protected boolean inUse(Participant p) {
        return false;
    }

    /**
     * Returns whether the outermost guard being opened by {@code g} collects first. Default: every
     * {@link Capabilities#collectInterval()}-th outermost guard of the thread, counted down in its guard beside the
     * depth that enter writes anyway (so that entering writes no other cache line, and reads the interval only
     * when the count runs out: the first enter of a thread, then once per interval), and never when the interval
     * is {@code Integer.MAX_VALUE} (the count then runs out once every 2^31 guards, and answers false).
     *
     * @param g the guard being opened
     * @return true to collect now
     */
    protected boolean collectDue(ThreadGuard g) {
        if (--g.pinsLeft > 0) return false;
        int interval = core.collectInterval;
        g.pinsLeft = interval;
        return interval != Integer.MAX_VALUE;
    }

    // ---- sealing and collection ----

    /**
     * Called on every bag being sealed, after the full fence that orders the unlinks that preceded its retires
     * before the loads that follow (a scheme with a clock reads it here and stamps the bag). No user code.
     * Default: nothing.
     *
     * @param bag the bag
     */
    protected void sealing(Batch bag) {}

    /**
     * Judges sealed bags and reclaims what is safe. Runs counted as work in flight; may run reclaim actions.
     *
     * @param limit bags to take at most ({@link ClockPolicy} runs a share of a larger backlog:
     *     {@link ClockPolicy#BACKLOG_SHARE}); {@link Core#COLLECT_ALL} from flush
     */
    protected abstract void collect(int limit);

    /**
     * Hands over a bag of one object retired while its owner's participant was held by another thread
     * (per-participant sealing only); the bag is sealed already. Default: the shared stack.
     *
     * @param bag the bag, owned by the caller
     */
    protected void insertAside(Batch bag) {
        core.sealed.add(bag);
    }

    /**
     * Moves the scheme's clock as far as it can go before a flush collects (with no guard open, far enough).
     * Default: nothing.
     *
     * @param g the flushing thread's guard (outside any guard)
     */
    protected void beforeFlush(ThreadGuard g) {}

    // ---- registered threads ----

    /**
     * Returns the state the reserved participant of {@code g} is in while its owner is outside every guard:
     * HELD by default; QSBR's online executors announce their last quiescent state instead.
     *
     * @param g a registered thread's guard
     * @return the owner's idle state
     */
    protected long idleState(ThreadGuard g) {
        return Participant.HELD;
    }

    /**
     * Opens the outermost guard of a thread that holds a reserved participant ({@code g.registered}), for a scheme
     * without sticky participants (with them, the core only sets the open flag: the state word stays HELD), or one
     * whose {@linkplain #registrationsAnnounceInStateWord() registrations announce in the state word}: then both
     * kinds come here, and a sticky one ({@link ThreadGuard#stickyParticipant()}) is opened with
     * {@link Core#openOwn}. Default: an announcement by CAS from HELD, as a leased guard makes.
     *
     * @param g the guard
     */
    protected void enterReserved(ThreadGuard g) {
        if (!core.claimOwn(g, announcement())) throw core.refused();
    }

    /**
     * Closes the outermost guard of a thread that holds a reserved participant, for a scheme without sticky
     * participants (with them, the core only clears the open flag; a flush may hold the word BUSY right now), or
     * one whose registrations announce in the state word, where a sticky participant is closed with
     * {@link Core#closeOwn}. Default: a release store of HELD.
     *
     * @param g the guard
     */
    protected void exitReserved(ThreadGuard g) {
        g.registered.setStateRelease(Participant.HELD);
    }

    /**
     * Called on the registering thread once its participant is reserved (HELD). Default: nothing.
     *
     * @param g the thread's guard
     */
    protected void registered(ThreadGuard g) {}

    /**
     * The registration's {@code quiescent()}, on its thread outside any guard. Default: nothing.
     *
     * @param g the registered thread's guard
     */
    protected void quiescent(ThreadGuard g) {}

    /**
     * The registration's {@code offline()}, on its thread outside any guard. Default: nothing.
     *
     * @param g the registered thread's guard
     */
    protected void offline(ThreadGuard g) {}

    /**
     * The registration's {@code online()}, on its thread outside any guard. Default: nothing.
     *
     * @param g the registered thread's guard
     */
    protected void online(ThreadGuard g) {}

    // ---- grace periods (Reclaimer.synchronize(); see GracePeriods) ----

    /**
     * Starts a grace period: moves the clock that guards announce in the state word on, so that a guard opened before
     * the call announces at most the returned bound and a guard that reads the clock later announces more. Called on
     * the waiting thread, outside its guards. Default: the core's grace clock, which {@link #announcement()}
     * returns by default; a policy that announces a clock of its own overrides both.
     *
     * @param caller the waiting thread's guard
     * @return the bound: announcements in {@code (0, bound]} may belong to guards open at the call
     */
    protected long beginGracePeriod(ThreadGuard caller) {
        return core.grace.getAndIncrementClock();
    }

    /**
     * Called on a thread outside its guards at every look of a wait that another thread's reclamation may depend on
     * (a grace period, a {@code flush()} waiting for the action executor). Default: nothing. QSBR's online registered
     * thread announces a quiescent state, which it is in: a grace period started by someone else (an action on the
     * executor, say) would otherwise wait for this thread while this thread waits for it.
     *
     * @param g the waiting thread's guard
     */
    protected void waiting(ThreadGuard g) {}

    /**
     * Returns whether guards that open from now on announce more than {@code bound}; called at every look of a grace
     * period, before it scans. Default: true ({@link #beginGracePeriod} moved the clock). A policy whose clock cannot
     * be moved at will (EBR's epoch) tries to move it here.
     *
     * @param bound what {@link #beginGracePeriod} returned
     * @return whether the clock has passed the bound
     */
    protected boolean gracePeriodClockPassed(long bound) {
        return true;
    }

    // ---- what the reclaimer reports ----

    /**
     * Returns whether a participant announcing {@code state} (positive) holds reclamation back now, for stall
     * detection. Default: false (a robust scheme: a guard holds back only what it protects).
     *
     * @param state the announcement
     * @return true if it keeps sealed bags from becoming safe
     */
    protected boolean holdsBack(long state) {
        return false;
    }

    /**
     * Returns the era to stamp on objects allocated now ({@code Reclaimer.era()}).
     *
     * @return the era
     */
    protected abstract long era();

    /**
     * Returns whether {@link #collect} runs the core's heavy barrier ({@link Core#heavy()}): then, under the
     * asymmetric barrier, the core starts a collection from retire or enter only once
     * {@link Core#HEAVY_AMORTIZED} objects were sealed since the last one, so that a membarrier is paid per that many
     * retires. Default: true.
     *
     * @return whether a collection pays the heavy barrier
     */
    protected boolean collectsWithHeavyBarrier() {
        return true;
    }

    /**
     * Returns the bound on pending objects ({@code Reclaimer.pendingBound()}), without the core's amortization
     * slack ({@link Core#amortizationSlack()}), which the core adds. Default: none.
     *
     * @return the bound, or {@code Long.MAX_VALUE}
     */
    protected long pendingBound() {
        return Long.MAX_VALUE;
    }

    /**
     * Describes the scheme's clock for {@code toString()}. Default: the era.
     *
     * @return a short description
     */
    protected String describe() {
        return "era " + era();
    }
}
