package reclaim.jmh;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.collections.RecyclingHashMap;

/**
 * The showcase, {@code ./reclaim showcase}: every scheme present against the GC baseline and the JVM's own
 * answers, in one run, with one table and plots.
 *
 * <p>It runs short JMH versions of {@link MapBenchmark} (threads 1, 2 and 8: oversubscribed on 2 cores),
 * {@link ListSetBenchmark}, {@link ReadBenchmark}, {@link SwapBenchmark} and {@link LatencyBenchmark} (the map
 * under a churning heap on G1: one operation's 99.9th percentile, every operation timed, and the cost per operation
 * through a 16-operation view; the GC twin and the five papers' schemes, every scheme in the full mode), each with
 * JMH's gc profiler (allocation per operation), then a stalled-reader run per scheme (one thread parks inside a
 * guard while a writer churns a {@link RecyclingHashMap}; pending objects sampled over time) and the {@link Demo}
 * hot-swap safety check per scheme. Every scheme in {@link Reclaimer#availableSchemes()} takes part by
 * name; workloads of other modules join through {@link ShowcaseWorkload}. It prints the table, and writes
 * under {@code results/} (or {@code results/full/}): {@code jmh.json} (JMH's raw results), {@code summary.md}
 * (the table), {@code map-read-mostly.png}, {@code map-write-heavy.png}, {@code list.png},
 * {@code swap.png}, {@code latency.png} and {@code stalled-pending.png}.
 *
 * <p>{@code --full} runs the long version: threads 1, 2, 4, 8, 16, longer iterations, and a stall run of
 * up to 10^7 retires per scheme (a scheme that cannot bound garbage stops at {@value #STALL_CAP} pending).
 */
public final class Showcase {

    private static final String[] JVM_ARGS = {"--sun-misc-unsafe-memory-access=allow",
            "--enable-native-access=ALL-UNNAMED", "-Xmx2g"};
    /** A stall run stops once this many objects are pending (schemes that cannot bound garbage). */
    static final long STALL_CAP = 4_000_000;

    private final boolean full;
    private final Path out;
    private final List<String> schemes;
    private final List<String> impls;
    private final int[] mapThreads;
    private final int[] listThreads;
    /** The impls of the latency run: all in the full mode; the GC twin and the five papers' schemes in the quick one. */
    private final List<String> latencyImpls;
    private final List<RunResult> results = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final Map<String, Stall> stalls = new LinkedHashMap<>();
    private final Map<String, Demo.Row> safety = new LinkedHashMap<>();
    private ProgressBar bar;

    private Showcase(boolean full, Path out) {
        this.full = full;
        this.out = out;
        this.schemes = List.copyOf(Reclaimer.availableSchemes());
        List<String> all = new ArrayList<>();
        all.add("gc");
        all.addAll(schemes);
        this.impls = List.copyOf(all);
        this.mapThreads = full ? new int[] {1, 2, 4, 8, 16} : new int[] {1, 8};
        this.listThreads = full ? new int[] {1, 2, 4, 8, 16} : new int[] {2};
        this.latencyImpls = full ? impls : impls.stream()
                .filter(i -> List.of("gc", "qsbr", "ebr", "hp", "hyaline", "crystalline").contains(i)).toList();
    }

