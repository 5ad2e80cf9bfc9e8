package reclaim.spi;

import java.util.Set;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The service an implementation of reclaim provides.
 *
 * <p>Declare it in the implementation module ({@code provides reclaim.spi.ReclaimerProvider with ...}, the
 * class in a non-exported package) and, so that the jar also works on the class path, in
 * {@code META-INF/services/reclaim.spi.ReclaimerProvider}. The provider needs a public no-argument
 * constructor (or a public static {@code provider()} method on the module path).
 *
 * <p>{@link Reclaimer#create(Scheme)} asks every provider found, in descending {@link #priority()}, and
 * uses the first that {@linkplain #supports supports} the scheme. A provider that fails to load is skipped
 * and reported. A third-party provider can run the conformance suite of module {@code reclaim.tck} against
 * its own scheme.
 */
public interface ReclaimerProvider {

    /**
     * Returns a name for diagnostics (for example the module and the implementation).
     *
     * @return the provider's name
     */
    String name();

    /**
     * Returns the short names ({@link Scheme#name()}) of the schemes this provider can create.
     *
     * @return the supported scheme names
     */
    Set<String> schemes();

    /**
     * Returns whether this provider can create a reclaimer for {@code scheme} with its tuning.
     *
     * @param scheme the scheme
     * @return true if {@link #create(Scheme)} will succeed for it
     */
    default boolean supports(Scheme scheme) {
        return schemes().contains(scheme.name());
    }

    /**
     * Creates a reclaimer for {@code scheme}.
     *
     * @param scheme a scheme this provider {@linkplain #supports supports}
     * @return a new reclaimer
     * @throws IllegalArgumentException if the scheme is not supported
     */
    Reclaimer create(Scheme scheme);

    /**
     * Creates a reclaimer for {@code scheme} with {@code options}. The default accepts only
     * {@link Options#DEFAULT} and {@link Options#fromSystemProperties()} (and then calls {@link #create(Scheme)}):
     * a provider that implements the settings overrides it.
     *
     * @param scheme a scheme this provider {@linkplain #supports supports}
     * @param options the settings
     * @return a new reclaimer
     * @throws IllegalArgumentException if the scheme is not supported, or a setting is not
     */
    default Reclaimer create(Scheme scheme, Options options) {
        if (!options.equals(Options.DEFAULT) && !options.equals(Options.fromSystemProperties())) {
            throw new IllegalArgumentException(name() + " does not implement the settings " + options);
        }
        return create(scheme);
    }

    /**
     * Returns this provider's priority: among providers that support a scheme, the highest wins; ties keep
     * {@link java.util.ServiceLoader} order. The built-in provider has priority 0.
     *
     * @return the priority
     */
    default int priority() {
        return 0;
    }
}
