package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

import reclaim.api.Stats;

/**
 * The JFR events of the reclaimers ({@link StallEvent}, {@link ReclamationEvent}, {@link PendingHighWaterEvent},
 * {@link SnapshotEvent}), emitted only where the runtime has {@code jdk.jfr} and only once its flight recorder is
 * initialized.
 *
 * <p>The module {@code requires static jdk.jfr}: a runtime image without it (a {@code jlink}ed image, a
 * {@code --limit-modules} that leaves it out) still runs {@code reclaim.impl}, without the events. On the module
 * path {@code jdk.jfr} is resolved when something else requires it, when {@code --add-modules jdk.jfr} names it, or
 * when the JVM starts a recording ({@code -XX:StartFlightRecording} adds it); on the class path every system module
 * is. No class of {@code jdk.jfr} is touched unless {@link #AVAILABLE}: the calls that name them live in the nested
 * classes, which are loaded only then.
 *
 * <p><b>Nothing before the recorder is up.</b> The first use of an event class, or the first
 * {@code FlightRecorder.addPeriodicEvent}, initializes JFR's metadata (a few hundred milliseconds on a small
 * machine), which a program that records nothing must not pay. So the first reclaimer only adds a
 * {@link FlightRecorderListener} (about a millisecond, once); until the recorder is initialized (by
 * {@code -XX:StartFlightRecording}, {@code jcmd JFR.start} or a {@code Recording} in the program) {@link #up()}
 * reads false, no event is created, and each reclaimer's snapshot hook waits in a set. When the recorder comes up,
 * the listener registers every waiting hook; a reclaimer created later registers its own at once.
 *
 * <p><b>Reachability.</b> A snapshot hook refers to its core weakly, and the core never to the handle the user
 * holds, so a registered hook keeps nothing reachable that the cleaner of a dropped reclaimer waits for; the close
 * of such a reclaimer removes the hook as an explicit {@code close()} does.
 */
final class Jfr {
    /** Whether {@code jdk.jfr} is present and read by this module: the events exist only then. */
    static final boolean AVAILABLE = available(jfrModule(), Jfr.class.getModule());

    /**
     * Set once the flight recorder is initialized (never cleared: an initialized recorder stays); through
     * {@code UP}, opaque: a reader that sees it late only skips an event.
     */
    private static boolean up;

    private Jfr() {
    }

    /**
     * The guard's logic: the events can be used when {@code jdk.jfr} is in the module graph and this module reads
     * it (the unnamed module reads every module; a named one that {@code requires static} reads it when it was
     * resolved).
     *
     * @param jfr the {@code jdk.jfr} module, if the graph has it
     * @param self this module
     * @return whether to use the events
     */
    static boolean available(Optional<Module> jfr, Module self) {
        return jfr.isPresent() && self.canRead(jfr.get());
    }

    /** The {@code jdk.jfr} module in this module's layer (or the boot layer, for the unnamed module), if any. */
    static Optional<Module> jfrModule() {
        ModuleLayer layer = Jfr.class.getModule().getLayer();
        return (layer != null ? layer : ModuleLayer.boot()).findModule("jdk.jfr");
    }

    /**
     * Returns whether the flight recorder is initialized, so that an event may be enabled: the one check on the
     * paths that reclaim (an opaque load of a static field).
     *
     * @return whether events may be created
     */
    static boolean up() {
        return (boolean) UP.getOpaque();
    }

    private static void setUpOpaque() {
        UP.setOpaque(true);
    }

    // ---- the snapshot hook of each reclaimer ----

    /**
     * Creates the snapshot hook of {@code core} and registers it (at once if the recorder is up, else when it
     * comes up).
     *
     * @param core the core, held weakly by the hook
     * @return the hook, for {@link #unregister}; null where JFR is not available
     */
    static Object register(Core core) {
        if (!AVAILABLE) return null;
        try {
            return Hooks.register(core);
        } catch (RuntimeException | LinkageError e) { // a runtime whose recorder cannot start: no events, no failure
            return null;
        }
    }

    /**
     * Removes a hook {@link #register} returned (registered or still waiting); does nothing for null.
     *
     * @param hook the hook, or null
     */
    static void unregister(Object hook) {
        if (hook != null) Hooks.unregister(hook);
    }

