package reclaim.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;

import reclaim.spi.ReclaimerProvider;

/**
 * The providers found by {@link ServiceLoader}, sorted by priority, and the ones that failed to load.
 * Loaded once per class loader, on first use.
 */
final class Providers {
    private static final System.Logger LOG = System.getLogger("reclaim");

    private final List<ReclaimerProvider> providers;
    private final List<String> broken;

    Providers(List<ReclaimerProvider> providers, List<String> broken) {
        List<ReclaimerProvider> sorted = new ArrayList<>(providers);
        sorted.sort(Comparator.comparingInt(ReclaimerProvider::priority).reversed()); // stable: ties keep order
        this.providers = List.copyOf(sorted);
        this.broken = List.copyOf(broken);
    }

    private static final class Installed {
        static final Providers INSTANCE = load(ServiceLoader.load(ReclaimerProvider.class, Providers.class.getClassLoader()));
    }

    static Providers installed() {
        return Installed.INSTANCE;
    }

    /** Loads every provider {@code loader} yields, skipping (and reporting) the ones that fail. */
    static Providers load(Iterable<ReclaimerProvider> loader) {
        List<ReclaimerProvider> found = new ArrayList<>();
        List<String> broken = new ArrayList<>();
        Iterator<ReclaimerProvider> it = loader.iterator();
        while (true) {
            try {
                if (!it.hasNext()) break;
                found.add(it.next());
            } catch (ServiceConfigurationError e) {
                broken.add(String.valueOf(e.getMessage()));
                LOG.log(System.Logger.Level.WARNING, "skipping a reclaim provider that failed to load", e);
            }
        }
        return new Providers(found, broken);
    }

    Reclaimer create(Scheme scheme) {
        return create(scheme, null);
    }

    /** Creates through the first provider that supports {@code scheme}; null options use the provider's defaults. */
    Reclaimer create(Scheme scheme, Options options) {
        Objects.requireNonNull(scheme, "scheme");
        for (ReclaimerProvider p : providers) {
            if (p.supports(scheme)) {
                Reclaimer r = options == null ? p.create(scheme) : p.create(scheme, options);
                if (r == null) throw new IllegalStateException("provider " + p.name() + " returned null for " + scheme);
                return r;
            }
        }
        StringBuilder msg = new StringBuilder("no reclaim provider supports scheme '")
                .append(scheme.name()).append("' (").append(scheme).append("); ");
        Set<String> available = schemes();
        if (available.isEmpty()) {
            msg.append("no provider is present: put reclaim.impl (or another implementation) on the module path or class path");
        } else {
            msg.append("available schemes: ").append(String.join(", ", available));
        }
        if (!broken.isEmpty()) msg.append("; providers that failed to load: ").append(String.join("; ", broken));
        throw new IllegalArgumentException(msg.toString());
    }

    Set<String> schemes() {
        Set<String> names = new LinkedHashSet<>();
        for (String known : Scheme.NAMES) {
            for (ReclaimerProvider p : providers) {
                if (p.schemes().contains(known)) {
                    names.add(known);
                    break;
                }
            }
        }
        return names;
    }

    List<String> broken() {
        return broken;
    }
}
