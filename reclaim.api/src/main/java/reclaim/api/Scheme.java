package reclaim.api;

import java.util.List;
import java.util.Locale;

/**
 * A reclamation scheme and its tuning: one record per scheme, each with defaults.
 *
 * <p>Pass one to {@link Reclaimer#create(Scheme)}, or name one with {@link #named(String)}, which accepts the
 * seven short names of the table below ({@code qsbr}, {@code ebr}, {@code hp}, {@code hyaline},
 * {@code crystalline}, {@code crystalline-w} and {@code none}) and three aliases ({@code hazard-pointers} and
 * {@code hazardpointers} for {@code hp}, {@code crystalline-l} for {@code crystalline}). {@link #NAMES} lists
 * six of them, one per scheme record: it leaves out {@code crystalline-w}, the wait-free variant of
 * {@link Crystalline}, so that loops over every scheme run Crystalline once. Which schemes can actually be
 * created depends on the providers present: see {@link Reclaimer#availableSchemes()}.
 *
 * <table class="striped">
 * <caption>The schemes</caption>
 * <thead><tr><th>name</th><th>reference</th><th>progress</th><th>bounded garbage</th></tr></thead>
 * <tbody>
 * <tr><td>{@code qsbr}</td><td>McKenney &amp; Slingwine; liburcu</td><td>blocking reclamation</td><td>no (stall detected)</td></tr>
 * <tr><td>{@code ebr}</td><td>Fraser 2004; crossbeam-epoch</td><td>blocking reclamation</td><td>no (stall detected)</td></tr>
 * <tr><td>{@code hp}</td><td>Michael 2004</td><td>lock-free</td><td>yes</td></tr>
 * <tr><td>{@code hyaline}</td><td>Nikolaev &amp; Ravindran, PLDI 2021</td><td>lock-free, balanced</td><td>yes (robust variant)</td></tr>
 * <tr><td>{@code crystalline}</td><td>Nikolaev &amp; Ravindran, DISC 2021 (Crystalline-L)</td><td>lock-free protect and retire; wait-free close</td><td>yes</td></tr>
 * <tr><td>{@code crystalline-w}</td><td>the same paper (Crystalline-W)</td><td>wait-free protect (bounded fast path, then helping), retire insertion and close; see its implementation for what stays lock-free</td><td>yes</td></tr>
 * <tr><td>{@code none}</td><td>the leak baseline</td><td>wait-free</td><td>no: nothing is reclaimed before close</td></tr>
 * </tbody>
 * </table>
 */
public sealed interface Scheme {
    /**
     * The largest {@code batchSize} a scheme record accepts: 65,536 objects. A thread's batch is allocated whole (an
     * array of this many references, and of their actions), and emptied batches are kept for reuse, so a batch
     * much larger than what a thread retires between two collections costs memory and delays reclamation.
     */
    int MAX_BATCH_SIZE = 1 << 16;


    /**
     * One short name per scheme record, in the order of the table above: {@code qsbr}, {@code ebr}, {@code hp},
     * {@code hyaline}, {@code crystalline}, {@code none}. {@link #named(String)} accepts each of them and
     * returns a scheme whose {@link #name()} is that name. It accepts more than these: the short name
     * {@code crystalline-w} (Crystalline-W, left out here so that a loop over {@code NAMES} runs Crystalline
     * once) and the aliases {@code hazard-pointers}, {@code hazardpointers} and {@code crystalline-l}.
     * {@link Reclaimer#availableSchemes()} reports names from this list only.
     */
    List<String> NAMES = List.of("qsbr", "ebr", "hp", "hyaline", "crystalline", "none");

    /**
     * Returns the scheme's short name, as accepted by {@link #named(String)}.
     *
     * @return the short name
     */
    String name();

    /**
     * Returns whether the scheme is robust: whether it keeps the number of pending objects under a bound
     * ({@link Reclaimer#pendingBound()}) while a thread is stalled inside a guard. Hazard pointers, robust
     * Hyaline and Crystalline are (the last two for {@link Born} objects: see {@link Reclaimer#pendingBound()});
     * EBR, QSBR and non-robust Hyaline are not (they detect and report the stall in {@link Stats#stalled()}
     * instead).
     *
     * @return true if pending objects stay bounded with a stalled reader
     */
    default boolean robust() {
        return false;
    }

