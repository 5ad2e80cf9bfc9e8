/**
 * The JMH benchmarks of reclaim and its showcase runner.
 *
 * <h2>What it is for</h2>
 * Measuring what reclamation costs, always side by side in one run: every benchmark takes the scheme as a
 * JMH parameter ({@code -p scheme=ebr,none}), and the {@code none} leak baseline (or the unprotected read)
 * is the figure each scheme is compared with. {@link reclaim.jmh.ReadBenchmark} measures the read side: one
 * guarded read, and a protected 1,000-node traversal, against their unprotected twins;
 * {@link reclaim.jmh.OwnedGuardBenchmark} the owned guard's open, read and close against the thread guard's.
 * {@link reclaim.jmh.MapBenchmark} and {@link reclaim.jmh.ListSetBenchmark} run the IBR benchmark's workloads
 * on the recycling collections against their GC-allocating twins, sampling pending objects
 * ({@link reclaim.jmh.PendingSampler}); {@link reclaim.jmh.SwapBenchmark} sets every scheme against the JVM's
 * own answers (reference counting, a read-write lock, {@code Arena.ofShared()}, {@code Arena.ofAuto()}).
 * {@link reclaim.jmh.ActionExecutorBenchmark} samples a reader's {@code close()} under Hyaline and Crystalline with
 * reclaim actions inline and on the action thread.
 * {@link reclaim.jmh.Showcase} ({@code ./reclaim showcase}) runs short versions of all of them for every
 * scheme present, a stalled-reader run and the {@link reclaim.jmh.Demo} hot-swap safety check, and prints
 * one table and writes plots and the raw JMH JSON under {@code results/}; other modules add workloads to it
 * through {@link reclaim.jmh.ShowcaseWorkload}. The package {@code reclaim.jmh.offheap} holds the off-heap
 * benchmarks: native free against {@code Arena.ofShared()}/{@code ofAuto()}, the slot manager against a per-slot
 * read-write lock, the off-heap map against OHC, mapped-file swaps against shared arenas.
 *
 * <h2>What it exports</h2>
 * Nothing: the module is a benchmark suite. It is shaded, with {@code reclaim.api}, {@code reclaim.impl},
 * {@code reclaim.collections}, {@code reclaim.offheap}, JMH, OHC ({@code ohc.core}, the off-heap map's peer, with
 * its guava, jna and asm), XChart (plots) and progressbar, into {@code target/benchmarks.jar}, which runs on the class path (the provider is found through
 * {@code META-INF/services}). It uses only the public API.
 *
 * <h2>How to use it</h2>
 * <pre>{@code
 * ./reclaim showcase            # or: ./reclaim showcase --full
 * mvn -B -pl reclaim.jmh package
 * java -cp reclaim.jmh/target/benchmarks.jar reclaim.jmh.Showcase
 * java --sun-misc-unsafe-memory-access=allow -jar reclaim.jmh/target/benchmarks.jar ReadBenchmark \
 *      -prof gc -jvmArgsAppend --sun-misc-unsafe-memory-access=allow
 * }</pre>
 */
@SuppressWarnings("requires-automatic")
module reclaim.jmh {
    requires reclaim.api;
    requires reclaim.collections;
    requires reclaim.offheap;
    requires jmh.core;
    requires ohc.core;
    requires java.management;
    requires java.desktop;
    requires org.knowm.xchart;
    requires me.tongfei.progressbar;

    uses reclaim.jmh.ShowcaseWorkload;
}
