package reclaim.jmh;

import java.io.PrintStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import reclaim.api.Atom;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/**
 * The showcase: a resource hot-swapped under readers, under every scheme present, with its safety checked.
 *
 * <p>For each scheme in {@link Reclaimer#availableSchemes()} it creates a reclaimer by name and runs, for a
 * couple of seconds, two reader threads that load an {@code Atom<Resource>} under a guard and check the
 * resource is open (right after the load and again as the last thing inside the guard), and one writer that
 * stores a fresh {@code Resource} over and over, each store retiring the old one with
 * {@link Resource#close()}. The writer samples {@link Stats#pending()} as it goes. Then the cell and the
 * reclaimer are closed, and one row per scheme is printed: swaps, reads, reads per microsecond, the peak of
 * pending objects, retired and reclaimed counts, and the uses after close observed (must be 0).
 *
 * <p>A scheme fails its row, and the program exits with status 1, if a reader saw a closed resource, a
 * resource was closed twice or never, {@code retired != reclaimed} after close, or a thread threw.
 *
 * <p>The schemes are those of {@link Reclaimer#availableSchemes()} plus the named variants that
 * {@code availableSchemes()} leaves out ({@value #EXTRA_SCHEMES}), where a provider can create them.
 *
 * <p>The output is plain text: no colour, no cursor movement, nothing that needs a terminal, so
 * {@code ./reclaim demo | cat} and a CI log read the same as a console.
 *
 * <p>Run (from the repository root):
 * <pre>{@code
 * ./reclaim demo                 # builds, then 2 s per scheme
 * ./reclaim demo 5               # 5 s per scheme
 * ./reclaim demo --help          # usage
 * }</pre>
 */
public final class Demo {
    private static final int READERS = 2;
    /** The writer spins this long between two stores: a writer that does some work, not a storm. */
    private static final long WRITER_PAUSE_NANOS = 2_000;
    /** The writer samples {@code stats().pending()} every this many stores. */
    private static final int SAMPLE_EVERY = 64;

    /** Schemes that {@link Reclaimer#availableSchemes()} does not list but the demo runs when they exist. */
    static final String EXTRA_SCHEMES = "crystalline-w";

    static final String USAGE = "usage: ./reclaim demo [SECONDS]   (or java -cp reclaim.jmh/target/benchmarks.jar reclaim.jmh.Demo"
            + " [SECONDS]): runs an Atom hot-swap under every scheme for SECONDS each (default 2, a positive number)";

    private Demo() {}

    /**
     * Parses the arguments: none, or the seconds per scheme.
     *
     * @param args the command line
     * @return the seconds per scheme, or NaN for {@code --help}/{@code -h}
     * @throws IllegalArgumentException with a one-line message for anything else
     */
    static double seconds(String[] args) {
        if (args.length == 0) return 2.0;
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help"))) {
            return Double.NaN;
        }
        if (args.length > 1) throw new IllegalArgumentException("expected at most one argument, got " + args.length);
        double seconds;
        try {
            seconds = Double.parseDouble(args[0]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number of seconds: '" + args[0] + "'");
        }
        if (!(seconds > 0) || seconds > 3600) {
            throw new IllegalArgumentException("seconds must be more than 0 and at most 3600: " + args[0]);
        }
        return seconds;
    }

    /** The schemes to run: every available one, then the extra variants a provider can create. */
    static List<String> schemes() {
        List<String> schemes = new ArrayList<>(Reclaimer.availableSchemes());
        for (String extra : EXTRA_SCHEMES.split(",")) {
            if (schemes.contains(extra)) continue;
            try {
                Reclaimer.create(extra).close();
                schemes.add(extra);
            } catch (IllegalArgumentException absent) {
                // no provider present creates it: leave it out
            }
        }
        return schemes;
    }

