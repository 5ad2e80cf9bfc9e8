/**
 * Native memory from {@code malloc}, freed through a reclaimer once no reader can hold it:
 * {@link reclaim.offheap.NativeMemory}, its accounting {@link reclaim.offheap.NativeStats} (also a periodic JFR
 * event, {@code reclaim.NativeMemory}) and {@link reclaim.offheap.UseAfterFreeException}, thrown by checked mode.
 *
 * <h2>Naming of memory accesses</h2>
 * Inside this package every access to a shared native word goes through a helper whose name ends with its
 * ordering: {@code ...Plain} (no ordering), {@code ...Acquire} (acquire load), {@code ...Release} (release
 * store), {@code ...Volatile} (volatile load or store), {@code cas...}/{@code cae...} (volatile
 * compare-and-set / compare-and-exchange). The public accessors of {@code NativeMemory} follow the same rule:
 * {@code getLong}/{@code setLong} are plain, {@code getLongVolatile}/{@code setLongVolatile} volatile,
 * {@code load} reads with volatile semantics.
 */
package reclaim.offheap;
