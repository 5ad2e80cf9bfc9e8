/** Mapped files replaced under readers and unmapped once no reader holds them. */
package reclaim.offheap.mapped;
