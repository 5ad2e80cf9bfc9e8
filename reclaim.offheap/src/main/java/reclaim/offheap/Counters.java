package reclaim.offheap;

import java.util.concurrent.atomic.LongAdder;

/**
 * The accounting of one {@link NativeMemory}: blocks and bytes allocated, retired, reclaimed (freed by a retire
 * action) and freed directly ({@code free}), and the use-after-free detections. Each figure is a
 * {@link LongAdder}: updates are lock-free and spread over cells under contention, and a sum is exact once
 * the updates it should count happen-before it.
 */
final class Counters {

    private final LongAdder allocatedBlocks = new LongAdder();
    private final LongAdder allocatedBytes = new LongAdder();
    private final LongAdder retiredBlocks = new LongAdder();
    private final LongAdder retiredBytes = new LongAdder();
    private final LongAdder reclaimedBlocks = new LongAdder();
    private final LongAdder reclaimedBytes = new LongAdder();
    private final LongAdder freedBlocks = new LongAdder();
    private final LongAdder freedBytes = new LongAdder();
    private final LongAdder useAfterFree = new LongAdder();

    void allocated(long size) {
        allocatedBlocks.increment();
        allocatedBytes.add(size);
    }

    /** Counts {@code blocks} retired blocks of {@code size} bytes in all; negative to undo a retire. */
    void retired(long blocks, long size) {
        retiredBlocks.add(blocks);
        retiredBytes.add(size);
    }

    void reclaimed(long size) {
        reclaimedBlocks.increment();
        reclaimedBytes.add(size);
    }

    void freed(long size) {
        freedBlocks.increment();
        freedBytes.add(size);
    }

    void useAfterFree() {
        useAfterFree.increment();
    }

    /**
     * A snapshot of the figures. Each difference reads its subtrahend first: the counters only grow (but for
     * retire's undo), and a block is counted in the minuend before the subtrahend, so the differences stay
     * {@code >= 0} up to the sums' non-atomic reads. The freed figures are freed directly plus reclaimed.
     */
    NativeStats stats(String scheme, boolean checked, Quarantine quarantine) {
        long recBlocks = reclaimedBlocks.sum();
        long recBytes = reclaimedBytes.sum();
        long fBlocks = recBlocks + freedBlocks.sum();
        long fBytes = recBytes + freedBytes.sum();
        long rBlocks = retiredBlocks.sum();
        long rBytes = retiredBytes.sum();
        long aBlocks = allocatedBlocks.sum();
        long aBytes = allocatedBytes.sum();
        long qBlocks = quarantine.blocks();
        long qBytes = quarantine.bytes();
        return new NativeStats(scheme, checked, aBlocks, aBytes, rBlocks, rBytes, fBlocks, fBytes,
                Math.max(0, rBlocks - recBlocks), Math.max(0, rBytes - recBytes),
                Math.max(0, qBlocks), Math.max(0, qBytes), useAfterFree.sum());
    }
}