    // ---- the events, each behind up() ----

    /**
     * Starts a {@link ReclamationEvent} if a recording enables it.
     *
     * @return the started event, or null
     */
    static Object beginReclamation() {
        return up() ? Events.beginReclamation() : null;
    }

    /**
     * Commits an event {@link #beginReclamation()} started (its duration ends now).
     *
     * @param event the event (not null)
     * @param t the reclaimer's telemetry
     * @param objects actions run
     * @param failed actions that threw
     * @param sealer the thread that sealed the batch, or null
     * @param others objects of batches that another thread sealed
     */
    static void commitReclamation(Object event, Telemetry t, long objects, long failed, Thread sealer, long others) {
        Events.commitReclamation(event, t, objects, failed, sealer, others);
    }

    /** @return whether a recording enables {@link PendingHighWaterEvent} (false before the recorder is up) */
    static boolean highWaterEnabled() {
        return up() && Events.highWaterEnabled();
    }

    /** Emits a {@link PendingHighWaterEvent} (if enabled). */
    static void pendingHighWater(Telemetry t, long pending, long previousMark, int stalled) {
        if (up()) Events.pendingHighWater(t, pending, previousMark, stalled);
    }

    /** Emits a {@link StallEvent} (if enabled). */
    static void stall(Telemetry t, Thread thread, long heldBackFor, long announcement, long pending) {
        if (up()) Events.stall(t, thread, heldBackFor, announcement, pending);
    }

    /** Emits a {@link SnapshotEvent} of {@code core} (if enabled). */
    static void snapshot(Core core, boolean closed) {
        if (up()) Events.snapshot(core, closed);
    }

    /** The calls into {@code jdk.jfr}'s events: loaded only when {@link #AVAILABLE}. */
    private static final class Events {
        /*
         * Whether an event is enabled is asked of its type, not of a new event: a batch or a seal that records nothing
         * allocates nothing, whether or not the JIT removes an event object that does not escape (C1 and the
         * interpreter never do).
         */
        private static final EventType RECLAMATION = EventType.getEventType(ReclamationEvent.class);
        private static final EventType HIGH_WATER = EventType.getEventType(PendingHighWaterEvent.class);

        private Events() {
        }

        static Object beginReclamation() {
            if (!RECLAMATION.isEnabled()) return null;
            ReclamationEvent e = new ReclamationEvent();
            e.begin();
            return e;
        }

        static void commitReclamation(Object event, Telemetry t, long objects, long failed, Thread sealer,
                long others) {
            ReclamationEvent e = (ReclamationEvent) event;
            e.end();
            // commit() alone decides (threshold, rate): shouldCommit() first would count the event twice in the rate
            e.reclaimer = t.id;
            e.scheme = t.scheme;
            e.objects = objects;
            e.failed = failed;
            e.sealingThread = sealer;
            e.othersObjects = others;
            e.commit();
        }

        static boolean highWaterEnabled() {
            return HIGH_WATER.isEnabled();
        }

        static void pendingHighWater(Telemetry t, long pending, long previousMark, int stalled) {
            PendingHighWaterEvent e = new PendingHighWaterEvent();
            if (!e.shouldCommit()) return;
            e.reclaimer = t.id;
            e.scheme = t.scheme;
            e.pending = pending;
            e.previousMark = previousMark;
            e.stalled = stalled;
            e.commit();
        }

        static void stall(Telemetry t, Thread thread, long heldBackFor, long announcement, long pending) {
            StallEvent e = new StallEvent();
            if (!e.shouldCommit()) return;
            e.reclaimer = t.id;
            e.scheme = t.scheme;
            e.stalledThread = thread;
            e.heldBackFor = heldBackFor;
            e.threshold = t.stallThresholdNanos;
            e.announcement = announcement;
            e.pending = pending;
            e.commit();
        }

