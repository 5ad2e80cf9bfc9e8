package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

import reclaim.api.Stats;

/**
 * What a {@link Core} reports about itself beyond {@link Stats}: stalls (a JFR event and a {@code WARNING} on the
 * {@code System.Logger} named {@code reclaim}, once per stall; past the first ten stalls of a reclaimer, one in a
 * hundred is logged), the pending high-water mark, the thread that sealed each bag (for the share of reclamation
 * done for other threads), and the periodic JFR snapshot. The JFR side lives in {@link Jfr}; this class names no
 * {@code jdk.jfr} type, so it runs where the module is absent.
 *
 * <h2>Cost</h2>
 * Nothing here runs on {@code enter()} or a guard's {@code close()}. Sealing a bag stores the sealing thread in
 * it (a plain field of the bag the sealer owns) and makes one opaque load ({@link Jfr#up()}); running a batch
 * makes the same load and compares two threads. Everything else runs only while a recording enables the event
 * concerned, or when a stall is detected.
 *
 * <h2>A stall</h2>
 * A participant that holds reclamation back (an announcement older than the clock: {@link Policy#holdsBack}) is
 * noted by every scanner that meets it ({@link Participant#noteLag}); once the same announcement has held it back
 * for the scheme's stall threshold it counts in {@link Stats#stalled()}. The first thread to see that
 * (a collector's scan, a {@code stats()} call, or the periodic snapshot) claims the report for that announcement
 * with a CAS on the participant ({@link Participant#claimStallReport}), so each stall is reported once however
 * many threads meet it. The announcement identifies the stall: an EBR epoch or a QSBR grace period only grows,
 * so a later stall of the same participant announces another value and is reported again.
 */
final class Telemetry {
    private static final System.Logger LOG = System.getLogger("reclaim");
    /** Numbers the reclaimers of this JVM, for their names in events. */
    private static final AtomicLong NUMBERS = new AtomicLong();
    /** The least time between two observations of the pending count from the sealing path. */
    private static final long OBSERVE_INTERVAL_NANOS = 1_000_000L;
    /** Stalls of one reclaimer logged each before the log thins out to one in {@link #WARN_EVERY}. */
    private static final long WARN_FIRST = 10;
    private static final long WARN_EVERY = 100;

    /** The reclaimer's name in events and messages: {@code scheme#number}. */
    final String id;
    /** The scheme's short name. */
    final String scheme;
    /** From the policy's {@link Capabilities}. */
    final long stallThresholdNanos;
    private final int batchSize;

    /** Where stalls are reported; replaced only by tests, before the core is used. */
    private System.Logger log = LOG;
    /**
     * The snapshot hook ({@link Jfr#register}), or null. Written in the core's constructor, before the core is
     * published (a final field of the core refers to this object), and read plainly after.
     */
    private Object hook;

    /** Stalls reported; through {@code STALLS}. */
    private long stalls;
    /** The most objects seen pending at once; through {@code HIGH_WATER}. */
    private long highWater;
    /** The last pending count reported by a {@link PendingHighWaterEvent}; through {@code MARK}. */
    private long mark;
    /**
     * When the sealing path last observed the pending count ({@code System.nanoTime()}); through {@code OBSERVED}
     * (its first value is written in the constructor, published as {@link #hook} is).
     */
    private long observed;

    Telemetry(String scheme, Capabilities c) {
        this.scheme = scheme;
        this.id = scheme + "#" + NUMBERS.incrementAndGet();
        this.stallThresholdNanos = c.stallThresholdNanos();
        this.batchSize = c.batchSize();
        this.observed = System.nanoTime() - OBSERVE_INTERVAL_NANOS; // the first seal may observe
    }

    /**
     * Registers the periodic snapshot of {@code core} (where JFR is available); called at the end of the core's
     * constructor.
     *
     * @param core the core this telemetry belongs to
     */
    void start(Core core) {
        hook = Jfr.register(core);
    }

    /**
     * The core has closed: its last snapshot, and its hook removed.
     *
     * @param core the core this telemetry belongs to
     */
    void closed(Core core) {
        try {
            Jfr.unregister(hook);
            Jfr.snapshot(core, true);
        } catch (RuntimeException e) { // the close itself is complete: a recorder's failure must not undo it
            log.log(System.Logger.Level.WARNING, "reclaim: the last JFR snapshot of " + id + " failed", e);
        }
    }

    // ---- sealing and the pending high-water mark ----

    /**
     * A bag is being sealed by the calling thread (before its publication): stamps its sealer. Nothing else: the
     * sealer holds a participant or its bag (see {@link #sealed}).
     *
     * @param bag the bag, owned by the caller
     */
    void sealing(Batch bag) {
        bag.sealedBy(ThreadRef.current());
    }

    /**
     * A thread sealed a bag and holds no participant or bag any more (a retire that filled its bag, a flush): at most
     * once per {@link #OBSERVE_INTERVAL_NANOS} among all threads, while a recording enables the high-water event, reads
     * the stats (which may report a stall to the logger: user code, hence not from {@link #sealing}, which runs while
     * the sealer holds a participant or its bag) and records the pending count.
     *
     * @param core the core
     */
    void sealed(Core core) {
        if (Jfr.highWaterEnabled()) {
            long now = System.nanoTime();
            long last = observedOpaque();
            if (now - last >= OBSERVE_INTERVAL_NANOS && casObserved(last, now)) {
                Stats s = core.stats();
                observePending(s.pending(), s.stalled());
            }
        }
    }

