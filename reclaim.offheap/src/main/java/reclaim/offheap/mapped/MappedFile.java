package reclaim.offheap.mapped;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import reclaim.api.Born;
import reclaim.api.Reclaimer;
import reclaim.offheap.internal.NativeAccess;

/**
 * A whole file mapped into memory with {@code mmap(2)}, unmapped exactly once by {@link #unmap()}.
 *
 * <p>It is the value a {@link MappedFileSwap} (or a {@link reclaim.api.Atom}) hands to readers: a path, a
 * size, and a {@link MemorySegment} of exactly that size over the mapping. The segment is in the global
 * scope: no arena checks its liveness on each access, and nothing but the reclaimer decides when it may be
 * unmapped. That is the point: closing a shared arena ({@code Arena.ofShared().close()}) makes every thread
 * reach a safepoint and scans its stack (a handshake of tens of microseconds, more with readers inside the
 * arena's accesses; JDK-8335480, openjdk/jdk#20158, the cost Lucene and Elasticsearch report when they swap
 * index files), and {@code Arena.ofAuto()} unmaps only after a garbage collection notices the segment is
 * unreachable. Retiring a {@code MappedFile} with {@code MappedFile::unmap} as the action costs a guard per
 * read and unmaps as soon as no guard that read it is open.
 *
 * <pre>{@code
 * Atom<MappedFile> index = new Atom<>(reclaimer, MappedFile.map(v1, reclaimer), MappedFile::unmap);
 * try (Guard g = reclaimer.enter()) {
 *     MemorySegment s = index.load(g).segment();    // readable until g closes
 * }
 * index.store(MappedFile.map(v2, reclaimer));       // v1 is unmapped once no reader holds it
 * }</pre>
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li><b>Exactly once.</b> {@link #unmap()} succeeds once; a second call throws
 *       {@link IllegalStateException} and unmaps nothing. The process-wide counts
 *       {@link #totalMapped()} and {@link #totalUnmapped()} record each event once.</li>
 *   <li><b>Exact size.</b> {@link #segment()} is {@link #size()} bytes long: an access past the file's end is
 *       an {@link IndexOutOfBoundsException}, never a read of a neighbouring page. A {@link Mode#READ_ONLY}
 *       segment is {@linkplain MemorySegment#isReadOnly() read-only}: a write throws instead of faulting.</li>
 *   <li><b>Born.</b> The birth era is stamped when the file is mapped, before it can be published; robust
 *       schemes use it to bound what a stalled reader keeps mapped.</li>
 * </ul>
 * Access to the segment after {@code unmap()} is undefined (a read of an unmapped page kills the JVM with
 * {@code SIGSEGV}); that is why unmapping goes through a reclaimer. {@link #segment()} refuses a mapping
 * already unmapped, which catches a use long after the fact, not a race. As with
 * {@code FileChannel.map}, a file truncated while mapped raises {@code SIGBUS} on access to the lost pages:
 * replace files, do not truncate them in place.
 *
 * <h2>Empty files</h2>
 * {@code mmap} refuses a length of zero, so an empty file gives a {@code MappedFile} of size 0 with an empty
 * segment and no native mapping; it is counted and unmapped (a no-op) like any other.
 *
 * <h2>Memory consistency effects</h2>
 * The fields and the segment are final: a {@code MappedFile} published through a volatile or release store
 * (as {@link MappedFileSwap} and {@code Atom} do) is seen whole. {@code unmap()} takes the mapping with a
 * compare-and-set of its state, so of any number of racing calls exactly one proceeds.
 */
public final class MappedFile implements Born {

    /* Overview
     *
     * state goes MAPPED -> UNMAPPED once, by casState (a volatile read-modify-write): the winner calls munmap,
     * the losers throw. segment() reads the state with an acquire load to refuse an obvious use after
     * unmap; the reader's real protection is its guard, which keeps unmap() from being called at all.
     * The counters are process-wide AtomicLongs updated with volatile getAndIncrement.
     */

