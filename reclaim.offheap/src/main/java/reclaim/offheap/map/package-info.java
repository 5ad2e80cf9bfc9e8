/** A concurrent off-heap map: keys and values in native memory, lock-free reads, a capacity in bytes. */
package reclaim.offheap.map;