    /**
     * Records an observed pending count: raises the high-water mark, and reports a {@link PendingHighWaterEvent}
     * when it reaches at least a batch and twice the last mark reported.
     *
     * @param pending objects retired and not yet reclaimed
     * @param stalled stalled readers, for the event
     * @return the high-water mark
     */
    long observePending(long pending, int stalled) {
        long hw = highWaterOpaque();
        while (pending > hw) {
            if (casHighWater(hw, pending)) {
                hw = pending;
                break;
            }
            hw = highWaterOpaque();
        }
        long m = markOpaque();
        if (pending >= Math.max(batchSize, 2 * m) && casMark(m, pending)) Jfr.pendingHighWater(this, pending, m, stalled);
        return hw;
    }

    // ---- stalls ----

    /**
     * A participant announcing {@code state} holds reclamation back (seen by a scan or by {@code stats()}): notes
     * it, and reports the stall if it has lasted past the threshold and nobody reported it yet.
     *
     * @param core the core
     * @param p the participant
     * @param state its announcement as read
     * @param now {@code System.nanoTime()}
     * @return whether it counts as stalled
     */
    boolean holdingBack(Core core, Participant p, long state, long now) {
        p.noteLag(state, now); // starts the clock if no scanner saw this announcement yet
        if (!p.laggingSince(state, now - stallThresholdNanos)) return false;
        if (p.claimStallReport(state)) reportStall(core, p, state, now);
        return true;
    }

    private void reportStall(Core core, Participant p, long state, long now) {
        long n = getAndAddStalls(1) + 1;
        ThreadRef h = p.holderOpaque();
        Thread t = h == null || h == Participants.SWEEPER ? null : h.get(); // swept this moment or collected: ended
        long heldBackFor = Math.max(0, now - p.lagSinceOpaque());
        long pending = Math.max(0, core.retiredSoFar(core.participants()) - core.reclamation().reclaimed());
        Jfr.stall(this, t, heldBackFor, state, pending); // first: the event's time is the detection's, not the log's
        try {
            // Every stall of the first few, then one in WARN_EVERY: oversubscribed readers preempted inside their
            // guards can stall a reclaimer again and again, and the log should not fill up with it (the events and
            // Stats.stalled() still count each one).
            if (n <= WARN_FIRST || n % WARN_EVERY == 0) {
                log.log(System.Logger.Level.WARNING, stallMessage(t, heldBackFor, state, pending, n));
            }
        } catch (RuntimeException e) { // a broken logger must not stop the scan that found the stall
            // nothing: the event and Stats.stalled() still report it
        }
    }

    private String stallMessage(Thread t, long heldBackFor, long state, long pending, long n) {
        String who = t == null ? "a reader (thread unknown)"
                : "thread \"" + t.getName() + "\" (#" + t.threadId() + (t.isVirtual() ? ", virtual" : "") + ")";
        String until = scheme.equals("qsbr") ? "it closes its guard or, registered, announces a quiescent state or goes"
                + " offline" : "it closes its guard";
        return String.format(Locale.ROOT, "reclaim: %s has held the %s reclaimer %s back for %d ms (stall threshold"
                        + " %d ms, announcement %d); %d objects are pending, and nothing retired since can be"
                        + " reclaimed until %s%s",
                who, scheme, id, heldBackFor / 1_000_000L, stallThresholdNanos / 1_000_000L, state, pending, until,
                n < WARN_FIRST ? "" : n == WARN_FIRST ? " (stall " + n + " of this reclaimer: from now on one stall in "
                        + WARN_EVERY + " is logged)" : " (stall " + n + " of this reclaimer)");
    }

    /**
     * Returns the stalls reported so far (one event each; a warning each for the first ten).
     *
     * @return the count
     */
    long stallsReported() {
        return (long) STALLS.getOpaque(this);
    }

    /**
     * Replaces the logger stalls are reported to (tests, before the core is used).
     *
     * @param logger the logger
     */
    void logTo(System.Logger logger) {
        this.log = logger;
    }

    @Override
    public String toString() {
        return id;
    }

    // ---- accessors ----

    private long getAndAddStalls(long delta) {
        return (long) STALLS.getAndAdd(this, delta);
    }

    private long highWaterOpaque() {
        return (long) HIGH_WATER.getOpaque(this);
    }

    private boolean casHighWater(long expected, long update) {
        return HIGH_WATER.compareAndSet(this, expected, update);
    }

    private long markOpaque() {
        return (long) MARK.getOpaque(this);
    }

    private boolean casMark(long expected, long update) {
        return MARK.compareAndSet(this, expected, update);
    }

    private long observedOpaque() {
        return (long) OBSERVED.getOpaque(this);
    }

    private boolean casObserved(long expected, long update) {
        return OBSERVED.compareAndSet(this, expected, update);
    }

    private static final VarHandle STALLS;
    private static final VarHandle HIGH_WATER;
    private static final VarHandle MARK;
    private static final VarHandle OBSERVED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STALLS = l.findVarHandle(Telemetry.class, "stalls", long.class);
            HIGH_WATER = l.findVarHandle(Telemetry.class, "highWater", long.class);
            MARK = l.findVarHandle(Telemetry.class, "mark", long.class);
            OBSERVED = l.findVarHandle(Telemetry.class, "observed", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
