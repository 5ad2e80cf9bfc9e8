package reclaim.collections.lincheck;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The two checks of a structure, each under every scheme ({@link Lincheck#schemes()}): linearizable under
 * model checking and under stress. A subclass names the tested class (a {@link Lincheck.Reclaimed}) and its
 * sequential specification (a {@link Lincheck.Sequential}); it may add checks of its own.
 */
@Tag("lincheck")
abstract class EverySchemeLincheck {
    private final Class<? extends Lincheck.Reclaimed> tested;
    private final Class<? extends Lincheck.Sequential> spec;

    /** The checks of {@code tested} against {@code spec}. */
    EverySchemeLincheck(Class<? extends Lincheck.Reclaimed> tested, Class<? extends Lincheck.Sequential> spec) {
        this.tested = tested;
        this.spec = spec;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.lincheck.Lincheck#schemes")
    void linearizableUnderModelChecking(String scheme) {
        Lincheck.check(tested, spec, scheme, Lincheck.Mode.MODEL_CHECKING);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.lincheck.Lincheck#schemes")
    void linearizableUnderStress(String scheme) {
        Lincheck.check(tested, spec, scheme, Lincheck.Mode.STRESS);
    }
}
