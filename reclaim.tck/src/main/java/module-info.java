/**
 * The conformance suite (technology compatibility kit) of reclaim: the guarantees every scheme keeps, as
 * JUnit tests that any provider can run against its own scheme.
 *
 * <p>Exports {@code reclaim.tck}, whose {@link reclaim.tck.ReclaimerConformance} is an abstract JUnit test
 * class. A scheme joins by name: extend it in a test source set and return the scheme's name,
 * <pre>{@code
 * class MySchemeConformanceTest extends ReclaimerConformance {
 *     @Override protected String scheme() { return "ebr"; }
 * }
 * }</pre>
 * or override {@link reclaim.tck.ReclaimerConformance#newReclaimer()} to construct a reclaimer directly. It
 * checks safety (no reclaim action runs on an object a live guard protected), exactly-once reclamation,
 * progress, robustness where a scheme promises it, contained failures of actions, misuse errors, the
 * lifecycle of {@code close()} and of registrations, threads that end registered or inside a guard, pool
 * workers whose thread locals are reset, virtual threads that block inside guards, owned guards that move between
 * threads, and {@link reclaim.api.Atom}; each guarantee's tests are an interface of their own that
 * {@code ReclaimerConformance} implements.
 */
module reclaim.tck {
    requires transitive reclaim.api;
    requires transitive org.junit.jupiter.api;

    exports reclaim.tck;
    opens reclaim.tck to org.junit.platform.commons;
}
