/**
 * The designs the benchmarks measure against (a slot memory manager with a tagged Treiber free list and a
 * per-slot read-write lock taken by every reader; mapped files swapped by closing a shared arena), also the
 * oracles of differential tests. Exported to {@code reclaim.jmh} only: not part of the public API. Shared
 * accesses follow the repository's {@code docs/memory-orderings.md}.
 */
package reclaim.offheap.baseline;
