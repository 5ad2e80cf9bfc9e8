package reclaim.offheap.mapped;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A mapped file hot-swapped under its readers: {@link #replace(Path)} maps a new file and swaps it in, and
 * the old mapping is unmapped once no reader can hold it, with no handshake of the readers.
 *
 * <p>This is the problem Lucene and Elasticsearch have with the JDK's answers: unmapping a file mapped in
 * {@code Arena.ofShared()} means {@code close()}, which handshakes every thread in the JVM (tens of
 * microseconds, and longer with readers inside accesses to the arena; JDK-8335480, openjdk/jdk#20158), once
 * per closed file; {@code Arena.ofAuto()} leaves the file mapped until a garbage collection finds the segment
 * unreachable. Here readers pay a guard of the {@link Reclaimer} passed in, and the writer a retire.
 *
 * <pre>{@code
 * try (MappedFileSwap index = new MappedFileSwap(reclaimer, Path.of("segment_1"))) {
 *     try (Guard g = reclaimer.enter()) {                  // a reader
 *         MemorySegment s = index.read(g).segment();       // readable until g closes
 *         long header = s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
 *     }
 *     index.replace(Path.of("segment_2"));                 // a writer; segment_1 is unmapped once unread
 * }
 * }</pre>
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li><b>Never unmapped while read.</b> A mapping returned by {@link #read(Guard)} stays mapped until that
 *       guard closes (and every other guard that read it): replaced mappings are retired to the reclaimer
 *       with {@link MappedFile#unmap()} as the action, and the reclaimer's safety guarantee does the rest.</li>
 *   <li><b>Unmapped exactly once.</b> Every mapping this holder makes is unmapped once: a replaced one by its
 *       reclaim action, the last one after {@link #close()}, one made by a {@code replace} that lost to
 *       {@code close} at once (it was never published). {@link #mapped()} and {@link #unmapped()} count them;
 *       once the holder is closed and the reclaimer has reclaimed (after {@link Reclaimer#flush()} with no
 *       guard open, or {@link Reclaimer#close()}), they are equal.</li>
 *   <li><b>Bound.</b> Each mapping is {@link reclaim.api.Born}: under a robust scheme (hazard pointers,
 *       robust Hyaline, Crystalline) the mappings kept alive by a stalled reader stay within the
 *       reclaimer's {@link Reclaimer#pendingBound()}; under EBR and QSBR a reader that never closes its guard
 *       keeps every later replaced file mapped.</li>
 * </ul>
 *
 * <h2>Progress</h2>
 * {@link #read(Guard)} is wait-free (one protected load) under schemes whose {@code protect} is, and
 * lock-free under hazard pointers. {@link #replace(Path)} is three system calls to map, then a lock-free
 * compare-and-set loop that fails only when another {@code replace} or {@code close} succeeded; the
 * {@code munmap} runs later, on whichever thread the reclaimer runs reclaim actions.
 *
 * <h2>Memory consistency effects</h2>
 * The new mapping is installed with a volatile compare-and-set and read with the guard's protected
 * (volatile) load: everything the replacing thread did before {@code replace} (writing the file included)
 * happens-before a reader that sees the new mapping. Every read of a replaced mapping by a guard that loaded
 * it happens-before its {@code munmap}.
 *
 * <h2>Failure</h2>
 * If the reclaimer refuses a retire because it is closed, the call ({@code replace} or {@code close}) throws
 * the reclaimer's {@link IllegalStateException} in every case: the old mapping is unmapped at once when the
 * reclaimer's close has completed (no guard can be open), and otherwise kept mapped (a guard may still read it)
 * until a {@link #close()} or {@code replace} of this holder that comes once the reclaimer's close has completed;
 * until then {@link #mapped()} minus {@link #unmapped()} counts it.
 */
public final class MappedFileSwap implements AutoCloseable {

    /* Overview
     *
     * One shared field, current. It holds the published MappedFile, or CLOSED once close() has run: closing
     * is a getAndSet to the sentinel, so a replace's compare-and-set and close are ordered by the same word
     * and cannot both take the same old mapping (no mapping is retired twice, none is left behind). A
     * replace maps its file first, outside any lock or loop, then CASes it in; when the CAS meets CLOSED the
     * new mapping was never visible to anyone and is unmapped on the spot.
     *
     * Readers protect current through the guard's VarHandle protect (a volatile load plus the scheme's
     * publication of the hazard or era). The writer needs no protection for the old value: the CAS that
     * unlinks it is the only one that can, so this thread alone retires it and never dereferences it after.
     */

    private static final MappedFile CLOSED = MappedFile.sentinel();

    private final Reclaimer reclaimer;
    private final MappedFile.Mode mode;
    private final Consumer<MappedFile> unmapAction = this::unmapCounted;
    /** Mappings made by this holder; volatile read-modify-writes. */
    private final AtomicLong mapped = new AtomicLong();
    /** Mappings this holder unmapped (by reclaim actions or directly); volatile read-modify-writes. */
    private final AtomicLong unmapped = new AtomicLong();
    /**
     * Mappings whose retire the reclaimer refused while closing (a guard may still read them): unmapped by a
     * {@link #close()} once the reclaimer has closed.
     */
    private final ConcurrentLinkedQueue<MappedFile> refused = new ConcurrentLinkedQueue<>();

    /** The published mapping or CLOSED; see the accessors at the bottom. */
    @SuppressWarnings("unused") // through CURRENT
    private volatile MappedFile current;

    /**
     * Maps {@code initial} read-only and publishes it.
     *
     * @param reclaimer the reclaimer whose guards protect the readers and which unmaps replaced files
     * @param initial the first file
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code initial} is not a path of the default file system
     * @throws IOException if the file cannot be mapped (see {@link MappedFile#map(Path, MappedFile.Mode, long)})
     * @throws IllegalStateException if the reclaimer is closed, or the JVM does not grant this module native
     *     access (see {@link MappedFile#map(Path, MappedFile.Mode, long)})
     */
    public MappedFileSwap(Reclaimer reclaimer, Path initial) throws IOException {
        this(reclaimer, initial, MappedFile.Mode.READ_ONLY);
    }

    /**
     * Maps {@code initial} in {@code mode} (every later {@link #replace(Path)} uses the same mode) and
     * publishes it.
     *
     * @param reclaimer the reclaimer whose guards protect the readers and which unmaps replaced files
     * @param initial the first file
     * @param mode the mode of every mapping
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code initial} is not a path of the default file system
     * @throws IOException if the file cannot be mapped (see {@link MappedFile#map(Path, MappedFile.Mode, long)})
     * @throws IllegalStateException if the reclaimer is closed, or the JVM does not grant this module native
     *     access (see {@link MappedFile#map(Path, MappedFile.Mode, long)})
     */
    public MappedFileSwap(Reclaimer reclaimer, Path initial, MappedFile.Mode mode) throws IOException {
        this.reclaimer = Objects.requireNonNull(reclaimer, "reclaimer");
        this.mode = Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(initial, "initial");
        if (reclaimer.isClosed()) throw new IllegalStateException("the reclaimer is closed");
        setCurrentRelease(mapCounted(initial)); // published to other threads with this object
    }

    /**
     * Returns the current mapping, protected until {@code guard} closes: its {@link MappedFile#segment()} can
     * be read until then, however often the file is replaced meanwhile.
     *
     * @param guard an open guard of this holder's reclaimer, on the current thread
     * @return the current mapping, never null
     * @throws NullPointerException if {@code guard} is null
     * @throws IllegalArgumentException if the guard belongs to another reclaimer
     * @throws IllegalStateException if the guard is closed or this holder is closed
     */
    public MappedFile read(Guard guard) {
        Objects.requireNonNull(guard, "guard");
        if (guard.reclaimer() != reclaimer) {
            throw new IllegalArgumentException("the guard belongs to another reclaimer than this MappedFileSwap's");
        }
        MappedFile m = guard.protect(CURRENT, this); // volatile load, protected until the guard closes
        if (m == CLOSED) throw new IllegalStateException("this MappedFileSwap is closed");
        return m;
    }

    /**
     * Applies {@code reader} to the current mapping inside a guard of its own and returns the result. The
     * mapping and its segment must not escape {@code reader}.
     *
     * @param <R> the result type
     * @param reader the function; it must not keep the mapping or its segment
     * @return what {@code reader} returned
     * @throws NullPointerException if {@code reader} is null
     * @throws IllegalStateException if this holder or the reclaimer is closed
     */
    public <R> R read(Function<? super MappedFile, ? extends R> reader) {
        Objects.requireNonNull(reader, "reader");
        try (Guard g = reclaimer.enter()) {
            return reader.apply(read(g));
        }
    }

    /**
     * Maps {@code file} and makes it the current mapping; the previous one is retired and unmapped once no
     * guard that read it is open. Safe to call from several threads: each replaced mapping is retired once.
     *
     * @param file the new file
     * @throws NullPointerException if {@code file} is null
     * @throws IllegalArgumentException if {@code file} is not a path of the default file system (nothing changes)
     * @throws IOException if the file cannot be mapped (nothing changes)
     * @throws IllegalStateException if this holder is closed (before or during the call: a mapping made for
     *     a call that lost to {@link #close()} is unmapped at once), or the reclaimer refused the retire
     */
    public void replace(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        MappedFile cur = currentVolatile();
        if (cur == CLOSED) throw new IllegalStateException("this MappedFileSwap is closed");
        MappedFile next = mapCounted(file);
        while (true) {
            if (cur == CLOSED) {
                unmapCounted(next); // never published: no reader can hold it
                throw new IllegalStateException("this MappedFileSwap was closed during replace");
            }
            MappedFile witness = compareAndExchangeCurrent(cur, next);
            if (witness == cur) {
                // Linearization point: the successful exchange unlinked cur; only this thread can retire it.
                retireOrUnmap(cur);
                return;
            }
            cur = witness;
        }
    }

    /**
     * Returns the reclaimer that guards the readers.
     *
     * @return the reclaimer
     */
    public Reclaimer reclaimer() {
        return reclaimer;
    }

    /**
     * Returns the mode of every mapping.
     *
     * @return the mode
     */
    public MappedFile.Mode mode() {
        return mode;
    }

    /**
     * Returns whether {@link #close()} has been called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return currentVolatile() == CLOSED;
    }

    /**
     * Returns how many files this holder has mapped.
     *
     * @return the count, the initial file included
     */
    public long mapped() {
        return mapped.get(); // volatile load
    }

    /**
     * Returns how many of this holder's mappings have been unmapped.
     *
     * @return the count; equal to {@link #mapped()} once the holder is closed and the reclaimer has reclaimed
     */
    public long unmapped() {
        return unmapped.get(); // volatile load
    }

    /**
     * Closes this holder: the current mapping is retired (unmapped once no guard that read it is open) and
     * further reads and replaces throw {@link IllegalStateException}. Idempotent, and a later call unmaps what an
     * earlier one could not retire, once the reclaimer has closed.
     *
     * @throws IllegalStateException if the reclaimer refused the retire (see the class documentation), or has not
     *     closed yet while mappings whose retire it refused are still mapped
     */
    @Override
    public void close() {
        MappedFile last = getAndSetCurrent(CLOSED); // linearization point of close
        if (last != CLOSED) retireOrUnmap(last);
        if (refused.isEmpty()) return;
        if (!reclaimer.isClosed()) {
            throw new IllegalStateException("the reclaimer is closing: " + refused.size() + " mapping(s) of this"
                    + " MappedFileSwap could not be retired; call close() again once the reclaimer has closed, to"
                    + " unmap them");
        }
        unmapRefused();
    }

    /** Unmaps the mappings whose retire was refused; the reclaimer has closed, so no guard is open or can open. */
    private void unmapRefused() {
        for (MappedFile m; (m = refused.poll()) != null; ) unmapCounted(m); // poll() hands each to one caller
    }

    @Override
    public String toString() {
        MappedFile m = currentVolatile();
        return "MappedFileSwap[" + (m == CLOSED ? "closed" : m.path().toString()) + ", " + mode + ", "
                + reclaimer.scheme().name() + ", mapped " + mapped() + ", unmapped " + unmapped() + "]";
    }

    private MappedFile mapCounted(Path file) throws IOException {
        MappedFile m = MappedFile.map(file, mode, reclaimer.era());
        mapped.getAndIncrement(); // volatile RMW
        return m;
    }

    /** The reclaim action: unmaps, then counts (a second call throws in unmap and counts nothing). */
    private void unmapCounted(MappedFile m) {
        m.unmap();
        unmapped.getAndIncrement(); // volatile RMW
    }

    private void retireOrUnmap(MappedFile old) {
        try {
            reclaimer.retire(old, unmapAction);
        } catch (IllegalStateException refused) {
            // A completed close means no guard is open or can open: nobody can read old. Otherwise a guard
            // may still hold it: kept, for a close() of this holder once the reclaimer has closed.
            if (reclaimer.isClosed()) {
                unmapCounted(old);
                unmapRefused(); // what earlier refusals kept: this is the call that comes after the close
            } else {
                this.refused.add(old);
                if (reclaimer.isClosed()) unmapRefused(); // it closed meanwhile: a close() may have drained already
            }
            throw refused;
        }
    }

    // ---- shared-field accesses (names per the package documentation) and their VarHandles ----

    private MappedFile currentVolatile() {
        return (MappedFile) CURRENT.getVolatile(this);
    }

    private void setCurrentRelease(MappedFile m) {
        CURRENT.setRelease(this, m);
    }

    /** compareAndExchange: a volatile read-modify-write returning the witness value. */
    private MappedFile compareAndExchangeCurrent(MappedFile expected, MappedFile update) {
        return (MappedFile) CURRENT.compareAndExchange(this, expected, update);
    }

    private MappedFile getAndSetCurrent(MappedFile m) {
        return (MappedFile) CURRENT.getAndSet(this, m);
    }

    private static final VarHandle CURRENT;

    static {
        try {
            CURRENT = MethodHandles.lookup().findVarHandle(MappedFileSwap.class, "current", MappedFile.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
