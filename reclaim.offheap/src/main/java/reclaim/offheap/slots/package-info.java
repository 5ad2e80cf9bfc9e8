/**
 * The slot memory manager: {@link reclaim.offheap.slots.SlotMemory}, fixed-capacity off-heap slots with a
 * lock-free tagged free list, generation-checked {@code long} handles, lock-free guarded reads
 * ({@link reclaim.offheap.slots.SlotRead}), exclusive in-place writes under a per-slot sequence lock
 * ({@link reclaim.offheap.slots.SlotWrite}) and copy-on-write replacement; a freed slot is reused only once
 * the manager's {@link reclaim.api.Reclaimer} says no reader can hold it.
 *
 * <h2>Shared accesses</h2>
 * Shared accesses follow the repository's {@code docs/memory-orderings.md}: every access to memory that more
 * than one thread touches goes through a helper of the class that owns it, named for its ordering
 * ({@code sequenceAcquire}, {@code setGenerationRelease}, {@code casHead}, ...).
 * Payload bytes are read and written plainly: a store's payload is published by the release store of the
 * slot's generation, an in-place write's by the release store of its sequence, and readers that race with an
 * in-place writer learn it from the sequence ({@link reclaim.offheap.slots.SlotRead#validate()}).
 */
package reclaim.offheap.slots;