    /**
     * Returns the scheme with the given name and default tuning. Case and surrounding blanks are ignored.
     * Accepted:
     * <ul>
     *   <li>{@code qsbr}, {@code ebr}, {@code hyaline}, {@code none}: {@link Qsbr}, {@link Ebr},
     *       {@link Hyaline}, {@link None} with their defaults;</li>
     *   <li>{@code hp}, or its aliases {@code hazard-pointers} and {@code hazardpointers}:
     *       {@link HazardPointers} with its defaults;</li>
     *   <li>{@code crystalline}, or its alias {@code crystalline-l}: {@link Crystalline#Crystalline()}
     *       (Crystalline-L);</li>
     *   <li>{@code crystalline-w}: Crystalline-W with the same defaults as Crystalline-L (batches of 64, 8
     *       slots, {@code waitFree} true).</li>
     * </ul>
     * Every name of {@link #NAMES} is accepted and gives back a scheme whose {@link #name()} is that name;
     * an alias gives the scheme of the short name it stands for.
     *
     * @param name a short name or an alias listed above
     * @return that scheme with its defaults
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalArgumentException if the name is none of the above (the message lists {@link #NAMES})
     */
    static Scheme named(String name) {
        if (name == null) throw new NullPointerException("name");
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "qsbr" -> new Qsbr();
            case "ebr" -> new Ebr();
            case "hp", "hazard-pointers", "hazardpointers" -> new HazardPointers();
            case "hyaline" -> new Hyaline();
            case "crystalline", "crystalline-l" -> new Crystalline();
            case "crystalline-w" -> new Crystalline(64, 8, true);
            case "none" -> new None();
            default -> throw new IllegalArgumentException(
                    "unknown reclamation scheme '" + name + "'; known schemes: " + String.join(", ", NAMES));
        };
    }

    private static int positive(String what, int value) {
        if (value <= 0) throw new IllegalArgumentException(what + " must be positive, was " + value);
        return value;
    }

    private static void checkBatchSize(int value) {
        if (value <= 0 || value > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("batchSize must be in [1, " + MAX_BATCH_SIZE + "], was " + value);
        }
    }

    /**
     * Quiescent-state-based reclamation (McKenney &amp; Slingwine; liburcu; light-qsbr).
     *
     * @param batchSize objects a thread retires before it tries to reclaim, at most {@link #MAX_BATCH_SIZE}
     * @param passIntervalNanos minimum time between two attempts of a thread to advance the epoch when it
     *     announces a quiescent state (light-qsbr's {@code maybe_pass_epoch})
     * @param stallThresholdNanos how long a thread may hold the epoch back before it is reported as stalled
     */
    record Qsbr(int batchSize, long passIntervalNanos, long stallThresholdNanos) implements Scheme {
        /**
         * Checks the tuning.
         *
         * @throws IllegalArgumentException if {@code batchSize} is not in [1, {@link #MAX_BATCH_SIZE}],
         *     {@code stallThresholdNanos} is not positive, or {@code passIntervalNanos} is negative ({@code 0}: a pass
         *     at every quiescent state)
         */
        public Qsbr {
            checkBatchSize(batchSize);
            if (passIntervalNanos < 0) throw new IllegalArgumentException("passIntervalNanos must be >= 0, was " + passIntervalNanos);
            if (stallThresholdNanos <= 0) throw new IllegalArgumentException("stallThresholdNanos must be positive, was " + stallThresholdNanos);
        }

        /** The defaults: batches of 64, an epoch pass at most every 10 µs, stalls reported after 100 ms. */
        public Qsbr() {
            this(64, 10_000L, 100_000_000L);
        }

        @Override
        public String name() {
            return "qsbr";
        }
    }

    /**
     * Epoch-based reclamation (Fraser 2004; crossbeam-epoch).
     *
     * @param batchSize objects a thread's bag holds before it is sealed with the epoch and queued, at most
     *     {@link #MAX_BATCH_SIZE}
     * @param collectInterval a thread tries to advance the epoch and reclaim every this many guards
     * @param stallThresholdNanos how long a guard may hold the epoch back before it is reported as stalled
     */
    record Ebr(int batchSize, int collectInterval, long stallThresholdNanos) implements Scheme {
        /**
         * Checks the tuning.
         *
         * @throws IllegalArgumentException if a value is not positive, or {@code batchSize} is above
         *     {@link #MAX_BATCH_SIZE}
         */
        public Ebr {
            checkBatchSize(batchSize);
            positive("collectInterval", collectInterval);
            if (stallThresholdNanos <= 0) throw new IllegalArgumentException("stallThresholdNanos must be positive, was " + stallThresholdNanos);
        }

        /** The defaults (crossbeam's): bags of 64, a collection every 128 guards, stalls reported after 100 ms. */
        public Ebr() {
            this(64, 128, 100_000_000L);
        }

        @Override
        public String name() {
            return "ebr";
        }
    }

    /**
     * Hazard pointers (Michael 2004).
     *
     * @param slots hazard slots per guard ({@code protect(ref, slot)} accepts {@code 0 <= slot < slots}; at
     *     least {@link Guard#MIN_SLOTS}, at most {@link #MAX_SLOTS})
     * @param scanFactor a thread scans its retired list when it holds more than
     *     {@code scanFactor * (number of hazards)} objects (the paper's R = H + Ω(H))
     */
    record HazardPointers(int slots, int scanFactor) implements Scheme {
        /** The most slots per guard. */
        public static final int MAX_SLOTS = 31;

        /** Checks the tuning. @throws IllegalArgumentException if a value is out of range */
        public HazardPointers {
            if (slots < Guard.MIN_SLOTS || slots > MAX_SLOTS) {
                throw new IllegalArgumentException("slots must be in [" + Guard.MIN_SLOTS + ", " + MAX_SLOTS + "], was " + slots);
            }
            positive("scanFactor", scanFactor);
        }

        /** The defaults: 8 slots per guard, a scan every 2H retires. */
        public HazardPointers() {
            this(8, 2);
        }

        @Override
        public boolean robust() {
            return true;
        }

        @Override
        public String name() {
            return "hp";
        }
    }

    /**
     * Hyaline (Nikolaev &amp; Ravindran, PLDI 2021; seize).
     *
     * @param batchSize objects a thread gathers before it retires them as one reference-counted batch, at most
     *     {@link #MAX_BATCH_SIZE}
     * @param robust whether to use the robust variant with birth eras (bounded garbage with a stalled reader)
     */
    record Hyaline(int batchSize, boolean robust) implements Scheme {
        /**
         * Checks the tuning.
         *
         * @throws IllegalArgumentException if {@code batchSize} is not in [1, {@link #MAX_BATCH_SIZE}]
         */
        public Hyaline {
            checkBatchSize(batchSize);
        }

        /** The defaults: batches of 64, robust. */
        public Hyaline() {
            this(64, true);
        }

        @Override
        public String name() {
            return "hyaline";
        }
    }

    /**
     * Crystalline (Nikolaev &amp; Ravindran, DISC 2021; kovan).
     *
     * @param batchSize objects a thread gathers before it retires them as one batch, at most {@link #MAX_BATCH_SIZE}
     * @param slots reservation slots per guard and nesting level, at most {@link #MAX_SLOTS}
     * @param waitFree {@code false}: Crystalline-L (short name {@code crystalline}), whose {@code protect}
     *     retries while the era moves; {@code true}: Crystalline-W (short name {@code crystalline-w}), whose
     *     {@code protect} falls back after a bounded number of tries to a slow path that the threads advancing
     *     the era help to completion, and whose retire inserts by swap
     */
    record Crystalline(int batchSize, int slots, boolean waitFree) implements Scheme {
        /** The most slots per guard and nesting level. */
        public static final int MAX_SLOTS = 20;

        /** Checks the tuning. @throws IllegalArgumentException if a value is out of range */
        public Crystalline {
            checkBatchSize(batchSize);
            if (slots < Guard.MIN_SLOTS || slots > MAX_SLOTS) {
                throw new IllegalArgumentException("slots must be in [" + Guard.MIN_SLOTS + ", " + MAX_SLOTS + "], was " + slots);
            }
        }

        /**
         * Crystalline-L with the given tuning.
         *
         * @param batchSize objects a thread gathers before it retires them as one batch
         * @param slots reservation slots per guard and nesting level
         * @throws IllegalArgumentException if a value is out of range
         */
        public Crystalline(int batchSize, int slots) {
            this(batchSize, slots, false);
        }

        /** The defaults: Crystalline-L, batches of 64, 8 slots. */
        public Crystalline() {
            this(64, 8);
        }

        @Override
        public boolean robust() {
            return true;
        }

        @Override
        public String name() {
            return waitFree ? "crystalline-w" : "crystalline";
        }
    }

    /**
     * The leak baseline: nothing is reclaimed before {@link Reclaimer#close()}, which runs every action.
     * For benchmarks only (it measures what reclamation itself costs); memory grows without bound.
     */
    record None() implements Scheme {
        @Override
        public String name() {
            return "none";
        }
    }
}
