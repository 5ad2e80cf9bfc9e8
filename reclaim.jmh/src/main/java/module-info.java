/**
 * The JMH benchmarks of reclaim and its showcase runner.
 *
 * <h2>What it is for</h2>
 * Measuring what reclamation costs, always side by side in one run: every benchmark takes the scheme as a
 * JMH parameter ({@code -p scheme=ebr,none}), and the {@code none} leak baseline (or the unprotected read)
 * is the figure each scheme is compared with. {@link reclaim.jmh.ReadBenchmark} measures the read side: one
 * guarded read, and a protected 1,000-node traversal, against their unprotected twins.
 * {@link reclaim.jmh.Demo} runs a small real workload (readers and a writer on an {@link reclaim.api.Atom})
 * under every scheme present and prints one row per scheme, with its safety checks.
 *
 * <h2>What it exports</h2>
 * Nothing: the module is a benchmark suite. It is shaded, with {@code reclaim.api}, {@code reclaim.impl} and
 * JMH, into {@code target/benchmarks.jar}, which runs on the class path (the provider is found through
 * {@code META-INF/services}). It uses only the public API.
 *
 * <h2>How to use it</h2>
 * <pre>{@code
 * mvn -B -pl reclaim.jmh package
 * java -cp reclaim.jmh/target/benchmarks.jar reclaim.jmh.Demo
 * java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar ReadBenchmark \
 *      -prof gc -jvmArgsAppend --sun-misc-unsafe-memory-access=allow
 * }</pre>
 */
@SuppressWarnings("requires-automatic")
module reclaim.jmh {
    requires reclaim.api;
    requires jmh.core;
}