        static void snapshot(Core core, boolean closed) {
            SnapshotEvent e = new SnapshotEvent();
            if (!e.shouldCommit()) return;
            Telemetry t = core.telemetry;
            Stats s = core.stats(); // notes stalls (and may report one) and the pending mark, as any stats() call
            e.reclaimer = t.id;
            e.scheme = t.scheme;
            e.closed = closed;
            e.retired = s.retired();
            e.reclaimed = s.reclaimed();
            e.pending = s.pending();
            e.pendingHighWater = t.observePending(s.pending(), s.stalled());
            long bound = core.pendingBound(); // Reclaimer.pendingBound(): every term, not the policy's alone
            e.pendingBound = bound == Long.MAX_VALUE ? -1 : bound;
            e.failed = s.failed();
            e.stalled = s.stalled();
            e.participants = s.participants();
            e.balancedShare = core.reclamation().balancedShare();
            e.era = core.policy.era();
            e.commit();
        }
    }

    /**
     * The snapshot hooks: each registered with {@code FlightRecorder.addPeriodicEvent} once the recorder is up,
     * and the listener that learns when it is. Loaded only when {@link #AVAILABLE}.
     */
    private static final class Hooks {
        /** Hooks created before the recorder came up, registered by the listener when it does. */
        private static final Set<Hook> WAITING = ConcurrentHashMap.newKeySet();

        static {
            // Calls recorderInitialized at once (on this thread) if the recorder is already up.
            FlightRecorder.addListener(new FlightRecorderListener() {
                @Override
                public void recorderInitialized(FlightRecorder recorder) {
                    // Registered now, on the thread that brings the recorder up, so that no reclaiming thread pays
                    // for their metadata on its first event.
                    FlightRecorder.register(StallEvent.class);
                    FlightRecorder.register(ReclamationEvent.class);
                    FlightRecorder.register(PendingHighWaterEvent.class);
                    FlightRecorder.register(SnapshotEvent.class);
                    setUpOpaque();
                    for (Hook h : WAITING) {
                        WAITING.remove(h);
                        h.add();
                    }
                }
            });
        }

        private Hooks() {
        }

        static Object register(Core core) {
            Hook h = new Hook(new WeakReference<>(core));
            // Added to the set first, then the check: FlightRecorder sets its initialized flag (volatile) before it
            // calls the listener, so either the listener's walk of the set sees this hook or the check below sees
            // the recorder up (or both: Hook.add runs once).
            WAITING.add(h);
            if (FlightRecorder.isInitialized()) {
                setUpOpaque();
                WAITING.remove(h);
                h.add();
            }
            return h;
        }

        static void unregister(Object hook) {
            Hook h = (Hook) hook;
            WAITING.remove(h);
            h.remove();
        }
    }

    /**
     * Emits the periodic snapshot of one core; refers to it weakly. Its state moves NEW, then ADDING while one
     * thread registers it, then ADDED; {@link #remove} moves it to REMOVED from any state and removes the
     * registration, or leaves that to the thread that is still adding it. No lock is held around the calls into
     * the recorder (which takes its own locks and may call the listener).
     */
    private static final class Hook implements Runnable {
        private static final int NEW = 0;
        private static final int ADDING = 1;
        private static final int ADDED = 2;
        private static final int REMOVED = 3;

        private final WeakReference<Core> core;
        /** NEW, ADDING, ADDED or REMOVED; through {@code STATE}. */
        private int state;

        Hook(WeakReference<Core> core) {
            this.core = core;
        }

        /** Registers the hook, once; the thread that wins NEW to ADDING does it. */
        void add() {
            if (!casState(NEW, ADDING)) return;
            FlightRecorder.addPeriodicEvent(SnapshotEvent.class, this);
            if (!casState(ADDING, ADDED)) FlightRecorder.removePeriodicEvent(this); // removed meanwhile: undo
        }

        /** Moves to REMOVED and removes the registration if it was complete (else its adder undoes it). */
        void remove() {
            if (getAndSetState(REMOVED) == ADDED) FlightRecorder.removePeriodicEvent(this);
        }

        @Override
        public void run() {
            Core c = core.get();
            if (c == null || c.isClosed()) return; // collected without close(), or the last snapshot was taken
            Events.snapshot(c, false);
        }

        private boolean casState(int expected, int update) {
            return STATE.compareAndSet(this, expected, update);
        }

        private int getAndSetState(int update) {
            return (int) STATE.getAndSet(this, update);
        }

        private static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(Hook.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    private static final VarHandle UP;

    static {
        try {
            UP = MethodHandles.lookup().findStaticVarHandle(Jfr.class, "up", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