    /** How a file is mapped. */
    public enum Mode {
        /** {@code O_RDONLY}, {@code PROT_READ}, {@code MAP_SHARED}; the segment is read-only. */
        READ_ONLY,
        /**
         * {@code O_RDWR}, {@code PROT_READ | PROT_WRITE}, {@code MAP_SHARED}: writes reach the page cache, and so
         * every other mapping and read of the file, at once; they reach the disk when the kernel writes the pages
         * back (no {@code msync} is offered).
         */
        READ_WRITE
    }

    private static final int MAPPED = 0;
    private static final int UNMAPPED = 1;

    /** Mappings made by this class in this process; volatile read-modify-writes. */
    private static final AtomicLong TOTAL_MAPPED = new AtomicLong();
    /** Mappings unmapped by this class in this process; volatile read-modify-writes. */
    private static final AtomicLong TOTAL_UNMAPPED = new AtomicLong();

    private final Path path;
    private final Mode mode;
    private final Posix.Mapping mapping;
    private final MemorySegment segment;
    private final long birthEra;
    /** MAPPED or UNMAPPED; written only by casState, read by stateAcquire. */
    @SuppressWarnings("unused") // through STATE
    private volatile int state;

    @SuppressWarnings("restricted") // reinterpret: the size is what mmap mapped
    private MappedFile(Path path, Mode mode, Posix.Mapping mapping, long birthEra, int state) {
        this.path = path;
        this.mode = mode;
        this.mapping = mapping;
        MemorySegment s = mapping.size() == 0
                ? MemorySegment.NULL
                : MemorySegment.ofAddress(mapping.address()).reinterpret(mapping.size());
        this.segment = mode == Mode.READ_ONLY ? s.asReadOnly() : s;
        this.birthEra = birthEra;
        this.state = state;
    }

    /**
     * Maps the whole of {@code path} read-only, stamped with {@code reclaimer}'s current era.
     *
     * @param path the file
     * @param reclaimer the reclaimer that will guard its readers (only its {@link Reclaimer#era()} is read)
     * @return the mapping
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code path} is not of the default file system
     *     ({@link FileSystems#getDefault()})
     * @throws IOException if the file cannot be opened or mapped; the message names the path, the call and
     *     {@code errno} with its {@code strerror} text ({@link java.nio.file.NoSuchFileException} for
     *     {@code ENOENT}, {@link java.nio.file.AccessDeniedException} for {@code EACCES}/{@code EPERM}); a
     *     directory fails as {@code open(2)} fails it for writing ({@code EISDIR}), a FIFO at {@code lseek(2)}
     *     ({@code ESPIPE}), without waiting for a writer
     * @throws UnsupportedOperationException if the system has no {@code mmap}
     * @throws IllegalStateException if the JVM does not grant this module native access (the message names the
     *     flag: {@code --enable-native-access=reclaim.offheap} on the module path,
     *     {@code --enable-native-access=ALL-UNNAMED} on the class path)
     */
    public static MappedFile map(Path path, Reclaimer reclaimer) throws IOException {
        return map(path, Mode.READ_ONLY, Objects.requireNonNull(reclaimer, "reclaimer").era());
    }

