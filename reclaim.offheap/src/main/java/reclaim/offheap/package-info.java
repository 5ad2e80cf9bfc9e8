/**
 * Native memory from {@code malloc}, freed through a reclaimer once no reader can hold it:
 * {@link reclaim.offheap.NativeMemory}, its accounting {@link reclaim.offheap.NativeStats} (also a periodic JFR
 * event, {@code reclaim.NativeMemory}) and {@link reclaim.offheap.UseAfterFreeException}, thrown by checked mode.
 *
 * <h2>Shared accesses</h2>
 * Shared accesses follow the repository's {@code docs/memory-orderings.md}: every access to a shared field or
 * native word goes through a helper of the class that owns it, whose name states its ordering
 * ({@code stateAcquire}, {@code setStateRelease}, {@code casState}, {@code compareAndExchangeState}, ...).
 * The public accessors of {@code NativeMemory} name their ordering too:
 * {@code getLong}/{@code setLong} are plain, {@code getLongVolatile}/{@code setLongVolatile} volatile,
 * {@code load} reads with volatile semantics.
 */
package reclaim.offheap;
