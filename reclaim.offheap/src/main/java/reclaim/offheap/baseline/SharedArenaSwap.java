package reclaim.offheap.baseline;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The JDK's own answer to {@link reclaim.offheap.mapped.MappedFileSwap}, kept as the baseline of the JMH comparison: every file is
 * mapped with {@code FileChannel.map(READ_ONLY, 0, size, Arena.ofShared())}, and a replace swaps the
 * reference and closes the old arena. That {@code close()} is the cost measured: it handshakes every thread
 * of the JVM and waits out those inside an access to the arena's segments (JDK-8335480,
 * openjdk/jdk#20158). A reader whose segment is closed under it gets an {@link IllegalStateException} and
 * retries on the new mapping, as Lucene's readers turn it into {@code AlreadyClosedException}.
 *
 * <p>Test-only: the benchmark module copies or reaches it; nothing in the library depends on it.
 */
public final class SharedArenaSwap implements AutoCloseable {

    /**
     * A file mapped in its own shared arena.
     *
     * @param path the file
     * @param arena the arena; closing it unmaps the file
     * @param segment the mapping, exactly the file's size
     */
    public record Mapping(Path path, Arena arena, MemorySegment segment) {
    }

    /** The published mapping; volatile loads and getAndSet. */
    private final AtomicReference<Mapping> current;
    /** Nanoseconds spent in {@code Arena.close()}; volatile read-modify-writes. */
    private final AtomicLong closeNanos = new AtomicLong();
    /** Arenas closed; volatile read-modify-writes. */
    private final AtomicLong closes = new AtomicLong();

    /**
     * Maps {@code initial}.
     *
     * @param initial the first file
     * @throws IOException if it cannot be mapped
     */
    public SharedArenaSwap(Path initial) throws IOException {
        current = new AtomicReference<>(mapShared(initial));
    }

    /**
     * Maps the whole of {@code file} read-only in a new shared arena, the way Lucene's
     * {@code MemorySegmentIndexInput} does.
     *
     * @param file the file
     * @return the mapping
     * @throws IOException if the file cannot be opened or mapped
     */
    public static Mapping mapShared(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return new Mapping(file, arena, ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Applies {@code reader} to the current segment, again on the new one when the old was closed under it.
     *
     * @param <R> the result type
     * @param reader the function; it may run more than once and must not keep the segment
     * @return what {@code reader} returned
     * @throws IllegalStateException if this holder is closed
     */
    public <R> R read(Function<? super MemorySegment, ? extends R> reader) {
        while (true) {
            Mapping m = current.get(); // volatile load
            if (m == null) throw new IllegalStateException("closed");
            try {
                return reader.apply(m.segment());
            } catch (IllegalStateException closedUnderUs) {
                if (m.arena().scope().isAlive()) throw closedUnderUs; // not the arena's close: a real error
            }
        }
    }

    /**
     * As {@link #read(Function)} for a {@code long} result, without boxing (the benchmark's reader).
     *
     * @param reader the function; it may run more than once and must not keep the segment
     * @return what {@code reader} returned
     * @throws IllegalStateException if this holder is closed
     */
    public long readLong(ToLongFunction<? super MemorySegment> reader) {
        while (true) {
            Mapping m = current.get(); // volatile load
            if (m == null) throw new IllegalStateException("closed");
            try {
                return reader.applyAsLong(m.segment());
            } catch (IllegalStateException closedUnderUs) {
                if (m.arena().scope().isAlive()) throw closedUnderUs; // not the arena's close: a real error
            }
        }
    }

    /**
     * Maps {@code file}, publishes it and closes the old arena (the handshake).
     *
     * @param file the new file
     * @throws IOException if it cannot be mapped (nothing changes)
     * @throws IllegalStateException if this holder is closed
     */
    public void replace(Path file) throws IOException {
        Mapping next = mapShared(file);
        Mapping old = current.getAndSet(next); // volatile RMW
        if (old == null) {
            current.set(null);
            next.arena().close();
            throw new IllegalStateException("closed");
        }
        closeTimed(old);
    }

    /**
     * Returns the total time spent in {@code Arena.close()} so far.
     *
     * @return nanoseconds
     */
    public long closeNanos() {
        return closeNanos.get(); // volatile load
    }

    /**
     * Returns how many arenas were closed.
     *
     * @return the count
     */
    public long closes() {
        return closes.get(); // volatile load
    }

    @Override
    public void close() {
        Mapping last = current.getAndSet(null); // volatile RMW
        if (last != null) closeTimed(last);
    }

    private void closeTimed(Mapping m) {
        long t0 = System.nanoTime();
        m.arena().close(); // the handshake of every thread
        closeNanos.addAndGet(System.nanoTime() - t0); // volatile RMW
        closes.incrementAndGet(); // volatile RMW
    }
}
