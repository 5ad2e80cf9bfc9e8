/**
 * The off-heap benchmarks (issues #6 and #7): every scheme against the JVM's own answers and against the
 * libraries users reach for today, side by side in one run.
 *
 * <ul>
 *   <li>{@link reclaim.jmh.offheap.NativeFreeBenchmark}: a 64-byte native block replaced under a reader and
 *       freed through the reclaimer ({@code NativeMemory}), against {@code Arena.ofShared()} allocate + close
 *       and {@code Arena.ofAuto()}; with a live set of 16,384 blocks it also reports the peak native memory
 *       as a multiple of the live set.</li>
 *   <li>{@link reclaim.jmh.offheap.SlotReadBenchmark}: reads of the slot memory manager
 *       ({@code SlotMemory}) against the same manager with one {@code ReentrantReadWriteLock} per slot
 *       ({@code reclaim.offheap.baseline.RwLockSlotMemory}, also the oracle of reclaim.offheap's differential test).</li>
 *   <li>{@link reclaim.jmh.offheap.OffHeapMapBenchmark}: {@code OffHeapMap} against OHC, Cassandra's off-heap
 *       cache ({@code org.caffinitas.ohc:ohc-core}), on the same keys, values and capacity.</li>
 *   <li>{@link reclaim.jmh.offheap.MappedSwapBenchmark}: a mapped file replaced under a reader with
 *       {@code MappedFileSwap} against {@code FileChannel.map} into {@code Arena.ofShared()} + close
 *       ({@code reclaim.offheap.baseline.SharedArenaSwap}).</li>
 * </ul>
 *
 * <p>Run them all (about 9 minutes): {@code ./reclaim bench 'reclaim.jmh.offheap' -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc}.
 * The forks need native access ({@code --enable-native-access=ALL-UNNAMED}) and, for OHC,
 * {@code --sun-misc-unsafe-memory-access=allow}: each benchmark's {@code @Fork} passes both.
 */
package reclaim.jmh.offheap;
