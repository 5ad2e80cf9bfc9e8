/**
 * Native memory freed once no reader can hold it.
 *
 * <h2>What it is for</h2>
 * Off-heap memory is where reclamation matters most on the JVM: the garbage collector does not free it, and
 * the JVM's own answers cost a handshake of every thread ({@code Arena.ofShared().close()}), a wait for the
 * collector ({@code Arena.ofAuto()}), or a reference count on every read. Here a block retired to a
 * {@link reclaim.api.Reclaimer} is freed when the reclaimer says no guard can still read it, at the cost of a
 * guard.
 *
 * <h2>What it exports</h2>
 * <ul>
 *   <li>{@code reclaim.offheap}: native memory from {@code malloc}, freed through the reclaimer, with
 *       accounting and a checked mode that catches use-after-free.</li>
 *   <li>{@code reclaim.offheap.slots}: the slot memory manager (fixed capacity, lock-free free list,
 *       generation-checked handles, lock-free reads).</li>
 *   <li>{@code reclaim.offheap.mapped}: mapped files swapped under readers and unmapped once none holds
 *       them.</li>
 *   <li>{@code reclaim.offheap.map}: a concurrent off-heap map (keys and values in native memory) with
 *       lock-free reads and a capacity bound in bytes.</li>
 * </ul>
 *
 * <h2>How a client uses it</h2>
 * A client {@code requires reclaim.offheap} (which reads {@code reclaim.api} for it), puts an implementation
 * such as {@code reclaim.impl} on the module path, and grants native access to this module
 * ({@code --enable-native-access=reclaim.offheap}; on the class path {@code --enable-native-access=ALL-UNNAMED}):
 * it calls {@code malloc}, {@code free}, {@code mmap} and {@code munmap} through the
 * {@link java.lang.foreign.Linker}. Without it, {@code NativeMemory.create}, {@code MappedFile.map} and
 * {@code OffHeapMap.Builder.build} refuse with an {@link java.lang.IllegalStateException} that names the flag,
 * before any restricted method runs.
 *
 * <h2>JFR</h2>
 * {@code jdk.jfr} is optional ({@code requires static}): where the runtime has it and the module graph
 * resolves it (always on the class path; on the module path when another module requires it,
 * {@code --add-modules jdk.jfr}, or a recording started with {@code -XX:StartFlightRecording}), every
 * {@code NativeMemory} reports the periodic event {@code reclaim.NativeMemory}; where it has not, the event is
 * simply not registered.
 */
@SuppressWarnings("module") // the qualified export names reclaim.jmh, which is built after this module
module reclaim.offheap {
    requires transitive reclaim.api;
    requires static jdk.jfr; // optional: the JFR event is registered only where the runtime has it

    // each exports line goes in with its package's first class:
    exports reclaim.offheap;
    exports reclaim.offheap.slots;
    exports reclaim.offheap.mapped;
    exports reclaim.offheap.map;
    // the benchmark baselines (per-slot read-write locks; shared-arena mapping): not public API
    exports reclaim.offheap.baseline to reclaim.jmh;
}
