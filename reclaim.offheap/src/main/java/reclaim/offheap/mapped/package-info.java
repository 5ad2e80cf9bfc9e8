/**
 * Mapped files replaced under readers and unmapped once no reader holds them.
 *
 * <p>{@link reclaim.offheap.mapped.MappedFile} maps a whole file with {@code mmap(2)} through
 * {@link java.lang.foreign.Linker} downcalls and unmaps it exactly once; {@link reclaim.offheap.mapped.MappedFileSwap}
 * swaps such mappings under readers and hands the old ones to a {@link reclaim.api.Reclaimer}, which unmaps
 * each when no guard that read it is open. It is the alternative to closing an {@code Arena.ofShared()} per
 * replaced file, which handshakes every thread (JDK-8335480, openjdk/jdk#20158), and to
 * {@code Arena.ofAuto()}, which unmaps only after a garbage collection.
 *
 * <h2>Shared accesses</h2>
 * Shared accesses follow the repository's {@code docs/memory-orderings.md}: every access to a field that
 * another thread reads or writes goes through a {@code private static final} {@link java.lang.invoke.VarHandle}
 * and a helper named for its ordering ({@code stateAcquire()}, {@code setCurrentRelease(v)},
 * {@code currentVolatile()}, {@code casState}, {@code compareAndExchangeCurrent}, {@code getAndSetCurrent}).
 * Counters are {@link java.util.concurrent.atomic.AtomicLong}s, updated with volatile read-modify-writes and
 * read with volatile loads; each such line says so in a comment.
 *
 * <h2>Native access</h2>
 * The calls are restricted methods: run with {@code --enable-native-access=reclaim.offheap} (module path) or
 * {@code --enable-native-access=ALL-UNNAMED} (class path). Without it {@link reclaim.offheap.mapped.MappedFile#map}
 * refuses with an {@link java.lang.IllegalStateException} naming the flag, before any downcall is linked.
 */
package reclaim.offheap.mapped;