    /**
     * Maps the whole of {@code path} in {@code mode}: {@code open(2)}, its size by {@code lseek(2)},
     * {@code mmap(NULL, size, prot, MAP_SHARED, fd, 0)}, then {@code close(2)} of the descriptor (the mapping
     * keeps the file open).
     *
     * @param path the file
     * @param mode read-only or read-write
     * @param birthEra the era to report as {@link #birthEra()}, normally {@link Reclaimer#era()} now;
     *     {@code 0} for unknown
     * @return the mapping
     * @throws NullPointerException if {@code path} or {@code mode} is null
     * @throws IllegalArgumentException if {@code birthEra} is negative, or {@code path} is not of the default
     *     file system ({@link FileSystems#getDefault()}: a zip file system's path, for one)
     * @throws IOException if the file cannot be opened or mapped, as for {@link #map(Path, Reclaimer)}
     * @throws UnsupportedOperationException if the system has no {@code mmap}
     * @throws IllegalStateException if the JVM does not grant this module native access (the message names the
     *     flag: {@code --enable-native-access=reclaim.offheap} on the module path,
     *     {@code --enable-native-access=ALL-UNNAMED} on the class path)
     */
    public static MappedFile map(Path path, Mode mode, long birthEra) throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(mode, "mode");
        if (birthEra < 0) throw new IllegalArgumentException("birthEra < 0: " + birthEra);
        if (path.getFileSystem() != FileSystems.getDefault()) { // open(2) would open the default one's namesake
            // The provider's scheme and the path's string: toUri() may itself throw for a provider of another kind.
            throw new IllegalArgumentException("MappedFile.map: " + path + " (file system "
                    + path.getFileSystem().provider().getScheme() + ") is not a path of the default file system;"
                    + " only files the operating system opens can be mapped");
        }
        NativeAccess.require("MappedFile.map"); // before Posix links its downcalls
        Posix.Mapping m = Posix.map(path, mode == Mode.READ_WRITE);
        TOTAL_MAPPED.getAndIncrement(); // volatile RMW
        return new MappedFile(path, mode, m, birthEra, MAPPED);
    }

    /** The closed-holder sentinel of {@link MappedFileSwap}: never mapped, never counted, never handed out. */
    static MappedFile sentinel() {
        return new MappedFile(Path.of("<closed>"), Mode.READ_ONLY, new Posix.Mapping(0L, 0L), 0L, UNMAPPED);
    }

    /**
     * Unmaps the file. Call it once no reader can hold this mapping: as the reclaim action of a reclaimer
     * (that is what {@link MappedFileSwap} does), or when the mapping was never published.
     *
     * @throws IllegalStateException if it was already unmapped (the second call unmaps nothing)
     * @throws UncheckedIOException if {@code munmap} fails (the mapping counts as unmapped all the same; it
     *     fails only for arguments it did not make)
     */
    public void unmap() {
        // Linearization point of the unmap: the one successful CAS.
        if (!casState(MAPPED, UNMAPPED)) {
            throw new IllegalStateException("already unmapped: " + path);
        }
        TOTAL_UNMAPPED.getAndIncrement(); // volatile RMW
        try {
            Posix.unmap(mapping, path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Returns whether the file is still mapped (a snapshot).
     *
     * @return true until {@link #unmap()} has been called
     */
    public boolean isMapped() {
        return stateAcquire() == MAPPED;
    }

    /**
     * Returns the mapping as a segment of exactly {@link #size()} bytes. Use it only while a guard that read
     * this {@code MappedFile} is open (or before it is published).
     *
     * @return the segment, read-only in {@link Mode#READ_ONLY}
     * @throws IllegalStateException if the file has already been unmapped
     */
    public MemorySegment segment() {
        if (stateAcquire() != MAPPED) throw new IllegalStateException("unmapped: " + path);
        return segment;
    }

    /**
     * Returns the path the file was mapped from.
     *
     * @return the path
     */
    public Path path() {
        return path;
    }

    /**
     * Returns the size of the file when it was mapped, which is the size of {@link #segment()}.
     *
     * @return the size in bytes
     */
    public long size() {
        return mapping.size();
    }

    /**
     * Returns the mode of the mapping.
     *
     * @return the mode
     */
    public Mode mode() {
        return mode;
    }

    /**
     * Returns the address of the mapping, {@code 0} for an empty file.
     *
     * @return the address
     */
    public long address() {
        return mapping.address();
    }

    @Override
    public long birthEra() {
        return birthEra;
    }

    /**
     * Returns how many files this class has mapped in this process.
     *
     * @return the count, empty files included
     */
    public static long totalMapped() {
        return TOTAL_MAPPED.get(); // volatile load
    }

    /**
     * Returns how many mappings this class has unmapped in this process.
     *
     * @return the count, empty files included
     */
    public static long totalUnmapped() {
        return TOTAL_UNMAPPED.get(); // volatile load
    }

    @Override
    public String toString() {
        return "MappedFile[" + path + ", " + mapping.size() + " bytes, " + mode + ", "
                + (isMapped() ? "mapped" : "unmapped") + "]";
    }

    // ---- shared-field accesses (names per the package documentation) and their VarHandles ----

    private int stateAcquire() {
        return (int) STATE.getAcquire(this);
    }

    private boolean casState(int expected, int update) {
        return STATE.compareAndSet(this, expected, update);
    }

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(MappedFile.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