    /**
     * Runs the workload under every scheme present and prints the table.
     *
     * @param args optionally the seconds to run each scheme (default 2)
     * @throws InterruptedException if interrupted while waiting for the workers
     */
    public static void main(String[] args) throws InterruptedException {
        double seconds;
        try {
            seconds = seconds(args);
        } catch (IllegalArgumentException e) {
            System.err.println("reclaim demo: " + e.getMessage() + "; " + USAGE);
            System.exit(2);
            return;
        }
        PrintStream out = System.out;
        if (Double.isNaN(seconds)) {
            out.println(USAGE);
            return;
        }
        long nanos = (long) (seconds * 1e9);

        List<String> schemes = schemes();
        if (schemes.isEmpty()) {
            out.println("no reclamation scheme is available: put reclaim.impl on the class path or module path");
            System.exit(1);
        }
        out.printf(Locale.ROOT, "Atom<Resource> hot-swap: %d readers, 1 writer, %.1f s per scheme, %d CPUs%n",
                READERS, seconds, Runtime.getRuntime().availableProcessors());
        out.println("Readers load the cell under a guard and check the resource is still open; the writer stores a fresh");
        out.println("resource over and over, retiring the old one (its close runs when no reader can hold it). Columns:");
        out.println("  swaps, reads: stores and guarded loads made; reads/us: reads per microsecond, all readers;");
        out.println("  peak pending: most retired-not-yet-closed resources seen; retired, reclaimed: Stats after close");
        out.println("  (must be equal); use-after-close: reads that saw a closed resource (must be 0); check: ok or why not.");
        out.println();
        Table table = new Table("scheme", "swaps", "reads", "reads/us", "peak pending", "retired", "reclaimed",
                "use-after-close", "check");
        boolean allOk = true;
        for (String name : schemes) {
            Row row = run(name, nanos);
            allOk &= row.ok();
            table.add(name, fmt(row.swaps), fmt(row.reads), String.format(Locale.ROOT, "%.1f", row.readsPerMicro()),
                    fmt(row.peakPending), fmt(row.stats.retired()), fmt(row.stats.reclaimed()),
                    fmt(row.useAfterClose), row.verdict());
        }
        table.print(out);
        out.println();
        out.println(allOk ? "all schemes safe: no use after close, every resource closed exactly once"
                : "SAFETY CHECK FAILED (see the check column)");
        if (!allOk) System.exit(1);
    }

    /** Runs the hot-swap under one scheme for {@code nanos}; the showcase reads its safety verdict. */
    static Row run(String scheme, long nanos) throws InterruptedException {
        Row row = new Row();
        Reclaimer reclaimer = Reclaimer.create(scheme);
        AtomicLong created = new AtomicLong();
        Atom<Resource> atom = new Atom<>(reclaimer, new Resource(row, created), Resource::close);
        LongAdder reads = new LongAdder();
        LongAdder useAfterClose = new LongAdder();
        LongAdder checksum = new LongAdder(); // keeps the readers' payload reads alive
        CountDownLatch start = new CountDownLatch(1);
        List<Throwable> failures = new ArrayList<>();
        long[] writerResult = new long[2]; // swaps, peak pending
        long[] elapsed = new long[1];
        // every worker stops at the same deadline, set when the start gate opens
        long[] deadline = new long[1];

        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < READERS; i++) {
            threads.add(Thread.ofPlatform().name("reader-" + i).unstarted(() -> {
                await(start);
                long n = 0, bad = 0, sum = 0;
                long end = deadline[0];
                while (true) {
                    for (int k = 0; k < 1024; k++) {
                        try (Guard g = reclaimer.enter()) {
                            Resource r = atom.load(g);
                            if (r.isClosed()) bad++;
                            sum += r.payload();
                            if (r.isClosed()) bad++; // the last read inside the guard
                        }
                    }
                    n += 1024;
                    if (System.nanoTime() - end >= 0) break;
                }
                reads.add(n);
                useAfterClose.add(bad);
                checksum.add(sum);
            }));
        }
        threads.add(Thread.ofPlatform().name("writer").unstarted(() -> {
            await(start);
            long swaps = 0, peak = 0;
            long end = deadline[0];
            while (System.nanoTime() - end < 0) {
                atom.store(new Resource(row, created));
                swaps++;
                if (swaps % SAMPLE_EVERY == 0) peak = Math.max(peak, reclaimer.stats().pending());
                long pauseEnd = System.nanoTime() + WRITER_PAUSE_NANOS;
                while (System.nanoTime() - pauseEnd < 0) Thread.onSpinWait();
            }
            writerResult[0] = swaps;
            writerResult[1] = Math.max(peak, reclaimer.stats().pending());
        }));
        for (Thread t : threads) {
            t.setUncaughtExceptionHandler((th, e) -> {
                synchronized (failures) {
                    failures.add(e);
                }
            });
            t.start();
        }
        long t0 = System.nanoTime();
        deadline[0] = t0 + nanos;
        start.countDown(); // publishes deadline[0] to the workers
        for (Thread t : threads) t.join();
        elapsed[0] = System.nanoTime() - t0;

