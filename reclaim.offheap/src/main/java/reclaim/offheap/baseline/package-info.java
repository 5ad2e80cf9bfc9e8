/**
 * The designs the benchmarks measure against (the seed's per-slot read-write-lock slot manager; mapped files
 * swapped by closing a shared arena), also the oracles of differential tests. Exported to {@code reclaim.jmh}
 * only: not part of the public API.
 */
package reclaim.offheap.baseline;
