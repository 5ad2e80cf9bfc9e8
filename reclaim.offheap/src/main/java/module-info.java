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
 * ({@code --enable-native-access=reclaim.offheap}): it calls {@code malloc}, {@code free}, {@code mmap} and
 * {@code munmap} through the {@link java.lang.foreign.Linker}.
 */
@SuppressWarnings("module") // the qualified export names reclaim.jmh, which is built after this module
module reclaim.offheap {
    requires transitive reclaim.api;
    requires jdk.jfr;

    // each exports line goes in with its package's first class:
    exports reclaim.offheap;
    exports reclaim.offheap.slots;
    exports reclaim.offheap.mapped;
    exports reclaim.offheap.map;
    // the benchmark baselines (per-slot read-write locks; shared-arena mapping): not public API
    exports reclaim.offheap.baseline to reclaim.jmh;
}