        atom.close();
        reclaimer.close();

        row.swaps = writerResult[0];
        row.peakPending = writerResult[1];
        row.reads = reads.sum();
        row.useAfterClose = useAfterClose.sum();
        row.elapsedNanos = elapsed[0];
        row.stats = reclaimer.stats();
        row.created = created.get();
        row.checksum = checksum.sum();
        row.failures = failures;
        for (Throwable f : failures) {
            System.err.println("[" + scheme + "] a worker failed:");
            f.printStackTrace();
        }
        return row;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted before the start", e);
        }
    }

    private static String fmt(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** What one scheme's run measured and observed. */
    static final class Row {
        long swaps, reads, peakPending, useAfterClose, elapsedNanos, created, checksum;
        final LongAdder closes = new LongAdder();
        final LongAdder doubleCloses = new LongAdder();
        Stats stats;
        List<Throwable> failures = List.of();

        double readsPerMicro() {
            return elapsedNanos == 0 ? 0 : reads * 1_000.0 / elapsedNanos;
        }

        String verdict() {
            List<String> problems = new ArrayList<>();
            if (!failures.isEmpty()) problems.add(failures.size() + " thread(s) threw");
            if (useAfterClose != 0) problems.add("use after close");
            if (doubleCloses.sum() != 0) problems.add(doubleCloses.sum() + " closed twice");
            long neverClosed = created - closes.sum() + doubleCloses.sum();
            if (neverClosed != 0) problems.add(neverClosed + " never closed");
            if (stats.retired() != stats.reclaimed()) problems.add("retired != reclaimed");
            if (stats.failed() != 0) problems.add(stats.failed() + " close(s) threw");
            if (stats.retired() != swaps + 1) problems.add("retired != swaps + 1");
            return problems.isEmpty() ? "ok" : "FAIL: " + String.join(", ", problems);
        }

        boolean ok() {
            return verdict().equals("ok");
        }
    }

    /**
     * The swapped resource: stands for a mapped file or a native handle. {@link #close()} flips its flag
     * (once: a second close is counted as a bug) and counts the close.
     */
    private static final class Resource {
        private static final VarHandle CLOSED;

        static {
            try {
                CLOSED = MethodHandles.lookup().findVarHandle(Resource.class, "closed", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final Row row;
        private final long payload;
        @SuppressWarnings("unused") // accessed through CLOSED
        private volatile boolean closed;

        Resource(Row row, AtomicLong created) {
            this.row = row;
            this.payload = created.incrementAndGet();
        }

        /** A reader's work on the resource: a plain read of its payload (a native handle, say). */
        long payload() {
            return payload;
        }

        boolean isClosed() {
            return (boolean) CLOSED.getAcquire(this);
        }

        void close() {
            if ((boolean) CLOSED.getAndSetRelease(this, true)) {
                row.doubleCloses.increment();
            }
            row.closes.increment();
        }
    }

    /** A table of right-aligned columns (the first left-aligned), printed with a rule under the header. */
    private static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        Table(String... header) {
            rows.add(header);
        }

        void add(String... cells) {
            rows.add(cells);
        }

        void print(PrintStream out) {
            int columns = rows.get(0).length;
            int[] width = new int[columns];
            for (String[] r : rows) {
                for (int c = 0; c < columns; c++) width[c] = Math.max(width[c], r[c].length());
            }
            for (int i = 0; i < rows.size(); i++) {
                StringBuilder line = new StringBuilder();
                for (int c = 0; c < columns; c++) {
                    String cell = rows.get(i)[c];
                    boolean left = c == 0 || c == columns - 1;
                    if (c > 0) line.append("  ");
                    line.append(left ? pad(cell, width[c], false) : pad(cell, width[c], true));
                }
                out.println(line.toString().stripTrailing());
                if (i == 0) out.println("-".repeat(line.toString().stripTrailing().length()));
            }
        }

        private static String pad(String s, int width, boolean right) {
            String fill = " ".repeat(width - s.length());
            return right ? fill + s : s + fill;
        }
    }
}
