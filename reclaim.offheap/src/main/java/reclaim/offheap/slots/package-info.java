/**
 * The slot memory manager: {@link reclaim.offheap.slots.SlotMemory}, fixed-capacity off-heap slots with a
 * lock-free tagged free list, generation-checked {@code long} handles, lock-free guarded reads
 * ({@link reclaim.offheap.slots.SlotRead}), exclusive in-place writes under a per-slot sequence lock
 * ({@link reclaim.offheap.slots.SlotWrite}) and copy-on-write replacement; a freed slot is reused only once
 * the manager's {@link reclaim.api.Reclaimer} says no reader can hold it.
 *
 * <h2>Naming of shared accesses</h2>
 * Every access to memory that more than one thread touches says its ordering, in a helper's name or in a
 * comment beside the access (JCTools' names):
 * <ul>
 *   <li>{@code lp} / {@code sp}: plain load / store, used only where a happens-before edge named beside it
 *       orders it (a release store that publishes it, the reclaimer's edge from retire to reclaim action);</li>
 *   <li>{@code lo} / {@code so}: opaque load / ordered (release) store;</li>
 *   <li>{@code la}: acquire load; {@code lv} / {@code sv}: volatile load / store; {@code cas}: volatile
 *       compare-and-set.</li>
 * </ul>
 * Payload bytes are read and written plainly: a store's payload is published by the release store of the
 * slot's generation, an in-place write's by the release store of its sequence, and readers that race with an
 * in-place writer learn it from the sequence ({@link reclaim.offheap.slots.SlotRead#validate()}).
 */
package reclaim.offheap.slots;
