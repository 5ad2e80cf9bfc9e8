/**
 * A concurrent off-heap map: keys and values in native memory, lock-free reads, a capacity in bytes. Shared
 * accesses follow the repository's {@code docs/memory-orderings.md}.
 */
package reclaim.offheap.map;
