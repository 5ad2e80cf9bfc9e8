/** The slot memory manager: fixed-capacity off-heap slots with lock-free reads and generation-checked handles. */
package reclaim.offheap.slots;