    /**
     * Runs the showcase.
     *
     * @param args {@code --full} for the long version; {@code --out DIR} for another results folder
     * @throws Exception if a benchmark cannot run or a file cannot be written
     */
    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        // JMH refuses to start while another JMH holds /tmp/jmh.lock; on a shared machine that is someone
        // else's run, which makes the figures noisier but not wrong (every ratio is measured side by side).
        System.setProperty("jmh.ignoreLock", "true");
        boolean full = false;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--full" -> full = true;
                case "--out" -> out = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: showcase [--full] [--out DIR]");
                    System.exit(2);
                }
            }
        }
        if (out == null) out = Path.of(full ? "results/full" : "results");
        Files.createDirectories(out);
        if (Reclaimer.availableSchemes().isEmpty()) {
            System.err.println("no reclamation scheme is available: put reclaim.impl on the class path");
            System.exit(1);
        }
        int status = new Showcase(full, out).run();
        System.exit(status);
    }

    private record Plan(String include, Map<String, List<String>> params, int threads, int units, Timing timing) {
        Plan(String include, Map<String, List<String>> params, int threads, int units) {
            this(include, params, threads, units, null);
        }
    }

    /**
     * A plan's own iteration counts and times, where the showcase's defaults do not fit it, the JVM arguments
     * it adds to the forks', and whether it runs under JMH's gc profiler.
     */
    private record Timing(int warmups, TimeValue warmup, int measurements, TimeValue measurement, List<String> jvmArgs,
            boolean profileGc) {
    }

    private int run() throws Exception {
        long t0 = System.nanoTime();
        List<Plan> plans = new ArrayList<>();
        List<String> mixes = List.of("read-mostly", "write-heavy");
        for (int t : mapThreads) plans.add(new Plan("MapBenchmark", Map.of("impl", impls, "mix", mixes), t, impls.size() * 2));
        for (int t : listThreads) plans.add(new Plan("ListSetBenchmark", Map.of("impl", impls, "mix", mixes), t, impls.size() * 2));
        // the barrier strategy a user gets by default (asymmetric where native access is granted on Linux, as here)
        plans.add(new Plan("ReadBenchmark\\.(guardedRead|protectedTraversal)$", Map.of("scheme", schemes, "barrier", List.of("auto")), 1, schemes.size() * 2));
        plans.add(new Plan("ReadBenchmark\\.unprotected(Read|Traversal)$", Map.of("scheme", List.of(schemes.get(0)), "barrier", List.of("auto")), 1, 2));
        List<String> answers = new ArrayList<>(impls);
        answers.addAll(List.of("refcount", "rwlock", "arena-shared", "arena-auto"));
        plans.add(new Plan("SwapBenchmark", Map.of("answer", answers), 2, answers.size()));
        // latency under a churning heap (G1), without the gc profiler (its tables do not use it); short in the
        // quick mode (about 30 s on 2 cores: 12 forks of about 2.5 s, most of it the fork's start and setup)
        plans.add(new Plan("LatencyBenchmark\\.G1\\.(everyOperation|view)$", Map.of("impl", latencyImpls, "structure", List.of("map")), 1,
                latencyImpls.size() * 2, full
                        ? new Timing(2, TimeValue.seconds(1), 3, TimeValue.seconds(2), List.of(), false)
                        // a third of the churn's ring (about 110 MiB live) for a shorter setup per fork
                        : new Timing(1, TimeValue.milliseconds(200), 1, TimeValue.milliseconds(400),
                                List.of("-D" + LatencyBenchmark.Churn.ENTRIES_PROPERTY + "=100000"), false)));
        List<ShowcaseWorkload> extra = new ArrayList<>();
        for (ShowcaseWorkload w : ServiceLoader.load(ShowcaseWorkload.class)) {
            if (!w.available()) continue;
            extra.add(w);
            for (ShowcaseWorkload.Run r : w.runs(impls, full)) {
                int units = r.params().values().stream().mapToInt(List::size).reduce(1, (a, b) -> a * b);
                plans.add(new Plan(r.include(), r.params(), r.threads(), units));
            }
        }
        long total = plans.stream().mapToLong(Plan::units).sum() + 2L * schemes.size();

        PrintStream console = System.out;
        console.printf(Locale.ROOT, "reclaim showcase%s: schemes %s against the GC baseline and the JVM's answers; %d CPUs, JDK %s%n",
                full ? " (full)" : "", String.join(", ", schemes), Runtime.getRuntime().availableProcessors(),
                Runtime.version());
        // On a terminal the bar redraws in place; in a log (CI) it prints a line every 10 s instead.
        boolean terminal = System.console() != null;
        try (ProgressBar pb = new ProgressBarBuilder().setTaskName("benchmarks").setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setMaxRenderedLength(110)
                .setUpdateIntervalMillis(terminal ? 500 : 10_000)
                .setConsumer(terminal ? new ConsoleProgressBarConsumer(console, 110)
                        : new DelegatingProgressBarConsumer(console::println, 110))
                .build()) {
            bar = pb;
            for (Plan p : plans) runJmh(p);
            for (String s : schemes) {
                pb.setExtraMessage("stalled reader: " + s);
                stalls.put(s, stall(s, full));
                pb.step();
            }
            for (String s : schemes) {
                pb.setExtraMessage("hot-swap safety: " + s);
                safety.put(s, Demo.run(s, full ? 2_000_000_000L : 400_000_000L));
                pb.step();
            }
            pb.setExtraMessage("done");
        }
        ResultFormatFactory.getInstance(ResultFormatType.JSON, out.resolve("jmh.json").toString()).writeOut(results);
        String table = table(extra);
        console.println();
        console.print(table);
        Files.writeString(out.resolve("summary.md"), "# reclaim showcase" + (full ? " (full)" : "") + "\n\n"
                + "Run " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, JDK " + Runtime.version() + "\n\n```\n" + table + "```\n");
        plots();
        console.printf(Locale.ROOT, "%nwrote %s/{summary.md, jmh.json, map-read-mostly.png, map-write-heavy.png, list.png, swap.png, latency.png, stalled-pending.png} in %d s%n",
                out, Duration.ofNanos(System.nanoTime() - t0).toSeconds());
        boolean unsafe = safety.values().stream().anyMatch(r -> !r.ok());
        if (!problems.isEmpty()) {
            console.println("PROBLEMS:");
            problems.forEach(p -> console.println("  " + p));
        }
        if (unsafe) console.println("SAFETY CHECK FAILED (see the table)");
        return unsafe || !problems.isEmpty() ? 1 : 0;
    }

    // ---------------------------------------------------------------------------------------------------
    // JMH

    private void runJmh(Plan p) throws RunnerException {
        Timing timing = p.timing != null ? p.timing
                : full ? new Timing(3, TimeValue.seconds(1), 5, TimeValue.seconds(1), List.of(), true)
                : new Timing(1, TimeValue.milliseconds(400), 2, TimeValue.milliseconds(300), List.of(), true);
        List<String> jvmArgs = new ArrayList<>(List.of(JVM_ARGS));
        jvmArgs.addAll(timing.jvmArgs);
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include("reclaim\\.jmh\\." + p.include())
                .threads(p.threads)
                .forks(1)
                .warmupIterations(timing.warmups)
                .warmupTime(timing.warmup)
                .measurementIterations(timing.measurements)
                .measurementTime(timing.measurement)
                .jvmArgsAppend(jvmArgs.toArray(String[]::new))
                .shouldFailOnError(true);
        if (timing.profileGc) b.addProfiler(GCProfiler.class);
        for (Map.Entry<String, List<String>> e : p.params.entrySet()) b.param(e.getKey(), e.getValue().toArray(String[]::new));
        bar.setExtraMessage(p.include.replaceAll("\\\\.*|\\$|\\(.*", "") + " t=" + p.threads);
        Collection<RunResult> r = new Runner(b.build(), new Progress()).run();
        results.addAll(r);
    }

    /** JMH's output, reduced to the progress bar (and failures, kept for the end). */
    private final class Progress implements OutputFormat {
        private final StringBuilder line = new StringBuilder();

        @Override public void iteration(BenchmarkParams bp, IterationParams ip, int i) { }
        @Override public void iterationResult(BenchmarkParams bp, IterationParams ip, int i, IterationResult r) { }
        @Override public void startBenchmark(BenchmarkParams bp) { }
        @Override public void endBenchmark(BenchmarkResult r) { bar.step(); }
        @Override public void startRun() { }
        @Override public void endRun(Collection<RunResult> r) { }
        @Override public void print(String s) { collect(s); }
        @Override public void println(String s) { collect(s + "\n"); }
        @Override public void verbosePrintln(String s) { }
        @Override public void flush() { }
        @Override public void close() { }
        @Override public void write(int b) { collect(String.valueOf((char) b)); }
        @Override public void write(byte[] b) { collect(new String(b, java.nio.charset.StandardCharsets.UTF_8)); }

        private void collect(String s) {
            line.append(s);
            int nl;
            while ((nl = line.indexOf("\n")) >= 0) {
                String l = line.substring(0, nl);
                line.delete(0, nl + 1);
                if (l.contains("Exception") || l.contains("ERROR") || l.contains("<failure>")) problems.add(l.strip());
            }
        }
    }

    private List<RunResult> find(String method, String key, String value, int threads) {
        List<RunResult> list = new ArrayList<>();
        for (RunResult r : results) {
            BenchmarkParams p = r.getParams();
            if (!p.getBenchmark().endsWith(method)) continue;
            if (threads > 0 && p.getThreads() != threads) continue;
            if (key != null && !value.equals(p.getParam(key))) continue;
            list.add(r);
        }
        return list;
    }

    private double score(String method, int threads, String... kv) {
        for (RunResult r : find(method, null, null, threads)) {
            boolean match = true;
            for (int i = 0; i < kv.length; i += 2) match &= kv[i + 1].equals(r.getParams().getParam(kv[i]));
            if (match) return r.getPrimaryResult().getScore();
        }
        return Double.NaN;
    }

    private RunResult result(String method, int threads, String... kv) {
        for (RunResult r : find(method, null, null, threads)) {
            boolean match = true;
            for (int i = 0; i < kv.length; i += 2) match &= kv[i + 1].equals(r.getParams().getParam(kv[i]));
            if (match) return r;
        }
        return null;
    }

    private static double secondary(RunResult r, String name) {
        if (r == null) return Double.NaN;
        Result<?> s = r.getSecondaryResults().get(name);
        return s == null ? Double.NaN : s.getScore();
    }

    /**
     * A percentile of one operation from {@link LatencyBenchmark#everyOperation}'s counters ({@code p50Nanos} ...
     * {@code p999Nanos}): the median over the measured iterations (JMH adds such counters up over the iterations, so
     * its summary is not one). NaN if the run is missing.
     */
    private static double everyOperationPercentile(RunResult r, String counter) {
        if (r == null) return Double.NaN;
        List<Double> v = new ArrayList<>();
        for (BenchmarkResult br : r.getBenchmarkResults()) {
            for (IterationResult ir : br.getIterationResults()) {
                Result<?> s = ir.getSecondaryResults().get(counter);
                if (s != null) v.add(s.getScore());
            }
        }
        if (v.isEmpty()) return Double.NaN;
        Collections.sort(v);
        return v.get(v.size() / 2);
    }

    /** A percentile of a SampleTime run's samples (NaN if the run is missing). */
    private static double percentile(RunResult r, double p) {
        return r == null ? Double.NaN : r.getPrimaryResult().getStatistics().getPercentile(p);
    }

    /** Mean and peak pending objects over a run's measurement iterations, from PendingSampler's counters. */
    private static double[] pending(RunResult r) {
        if (r == null) return new double[] {Double.NaN, Double.NaN};
        double sum = 0, samples = 0, peak = 0;
        for (BenchmarkResult br : r.getBenchmarkResults()) {
            for (IterationResult ir : br.getIterationResults()) {
                Result<?> s = ir.getSecondaryResults().get("pendingSum");
                Result<?> n = ir.getSecondaryResults().get("pendingSamples");
                Result<?> p = ir.getSecondaryResults().get("pendingPeak");
                if (s == null || n == null || p == null) continue;
                sum += s.getScore();
                samples += n.getScore();
                peak = Math.max(peak, p.getScore());
            }
        }
        return new double[] {samples == 0 ? 0 : sum / samples, peak};
    }

    // ---------------------------------------------------------------------------------------------------
    // The stalled reader

    /** Pending objects over time with one thread parked inside a guard. */
    record Stall(List<Double> millis, List<Double> pending, long retired, long peak, long last, long bound, boolean capped) {
    }

    static Stall stall(String scheme, boolean full) throws InterruptedException {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r, 1024, 4096);
        Integer[] keys = Mix.keys(1024);
        for (int k = 0; k < 1024; k += 2) map.put(keys[k], k);
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch parked = new CountDownLatch(1);
        AtomicReference<Integer> cell = new AtomicReference<>(1);
        Thread stalled = Thread.ofPlatform().name("stalled-reader").start(() -> {
            try (Guard g = r.enter()) {
                g.protect(cell); // a reader that loaded something, then got preempted for good
                parked.countDown();
                while (!stop.get()) LockSupport.park();
            }
        });
        parked.await();
        long maxRetires = full ? 10_000_000L : 1_500_000L;
        long deadlineNanos = System.nanoTime() + (full ? 60_000_000_000L : 1_200_000_000L);
        Thread writer = Thread.ofPlatform().name("writer").start(() -> {
            Mix.Rng rnd = new Mix.Rng(7);
            while (!stop.get()) {
                for (int i = 0; i < 256; i++) {
                    Integer k = keys[rnd.next(1024)];
                    if (map.remove(k) == null) map.put(k, 0);
                }
            }
        });
        List<Double> ms = new ArrayList<>();
        List<Double> pend = new ArrayList<>();
        long t0 = System.nanoTime(), peak = 0, last = 0, retired = 0;
        boolean capped = false;
        while (true) {
            var st = r.stats();
            last = st.pending();
            retired = st.retired();
            peak = Math.max(peak, last);
            ms.add((System.nanoTime() - t0) / 1e6);
            pend.add((double) Math.max(1, last));
            if (last >= STALL_CAP) {
                capped = true;
                break;
            }
            if (retired >= maxRetires || System.nanoTime() - deadlineNanos >= 0) break;
            Thread.sleep(10); // sampling period, not synchronization
        }
        long bound = r.pendingBound();
        stop.set(true);
        writer.join();
        LockSupport.unpark(stalled);
        stalled.join();
        r.close();
        return new Stall(ms, pend, retired, peak, last, bound, capped);
    }

    // ---------------------------------------------------------------------------------------------------
    // The table

    private static String ratio(double x, double base) {
        if (Double.isNaN(x) || Double.isNaN(base) || base == 0) return "-";
        return String.format(Locale.ROOT, "%.2f", x / base);
    }

    private static String num(double x) {
        if (Double.isNaN(x)) return "-";
        if (x > 0 && x < 1) return String.format(Locale.ROOT, "%.3f", x);
        if (x >= 10_000) return String.format(Locale.ROOT, "%,.0f", x);
        if (x >= 100) return String.format(Locale.ROOT, "%.0f", x);
        return String.format(Locale.ROOT, "%.1f", x);
    }

    private String table(List<ShowcaseWorkload> extra) {
        StringBuilder sb = new StringBuilder();
        int hi = mapThreads[mapThreads.length - 1];
        int mid = full ? 2 : mapThreads[mapThreads.length - 1];
        int lt = listThreads[listThreads.length > 1 ? 1 : 0];
        sb.append(String.format(Locale.ROOT, "Throughput as a ratio to the GC-allocating twin (same algorithm, nodes dropped to the GC), same mix and threads.%n"));
        sb.append(String.format(Locale.ROOT, "map: hash map, keys 100,000, prefilled 50%%; list: Harris-Michael set, 512 keys; RM = 90%% reads, WH = 50%% insert / 50%% delete.%n"));
        sb.append(String.format(Locale.ROOT, "pending = retired, not yet reclaimed, during map WH at t=%d (mean/peak); B/op = allocation per map WH op at t=%d.%n", hi, mid));
        sb.append(String.format(Locale.ROOT, "view = ns per op through a 16-op guard-scoped view (map, 50%% get / 25%% put / 25%% remove, t=1, G1, heap churned by a background thread: LatencyBenchmark.view median / 16); p99.9 = ns of one op of that mix, 99.9th percentile, every op timed (LatencyBenchmark.everyOperation).%n"));
        sb.append(String.format(Locale.ROOT, "read: one guarded read / protected 1,000-node traversal vs the unprotected read. stall: peak pending with a reader parked in a guard. safety: Atom hot-swap uses after close.%n%n"));
        List<String> header = new ArrayList<>(List.of("impl"));
        for (int t : mapThreads) header.add("map RM t" + t);
        for (int t : mapThreads) header.add("map WH t" + t);
        header.addAll(List.of("list RM t" + lt, "list WH t" + lt, "Mops/s map RM t" + hi, "pending mean/peak", "B/op", "view", "p99.9", "read", "traverse", "stall peak", "safety"));
        Table t = new Table(header.toArray(String[]::new));
        double readBase = score("unprotectedRead", 1);
        double travBase = score("unprotectedTraversal", 1);
        for (String impl : impls) {
            List<String> row = new ArrayList<>(List.of(impl));
            for (int th : mapThreads) row.add(ratio(score("MapBenchmark.operation", th, "impl", impl, "mix", "read-mostly"), score("MapBenchmark.operation", th, "impl", "gc", "mix", "read-mostly")));
            for (int th : mapThreads) row.add(ratio(score("MapBenchmark.operation", th, "impl", impl, "mix", "write-heavy"), score("MapBenchmark.operation", th, "impl", "gc", "mix", "write-heavy")));
            row.add(ratio(score("ListSetBenchmark.operation", lt, "impl", impl, "mix", "read-mostly"), score("ListSetBenchmark.operation", lt, "impl", "gc", "mix", "read-mostly")));
            row.add(ratio(score("ListSetBenchmark.operation", lt, "impl", impl, "mix", "write-heavy"), score("ListSetBenchmark.operation", lt, "impl", "gc", "mix", "write-heavy")));
            row.add(num(score("MapBenchmark.operation", hi, "impl", impl, "mix", "read-mostly")));
            double[] pend = pending(result("MapBenchmark.operation", hi, "impl", impl, "mix", "write-heavy"));
            row.add(impl.equals("gc") ? "-" : num(pend[0]) + " / " + num(pend[1]));
            row.add(num(secondary(result("MapBenchmark.operation", mid, "impl", impl, "mix", "write-heavy"), "gc.alloc.rate.norm")));
            // the median view, not the mean: in a short run a few descheduled views (ms) would dominate the mean
            row.add(num(percentile(result("LatencyBenchmark.G1.view", 1, "impl", impl, "structure", "map"), 50) / LatencyBenchmark.BATCH));
            row.add(num(everyOperationPercentile(result("LatencyBenchmark.G1.everyOperation", 1, "impl", impl, "structure", "map"), "p999Nanos")));
            if (impl.equals("gc")) {
                row.addAll(List.of("1.00", "1.00", "-", "-"));
            } else {
                row.add(ratio(1 / score("guardedRead", 1, "scheme", impl), 1 / readBase));
                row.add(ratio(1 / score("protectedTraversal", 1, "scheme", impl), 1 / travBase));
                Stall s = stalls.get(impl);
                row.add(s == null ? "-" : (s.capped ? ">" : "") + num(s.peak) + (s.bound != Long.MAX_VALUE ? " (bound " + num(s.bound) + ")" : ""));
                Demo.Row d = safety.get(impl);
                row.add(d == null ? "-" : d.ok() ? d.useAfterClose + " ok" : d.verdict());
            }
            t.add(row.toArray(String[]::new));
        }
        sb.append(t.render());
        sb.append(String.format(Locale.ROOT, "%nThe JVM's own answers: a 64-byte native block swapped by 1 writer under 1 reader (Mops/s; ratio = reads vs the gc baseline; B/op per read or swap).%n%n"));
        Table a = new Table("answer", "reads Mops/s", "reads ratio", "swaps Mops/s", "B/op");
        double gcReads = secondaryScore("SwapBenchmark.swap", "gc", "read");
        List<String> answers = new ArrayList<>(impls);
        answers.addAll(List.of("refcount", "rwlock", "arena-shared", "arena-auto"));
        for (String ans : answers) {
            double reads = secondaryScore("SwapBenchmark.swap", ans, "read");
            double writes = secondaryScore("SwapBenchmark.swap", ans, "write");
            RunResult rr = result("SwapBenchmark.swap", 2, "answer", ans);
            a.add(ans, num(reads), ratio(reads, gcReads), num(writes), num(secondary(rr, "gc.alloc.rate.norm")));
        }
        sb.append(a.render());
        for (ShowcaseWorkload w : extra) {
            sb.append(String.format(Locale.ROOT, "%n%s%n%n", w.title()));
            Table x = new Table("benchmark", "params", "threads", "score", "unit");
            for (ShowcaseWorkload.Run run : w.runs(impls, full)) {
                for (RunResult r : results) {
                    if (!r.getParams().getBenchmark().matches(".*" + run.include() + ".*")) continue;
                    x.add(r.getParams().getBenchmark().replace("reclaim.jmh.", ""), r.getParams().getParamsKeys().stream()
                            .map(k -> k + "=" + r.getParams().getParam(k)).reduce((p, q) -> p + "," + q).orElse(""),
                            String.valueOf(r.getParams().getThreads()), num(r.getPrimaryResult().getScore()),
                            r.getPrimaryResult().getScoreUnit());
                }
            }
            sb.append(x.render());
        }
        return sb.toString();
    }

    /** The score of one method of a group benchmark ({@code swap:read}), in ops/µs = Mops/s. */
    private double secondaryScore(String group, String answer, String method) {
        RunResult r = result(group, 2, "answer", answer);
        return secondary(r, method);
    }

    /** A table of right-aligned columns (the first left-aligned), with a rule under the header. */
    private static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        Table(String... header) {
            rows.add(header);
        }

        void add(String... cells) {
            rows.add(cells);
        }

        String render() {
            int columns = rows.get(0).length;
            int[] width = new int[columns];
            for (String[] r : rows) for (int c = 0; c < columns; c++) width[c] = Math.max(width[c], r[c].length());
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < rows.size(); i++) {
                StringBuilder line = new StringBuilder();
                for (int c = 0; c < columns; c++) {
                    String cell = rows.get(i)[c];
                    if (c > 0) line.append("  ");
                    String fill = " ".repeat(width[c] - cell.length());
                    line.append(c == 0 ? cell + fill : fill + cell);
                }
                sb.append(line.toString().stripTrailing()).append('\n');
                if (i == 0) sb.append("-".repeat(line.toString().stripTrailing().length())).append('\n');
            }
            return sb.toString();
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Plots

    private void plots() throws IOException {
        for (String mix : List.of("read-mostly", "write-heavy")) {
            XYChart c = new XYChartBuilder().width(900).height(560)
                    .title("Hash map, " + mix + " (keys 100,000, prefilled 50%): throughput per thread count")
                    .xAxisTitle("threads (2 cores: more is oversubscribed)").yAxisTitle("Mops/s").build();
            style(c);
            for (String impl : impls) {
                List<Double> x = new ArrayList<>(), y = new ArrayList<>();
                for (int t : mapThreads) {
                    double s = score("MapBenchmark.operation", t, "impl", impl, "mix", mix);
                    if (!Double.isNaN(s)) {
                        x.add((double) t);
                        y.add(s);
                    }
                }
                if (!x.isEmpty()) c.addSeries(impl, x, y);
            }
            BitmapEncoder.saveBitmap(c, out.resolve("map-" + mix).toString(), BitmapEncoder.BitmapFormat.PNG);
        }
        CategoryChart list = new CategoryChartBuilder().width(900).height(560)
                .title("Harris-Michael list set (512 keys), t=" + listThreads[listThreads.length > 1 ? 1 : 0] + ": throughput")
                .xAxisTitle("impl").yAxisTitle("Mops/s").build();
        style(list);
        for (String mix : List.of("read-mostly", "write-heavy")) {
            List<String> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (String impl : impls) {
                double s = score("ListSetBenchmark.operation", listThreads[listThreads.length > 1 ? 1 : 0], "impl", impl, "mix", mix);
                x.add(impl);
                y.add(Double.isNaN(s) ? 0 : s);
            }
            list.addSeries(mix, x, y);
        }
        BitmapEncoder.saveBitmap(list, out.resolve("list").toString(), BitmapEncoder.BitmapFormat.PNG);

        CategoryChart swap = new CategoryChartBuilder().width(1000).height(560)
                .title("A native block swapped under a reader: every scheme vs the JVM's answers (log scale)")
                .xAxisTitle("answer").yAxisTitle("Mops/s").build();
        style(swap);
        swap.getStyler().setYAxisLogarithmic(true);
        swap.getStyler().setYAxisMin(1e-3); // bars start at the axis minimum, which a log axis needs above 0
        List<String> answers = new ArrayList<>(impls);
        answers.addAll(List.of("refcount", "rwlock", "arena-shared", "arena-auto"));
        for (String m : List.of("read", "write")) {
            List<Double> y = new ArrayList<>();
            for (String ans : answers) {
                double s = secondaryScore("SwapBenchmark.swap", ans, m);
                y.add(Double.isNaN(s) || s <= 0 ? 1e-3 : s);
            }
            swap.addSeries(m.equals("read") ? "reads" : "swaps (alloc + free)", answers, y);
        }
        BitmapEncoder.saveBitmap(swap, out.resolve("swap").toString(), BitmapEncoder.BitmapFormat.PNG);

        CategoryChart lat = new CategoryChartBuilder().width(1000).height(560)
                .title("Map under a churning heap (G1, t=1): op latency, and per op in a 16-op view (log)")
                .xAxisTitle("impl").yAxisTitle("ns").build();
        style(lat);
        lat.getStyler().setYAxisLogarithmic(true);
        lat.getStyler().setYAxisMin(1.0); // bars start at the axis minimum, which a log axis needs above 0
        for (String pc : new String[] {"50", "99", "999"}) {
            List<Double> y = new ArrayList<>();
            for (String impl : latencyImpls) {
                double v = everyOperationPercentile(result("LatencyBenchmark.G1.everyOperation", 1, "impl", impl, "structure", "map"), "p" + pc + "Nanos");
                y.add(Double.isNaN(v) || v < 1 ? 1.0 : v);
            }
            lat.addSeries("op p" + (pc.equals("999") ? "99.9" : pc), latencyImpls, y);
        }
        List<Double> views = new ArrayList<>();
        for (String impl : latencyImpls) {
            double v = percentile(result("LatencyBenchmark.G1.view", 1, "impl", impl, "structure", "map"), 50) / LatencyBenchmark.BATCH;
            views.add(Double.isNaN(v) || v < 1 ? 1.0 : v);
        }
        lat.addSeries("per op in a view (median view / 16)", latencyImpls, views);
        BitmapEncoder.saveBitmap(lat, out.resolve("latency").toString(), BitmapEncoder.BitmapFormat.PNG);

        XYChart st = new XYChartBuilder().width(900).height(560)
                .title("Pending objects over time, one reader stalled inside a guard (log scale)")
                .xAxisTitle("ms").yAxisTitle("pending (retired, not reclaimed)").build();
        style(st);
        st.getStyler().setYAxisLogarithmic(true);
        st.getStyler().setMarkerSize(0);
        for (Map.Entry<String, Stall> e : stalls.entrySet()) {
            st.addSeries(e.getKey(), e.getValue().millis(), e.getValue().pending());
        }
        BitmapEncoder.saveBitmap(st, out.resolve("stalled-pending").toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void style(org.knowm.xchart.internal.chartpart.Chart<?, ?> c) {
        Styler s = c.getStyler();
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setChartBackgroundColor(java.awt.Color.WHITE);
    }
}
