package reclaim.offheap;

import java.lang.ref.WeakReference;
import java.util.Optional;

import jdk.jfr.FlightRecorder;

/**
 * The JFR event {@link NativeMemoryEvent}, registered only where the runtime has {@code jdk.jfr}.
 *
 * <p>The module {@code requires static jdk.jfr}: a runtime image without it (a {@code jlink}ed image, a
 * {@code --limit-modules} that leaves it out) still runs {@code reclaim.offheap}, without the event. On the
 * module path {@code jdk.jfr} is resolved when something else requires it, when {@code --add-modules jdk.jfr}
 * names it, or when the JVM starts a recording ({@code -XX:StartFlightRecording} adds it); on the class path
 * every system module is, so the event is there whenever the image has the module.
 *
 * <p>No class of {@code jdk.jfr} is touched unless {@link #AVAILABLE}: the calls that name them live in
 * {@link Hook} and {@link Registrar}, which are loaded only then.
 */
final class Jfr {
    /** Whether {@code jdk.jfr} is present and read by this module: the event is registered only then. */
    static final boolean AVAILABLE = available(jfrModule(), Jfr.class.getModule());

    private Jfr() {
    }

    /**
     * The guard's logic: the event can be registered when {@code jdk.jfr} is in the module graph and this
     * module reads it (the unnamed module reads every module; a named one that {@code requires static} reads
     * it when it was resolved).
     *
     * @param jfr the {@code jdk.jfr} module, if the graph has it
     * @param self this module
     * @return whether to register the event
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
     * Registers the periodic event for {@code memory}, if JFR is available.
     *
     * @param memory the allocator, held weakly
     * @param name its name, for the event
     * @return the hook to pass to {@link #unregister}, or null when JFR is not available
     */
    static Runnable register(NativeMemory memory, String name) {
        if (!AVAILABLE) return null;
        Runnable hook = new Hook(new WeakReference<>(memory), name);
        Registrar.add(hook);
        return hook;
    }

    /**
     * Removes a hook {@link #register} returned; does nothing for null.
     *
     * @param hook the hook, or null
     */
    static void unregister(Runnable hook) {
        if (hook != null) Registrar.remove(hook);
    }

    /** The calls into {@code jdk.jfr}: loaded only when {@link #AVAILABLE}. */
    private static final class Registrar {
        static void add(Runnable hook) {
            FlightRecorder.addPeriodicEvent(NativeMemoryEvent.class, hook);
        }

        static void remove(Runnable hook) {
            FlightRecorder.removePeriodicEvent(hook);
        }
    }

    /** Emits the event for one allocator; holds it weakly, so a forgotten allocator can still be collected. */
    private static final class Hook implements Runnable {
        private final WeakReference<NativeMemory> memory;
        private final String name;

        Hook(WeakReference<NativeMemory> memory, String name) {
            this.memory = memory;
            this.name = name;
        }

        @Override
        public void run() {
            NativeMemory m = memory.get();
            if (m == null) return; // collected without close(): nothing to report
            NativeMemoryEvent e = new NativeMemoryEvent();
            e.set(name, m.stats());
            e.commit();
        }
    }
}
