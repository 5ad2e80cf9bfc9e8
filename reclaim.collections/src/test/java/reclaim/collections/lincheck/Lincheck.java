package reclaim.collections.lincheck;

import java.lang.reflect.Method;
import java.util.List;
import java.util.stream.Stream;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.Validate;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * What the Lincheck tests share: the schemes they run under, tuned to reclaim at every chance; the scheme of
 * the instances Lincheck is creating; and the size of each check.
 *
 * <h2>How a check runs</h2>
 * Lincheck (JetBrains, <a href="https://github.com/JetBrains/lincheck">lincheck</a>) generates small
 * concurrent scenarios of a class's {@code @Operation} methods (an initial part, a parallel part on two or
 * three threads, a final part), runs each many times and checks that every outcome is linearizable: that
 * some sequential order of the operations, consistent with their real-time order, gives the same results
 * on the sequential specification. In <em>model checking</em> it runs the scenario under its own scheduler,
 * which switches threads at shared-memory accesses of the instrumented code (ours, {@code reclaim.impl}'s and
 * the JDK's) and explores different interleavings in each invocation; in <em>stress</em> mode it runs the
 * threads freely, many times.
 *
 * <p>Lincheck creates a fresh instance of the tested class for each invocation, through its no-argument
 * constructor; the instance builds its structure over a fresh reclaimer of the scheme {@link #check} has set
 * (every tested class extends {@link Reclaimed}, which holds that reclaimer). The reclaimer is tuned by
 * {@link #eager(Scheme)} so that retired nodes are reclaimed and recycled within the few operations of a
 * scenario, and every tested class offers {@code flush()} as an operation (a no-op in the specification,
 * {@link Sequential}): a reclamation pass at any point of the parallel part, under every scheme. After each
 * invocation the {@code @Validate} method closes the reclaimer and checks that everything retired was
 * reclaimed once and no reclaim action failed. {@link EverySchemeLincheck} runs both modes under every scheme.
 *
 * <h2>Views</h2>
 * The map, the set and the queue also offer {@code pinned...} operations, which run through a guard-scoped
 * view ({@code pin()}): each opens a view, runs a read whose result it drops, then the checked operation in
 * the same view, and closes it. So the checked operation runs in a guard that an earlier operation used,
 * in the hazard slots that operation left protected, interleaved with the other threads' operations. The
 * read is not part of the checked result: two operations of a view are not one atomic step, and Lincheck
 * judges each {@code @Operation} as one.
 *
 * <h2>Size</h2>
 * The checks are sized for CI (two cores): every structure under every scheme, both modes, in about four
 * minutes of CPU time, which the build's two test JVMs spread over both cores. Model checking is the costly
 * part (Lincheck intercepts every shared access of the reclaimer's engine too): 200 interleavings per
 * structure and scheme. {@code -Dreclaim.lincheck.scale=N} multiplies the number of scenarios by N for a
 * longer run.
 */
final class Lincheck {
    /** The node pool of every tested structure: small, so that nodes are reused soon. */
    static final int POOL = 4;

    private static final int SCALE = Integer.getInteger("reclaim.lincheck.scale", 1);

    /** The scheme of the instances Lincheck is creating now; set by {@link #check} before each check. */
    private static volatile String current;

    private Lincheck() {
    }

    /**
     * Every scheme the providers offer ({@link Reclaimer#availableSchemes()}), and {@code crystalline-w},
     * which that list leaves out.
     */
    static Stream<String> schemes() {
        Stream<String> listed = Reclaimer.availableSchemes().stream();
        return Reclaimer.availableSchemes().contains("crystalline")
                ? Stream.concat(listed, Stream.of("crystalline-w")) : listed;
    }

    /**
     * A scheme tuned to reclaim at every chance: batches of one, a collection at every guard, a scan at every
     * retire beyond the hazards in use (of the fewest slots the structures need, {@link Guard#MIN_SLOTS}). The
     * defaults would reclaim nothing within a scenario of a few operations, and a node that is never
     * reclaimed is never reused.
     */
    static Scheme eager(Scheme s) {
        return switch (s) {
            case Scheme.Qsbr q -> new Scheme.Qsbr(1, 0, q.stallThresholdNanos());
            case Scheme.Ebr e -> new Scheme.Ebr(1, 1, e.stallThresholdNanos());
            case Scheme.HazardPointers h -> new Scheme.HazardPointers(Guard.MIN_SLOTS, 1); // fewest hazards to scan past
            case Scheme.Hyaline h -> new Scheme.Hyaline(1, h.robust());
            case Scheme.Crystalline c -> new Scheme.Crystalline(1, c.slots(), c.waitFree());
            case Scheme.None n -> n;
        };
    }

    /** A new reclaimer of the current scheme, tuned by {@link #eager(Scheme)}: for the constructors of tested classes. */
    static Reclaimer reclaimer() {
        String scheme = current;
        if (scheme == null) throw new IllegalStateException("no scheme set: create tested classes through Lincheck.check");
        return Reclaimer.create(eager(Scheme.named(scheme)));
    }

    /**
     * The end of every invocation: closes the reclaimer and checks that each retired node was reclaimed, none
     * is pending and no reclaim action threw.
     */
    static void closeAndCheck(Reclaimer r) {
        r.close();
        Stats s = r.stats();
        if (s.retired() != s.reclaimed() || s.pending() != 0 || s.failed() != 0) {
            throw new AssertionError("after close: retired != reclaimed, or pending or failed actions: " + s);
        }
    }

    /**
     * Model-checks one given scenario of {@code tested} against {@code spec} under {@code scheme}: the
     * interleavings of {@code parallel} (one list of operations per thread) after {@code initial}, up to
     * {@code runs} of them. For a race a random scenario is unlikely to hit.
     */
    static void checkScenario(Class<?> tested, Class<?> spec, String scheme, List<Actor> initial,
            List<List<Actor>> parallel, int runs) {
        current = scheme;
        try {
            modelChecking()
                    .iterations(0).invocationsPerIteration(runs)
                    .addCustomScenario(new ExecutionScenario(initial, parallel, List.of(), null))
                    .sequentialSpecification(spec)
                    .check(tested);
        } finally {
            current = null;
        }
    }

    /**
     * Model-checking options for every check. The reclaimer's JFR hooks (a static set of reclaimers waiting for the
     * flight recorder) are not part of any structure under test: the model checker neither explores nor snapshots
     * them (restoring that static state failed inside Lincheck with a NullPointerException). The reclaimer's pool of
     * empty batches is taken as atomic: each of its operations is decided by one CAS on one cell (its own races are
     * checked by {@code BatchPoolTest}), and a take from an empty pool probes every one of its 256 cells, a bounded
     * loop that the model checker would otherwise report as a livelock.
     */
    private static ModelCheckingOptions modelChecking() {
        return new ModelCheckingOptions()
                .addGuarantee(ManagedStrategyGuaranteeKt.forClasses("reclaim.impl.core.Jfr",
                        "reclaim.impl.core.Jfr$Hooks", "reclaim.impl.core.Jfr$Hook").allMethods().ignore())
                .addGuarantee(ManagedStrategyGuaranteeKt.forClasses("reclaim.impl.core.BatchPool")
                        .methods("take", "give").treatAsAtomic());
    }

    /** The operation {@code name} of {@code tested} with {@code args}, for {@link #checkScenario}. */
    static Actor actor(Class<?> tested, String name, Object... args) {
        for (Method m : tested.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                return new Actor(m, List.of(args), false, false, false, false, false);
            }
        }
        throw new IllegalArgumentException(tested.getName() + " has no public " + name + " of " + args.length + " parameters");
    }

    /**
     * What every tested class has besides its structure: a fresh reclaimer of the current scheme, its flush as an
     * operation, and the check at the end of each invocation. Lincheck reads the {@code @Operation} and
     * {@code @Validate} methods of a tested class's superclasses too.
     */
    public abstract static class Reclaimed {
        /** The reclaimer under the structure: a new one of the current scheme, tuned by {@link #eager(Scheme)}. */
        protected final Reclaimer reclaimer = reclaimer();

        /** Creates the reclaimer; the subclass builds its structure over it. */
        protected Reclaimed() {
        }

        /** A reclamation pass at any point of a scenario. */
        @Operation
        public void flush() {
            reclaimer.flush();
        }

        /** The end of every invocation: see {@link #closeAndCheck(Reclaimer)}. */
        @Validate
        public void closeReclaimsEverything() {
            closeAndCheck(reclaimer);
        }
    }

    /** What every sequential specification has: {@code flush()}, which changes nothing a caller can see. */
    public abstract static class Sequential {
        /** Creates the specification. */
        protected Sequential() {
        }

        /** The specification of {@link Reclaimed#flush()}: nothing. */
        public void flush() {
        }
    }

    /** The two modes, each with its size. */
    enum Mode {
        /** Lincheck's scheduler explores interleavings, switching at shared-memory accesses. */
        MODEL_CHECKING,
        /** Real threads, many runs. */
        STRESS
    }

    /**
     * Checks {@code tested} (a public class with a public no-argument constructor and {@code @Operation}
     * methods) for linearizability against {@code spec}, under {@code scheme}.
     *
     * @throws AssertionError (Lincheck's) if an outcome is not linearizable or the validation failed
     */
    static void check(Class<?> tested, Class<?> spec, String scheme, Mode mode) {
        switch (mode) {
            case MODEL_CHECKING -> check(tested, spec, scheme, mode, 10, 20);
            case STRESS -> check(tested, spec, scheme, mode, 10, 200);
        }
    }

    /**
     * As {@link #check(Class, Class, String, Mode)}, with the number of scenarios and of runs of each.
     *
     * @param scenarios the scenarios to generate (multiplied by {@code reclaim.lincheck.scale})
     * @param runs how often each scenario runs (model checking: how many interleavings it explores)
     */
    static void check(Class<?> tested, Class<?> spec, String scheme, Mode mode, int scenarios, int runs) {
        current = scheme;
        try {
            switch (mode) {
                case MODEL_CHECKING -> modelChecking()
                        .iterations(scenarios * SCALE).invocationsPerIteration(runs)
                        .threads(2).actorsPerThread(2).actorsBefore(1).actorsAfter(1)
                        .sequentialSpecification(spec)
                        .check(tested);
                case STRESS -> new StressOptions()
                        .iterations(scenarios * SCALE).invocationsPerIteration(runs)
                        .threads(3).actorsPerThread(3).actorsBefore(2).actorsAfter(1)
                        .sequentialSpecification(spec)
                        .check(tested);
            }
        } finally {
            current = null;
        }
    }
}
