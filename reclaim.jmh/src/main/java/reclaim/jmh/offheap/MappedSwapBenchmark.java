package reclaim.jmh.offheap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.baseline.SharedArenaSwap;
import reclaim.offheap.mapped.MappedFileSwap;

/**
 * Issue #7, mapped swap: a writer replaces a mapped file while a reader reads it ({@code swap:replace} and
 * {@code swap:read}, one thread each), the Lucene/Elasticsearch shape. {@value #FILES} files of
 * {@value #FILE_BYTES} bytes are created in a temporary folder at setup (deleted at teardown); each replace
 * maps the next one.
 *
 * <table class="striped">
 * <caption>What {@code answer} selects</caption>
 * <thead><tr><th>answer</th><th>reader</th><th>writer</th></tr></thead>
 * <tbody>
 * <tr><td>a scheme's short name</td><td>{@code enter}, {@link MappedFileSwap#read(Guard)}, 8 reads,
 *     {@code close}</td><td>{@link MappedFileSwap#replace(Path)}: {@code open}+{@code mmap}+{@code close}, a CAS,
 *     and the old mapping retired ({@code munmap} once no reader can hold it)</td></tr>
 * <tr><td>{@code arena-shared}</td><td>plain load, 8 reads; a read of a closed segment throws and is retried
 *     on the new mapping</td><td>{@code FileChannel.map} into a new {@code Arena.ofShared()}, swap, {@code close()}
 *     of the old arena (a handshake with every thread, then {@code munmap}): {@link SharedArenaSwap}</td></tr>
 * </tbody>
 * </table>
 *
 * <p>Both pay the same system calls; the difference is the shared arena's handshake against the retire. At
 * teardown {@code arena-shared} prints the mean time of one {@code Arena.close()}.
 *
 * <p>Run: {@code ./reclaim bench MappedSwapBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Group)
public class MappedSwapBenchmark {
    /** Files the writer cycles through. */
    static final int FILES = 4;
    /** Bytes per file: one page. */
    static final int FILE_BYTES = 4096;
    /** Longs the reader sums per read (one cache line). */
    static final int READ_LONGS = 8;

    /** A scheme's short name, or {@code arena-shared} (see the class documentation). */
    @Param({"qsbr", "ebr", "hp", "hyaline", "crystalline", "arena-shared"})
    public String answer;

    private Path dir;
    private Path[] files;
    private Reclaimer reclaimer;
    private MappedFileSwap swap;
    private SharedArenaSwap shared;
    /** Writer-only: the next file to map. */
    private int next;

    /** Creates the state. */
    public MappedSwapBenchmark() {}

    /**
     * Creates the files and maps the first.
     *
     * @throws IOException if a file cannot be written or mapped
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("reclaim-mapped-bench");
        files = new Path[FILES];
        for (int f = 0; f < FILES; f++) {
            byte[] content = new byte[FILE_BYTES];
            Arrays.fill(content, (byte) (f + 1));
            files[f] = Files.write(dir.resolve("segment_" + f), content);
        }
        if (answer.equals("arena-shared")) {
            shared = new SharedArenaSwap(files[0]);
        } else {
            reclaimer = Reclaimer.create(answer);
            swap = new MappedFileSwap(reclaimer, files[0]);
        }
        next = 1;
    }

    /**
     * Unmaps everything and deletes the files.
     *
     * @throws IOException if a file cannot be deleted
     */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (shared != null) {
            shared.close();
            System.out.printf(Locale.ROOT, "%n[mapped-swap] arena-shared: %d closes, %.1f us per Arena.close()%n",
                    shared.closes(), shared.closeNanos() / 1e3 / Math.max(1, shared.closes()));
        } else {
            swap.close();
            reclaimer.close(); // runs the pending unmaps
            if (swap.mapped() != swap.unmapped()) {
                throw new IllegalStateException(answer + ": mapped " + swap.mapped() + " != unmapped " + swap.unmapped());
            }
        }
        for (Path f : files) Files.deleteIfExists(f);
        Files.deleteIfExists(dir);
    }

    private static long sum(MemorySegment s) {
        long sum = 0;
        for (int k = 0; k < READ_LONGS; k++) sum += s.getAtIndex(ValueLayout.JAVA_LONG, k);
        return sum;
    }

    /**
     * The reader: one safe read of the current mapping.
     *
     * @return the sum read
     */
    @Benchmark
    @Group("swap")
    @GroupThreads(1)
    public long read() {
        if (shared != null) return shared.readLong(MappedSwapBenchmark::sum);
        try (Guard g = reclaimer.enter()) {
            return sum(swap.read(g).segment()); // mapped until the guard closes
        }
    }

    /** The writer: map the next file, swap it in, release the old mapping. */
    @Benchmark
    @Group("swap")
    @GroupThreads(1)
    public void replace() {
        Path f = files[next];
        next = (next + 1) % FILES;
        try {
            if (shared != null) {
                shared.replace(f);
            } else {
                swap.replace(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
