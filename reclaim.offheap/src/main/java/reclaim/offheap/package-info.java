/** Native memory from {@code malloc}, freed through a reclaimer once no reader can hold it. */
package reclaim.offheap;
