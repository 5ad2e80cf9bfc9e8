/**
 * jcstress tests of reclaim's core protocol: the races that safe memory reclamation exists to win, run
 * millions of times under the OpenJDK Java Concurrency Stress harness.
 *
 * <h2>What it is for</h2>
 * Each test is a tiny {@code @State} class with two {@code @Actor}s (and, where the check needs it, an
 * {@code @Arbiter}); every outcome that would mean a bug is marked {@code FORBIDDEN} with a description of
 * the bug. The tests use only the public API ({@code reclaim.api}); the scheme under test is the one
 * {@link reclaim.api.Reclaimer#create()} picks: {@value reclaim.api.Reclaimer#DEFAULT_SCHEME} unless the
 * system property {@value reclaim.api.Reclaimer#SCHEME_PROPERTY} names another.
 *
 * <h2>What it exports</h2>
 * Nothing: the module is a test suite. It is shaded, with {@code reclaim.api}, {@code reclaim.impl} and
 * jcstress itself, into {@code target/jcstress.jar}, which runs on the class path (the provider is found
 * through {@code META-INF/services}).
 *
 * <h2>How to use it</h2>
 * <pre>{@code
 * mvn -B -pl reclaim.jcstress package
 * .ci/jcstress reclaim.jcstress/target/jcstress.jar sanity          # every test, briefly (CI)
 * .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -t Atom   # one family, longer
 * .ci/jcstress reclaim.jcstress/target/jcstress.jar quick -jvmArgsPrepend -Dreclaim.scheme=none
 * }</pre>
 * The last line runs the suite against another scheme: the {@code none} baseline must pass every
 * safety test too (it frees nothing before close), so a failure there is a bug in the test.
 */
@SuppressWarnings("requires-automatic")
module reclaim.jcstress {
    requires reclaim.api;
    requires jcstress.core;
}
