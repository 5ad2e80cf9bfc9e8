/**
 * The built-in reclamation schemes of reclaim, found by {@link java.util.ServiceLoader} as a
 * {@link reclaim.spi.ReclaimerProvider}.
 *
 * <p>This module exports nothing: clients {@code requires reclaim.api} only and obtain a scheme by name,
 * {@code Reclaimer.create("ebr")}, with this module on the module path (or its jar on the class path, where
 * {@code META-INF/services} lists the same provider).
 *
 * <p>Schemes, one package each:
 * <ul>
 *   <li>{@code reclaim.impl.ebr}: epoch-based reclamation (Fraser 2004; crossbeam-epoch), scheme
 *       {@code ebr}, and the leak baseline {@code none} (the same guards, nothing reclaimed before
 *       {@code close()}).</li>
 * </ul>
 * {@code reclaim.impl.core} holds what the schemes share (batches of retired objects, contained
 * execution of reclaim actions, guard checks). The naming of shared-memory accesses by their ordering is
 * defined once in {@code reclaim/impl/package-info.java}.
 */
module reclaim.impl {
    requires reclaim.api;

    provides reclaim.spi.ReclaimerProvider with reclaim.impl.BuiltinProvider;
}
