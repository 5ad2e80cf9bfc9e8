package reclaim.impl.core;

import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

import reclaim.api.Options;

/**
 * The barrier strategy of a core: who pays to order a reader's announcement (an epoch, a hazard pointer, a
 * reservation) before the reader's later loads of shared links, against a reclaimer that unlinks and then reads the
 * announcements. Two strategies, chosen per reclaimer ({@link Options#barrier()}):
 * <ul>
 *   <li><b>fence</b>: the reader announces with a store-load fence (a volatile store, a CAS or a swap), and the
 *       reclaimer runs {@link VarHandle#fullFence()} before it reads announcements ({@link #heavy()});</li>
 *   <li><b>asymmetric</b>: the reader announces with an opaque (or release) store and loads on, with no fence: its
 *       store may wait in the CPU's store buffer while the loads run. The reclaimer pays instead, once per scan, with
 *       {@link Membarrier#run()}, which makes every CPU running a thread of the process run a full barrier.</li>
 * </ul>
 *
 * <h2>What the asymmetric strategy relies on beyond the JMM</h2>
 * The Java memory model gives no ordering between an opaque store and a later load of another variable, and it has
 * no notion of a barrier run on another thread's behalf: the strategy's safety rests on two properties of the
 * implementation, stated here and checked where they can be.
 * <ol>
 *   <li>The compiled code keeps the announcing store before the later loads. HotSpot's C2 brackets every
 *       {@code VarHandle} access that is not plain (opaque, acquire, release, volatile) with compiler-ordering
 *       barriers ({@code MemBarCPUOrder}, {@code BarrierSetC2}), so no memory access moves across the store in the
 *       compiled code; C1 and the interpreter do not reorder memory accesses. So the only reordering left is the CPU's
 *       store-load reordering, which the heavy barrier removes. This is checked by name ({@link #jitReason()}): a VM
 *       that is not HotSpot, or a HotSpot whose JIT is a JVMCI compiler (Graal), gets the fence strategy under
 *       {@link Options.Barrier#AUTO}; {@link Options.Barrier#ASYMMETRIC} forces it anyway, at the user's word.</li>
 *   <li>The kernel's {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)} runs a full barrier on every CPU that runs
 *       a thread of the process (and a context switch is one for the others); see {@link Membarrier}.</li>
 * </ol>
 * Where the barrier is unavailable (not Linux, native access not enabled for this module, a seccomp filter that
 * refuses the system call), {@link Options.Barrier#AUTO} falls back to the fence strategy and
 * {@link Options.Barrier#ASYMMETRIC} is refused at creation. Which strategy a reclaimer runs shows in
 * {@code Stats.barrier()} and its {@code toString()}, and the choice is logged once, at {@code DEBUG}, on the
 * {@code reclaim} logger.
 *
 * <p>The reader's side is written in each policy, next to the access it orders: a final boolean read
 * ({@link #asymmetric()}) picks the opaque store or the fencing one.
 */
public final class Barrier {
    private static final System.Logger LOG = System.getLogger("reclaim");
    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    /** The fence strategy. */
    public static final Barrier FENCE = new Barrier(false);
    private static final Barrier ASYMMETRIC = new Barrier(true);

    private final boolean asymmetric;

    private Barrier(boolean asymmetric) {
        this.asymmetric = asymmetric;
    }

    /**
     * Resolves the requested strategy on this platform.
     *
     * @param requested the strategy asked for
     * @return the strategy to run
     * @throws IllegalArgumentException if {@link Options.Barrier#ASYMMETRIC} was asked for and the heavy barrier is
     *     unavailable, naming why
     */
    static Barrier resolve(Options.Barrier requested) {
        switch (requested) {
            case FENCE:
                return FENCE;
            case ASYMMETRIC: {
                String why = Membarrier.unavailableReason();
                if (why != null) throw new IllegalArgumentException("the asymmetric barrier strategy is unavailable: " + why);
                log("asymmetric (forced)");
                return ASYMMETRIC;
            }
            default: {
                String why = jitReason();
                if (why == null) why = Membarrier.unavailableReason();
                if (why != null) {
                    log("fence: " + why);
                    return FENCE;
                }
                log("asymmetric");
                return ASYMMETRIC;
            }
        }
    }

    private static void log(String choice) {
        if (LOG.isLoggable(System.Logger.Level.DEBUG) && LOGGED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.DEBUG, "reclaim barrier strategy: " + choice);
        }
    }

    /**
     * Returns why this VM's JIT is not known to keep an opaque store before a later load in compiled code, or null
     * when it is (HotSpot with its own compilers).
     *
     * @return the reason, or null
     */
    static String jitReason() {
        String vm = System.getProperty("java.vm.name", "");
        if (!(vm.contains("HotSpot") || vm.contains("OpenJDK"))) return "the VM (" + vm + ") is not HotSpot";
        String vendor = System.getProperty("java.vendor.version", "").toLowerCase(Locale.ROOT);
        if (vendor.contains("graalvm")) return "the JIT of " + System.getProperty("java.vendor.version") + " is Graal";
        // -XX:+EnableJVMCI resolves the JVMCI module into the boot layer (the VM keeps its own flag property internal).
        if (ModuleLayer.boot().findModule("jdk.internal.vm.ci").isPresent()) return "JVMCI is enabled (the JIT may be Graal)";
        return null;
    }

    /**
     * Returns whether readers announce with an opaque store and no fence.
     *
     * @return true for the asymmetric strategy
     */
    public boolean asymmetric() {
        return asymmetric;
    }

    /**
     * The reclaimer's side, run after its unlinks (and seals) and before it reads what readers announced: the
     * load side of the store-load pair with every reader's announcement.
     */
    public void heavy() {
        if (asymmetric) Membarrier.run();
        else VarHandle.fullFence();
    }

    /**
     * Returns the strategy as the API names it.
     *
     * @return {@link Options.Barrier#ASYMMETRIC} or {@link Options.Barrier#FENCE}
     */
    public Options.Barrier kind() {
        return asymmetric ? Options.Barrier.ASYMMETRIC : Options.Barrier.FENCE;
    }

    @Override
    public String toString() {
        return asymmetric ? "asymmetric" : "fence";
    }
}
