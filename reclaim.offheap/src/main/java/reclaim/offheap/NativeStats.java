package reclaim.offheap;

/**
 * A snapshot of a {@link NativeMemory}'s accounting.
 *
 * <p>Bytes are the sizes asked for ({@code byteSize}), not counting the hidden header or the C library's
 * overhead. While threads run, the counters are read without stopping them: each is exact at some instant, not
 * all at the same one, and the differences ({@code live}, {@code pending}) are clamped at zero. Once the
 * allocator and its reclaimer are quiescent the figures are exact, and after every block has been retired or
 * freed and the reclaimer closed: {@code freedBlocks() == allocatedBlocks()} and {@code liveBytes() == 0}.
 *
 * @param scheme the short name of the reclaimer's scheme
 * @param checked whether the allocator runs in checked mode
 * @param allocatedBlocks blocks handed out by {@code allocate} so far
 * @param allocatedBytes bytes handed out by {@code allocate} so far
 * @param retiredBlocks blocks handed to {@code retire} so far
 * @param retiredBytes bytes handed to {@code retire} so far
 * @param freedBlocks blocks freed so far, by a retire action or by {@code free}; in checked mode this includes
 *     the blocks held in quarantine
 * @param freedBytes bytes freed so far (as {@code freedBlocks})
 * @param pendingBlocks blocks retired whose retire action has not yet run
 * @param pendingBytes bytes retired whose retire action has not yet run
 * @param quarantinedBlocks blocks freed in checked mode and held back, poisoned, not yet returned to the C
 *     library
 * @param quarantinedBytes bytes held in quarantine
 * @param useAfterFree uses of freed blocks detected so far, each of which threw {@link UseAfterFreeException}: a
 *     read, a {@code retire} or a {@code free} of a block already freed. A second retire of a block still retired,
 *     or a free of one, throws {@link IllegalStateException} and is not counted here.
 */
public record NativeStats(String scheme, boolean checked,
                          long allocatedBlocks, long allocatedBytes,
                          long retiredBlocks, long retiredBytes,
                          long freedBlocks, long freedBytes,
                          long pendingBlocks, long pendingBytes,
                          long quarantinedBlocks, long quarantinedBytes,
                          long useAfterFree) {

    /**
     * Checks the arguments.
     *
     * @throws NullPointerException if {@code scheme} is null
     * @throws IllegalArgumentException if a figure is negative
     */
    public NativeStats {
        if (scheme == null) throw new NullPointerException("scheme");
        if ((allocatedBlocks | allocatedBytes | retiredBlocks | retiredBytes | freedBlocks | freedBytes
                | pendingBlocks | pendingBytes | quarantinedBlocks | quarantinedBytes | useAfterFree) < 0) {
            throw new IllegalArgumentException("negative figure in native stats: " + figures(allocatedBlocks,
                    allocatedBytes, retiredBlocks, retiredBytes, freedBlocks, freedBytes, pendingBlocks,
                    pendingBytes, quarantinedBlocks, quarantinedBytes, useAfterFree));
        }
    }

    private static String figures(long... f) {
        return java.util.Arrays.toString(f);
    }

    /**
     * Returns the blocks allocated and not yet freed (live and pending ones).
     *
     * @return {@code allocatedBlocks() - freedBlocks()}, never negative
     */
    public long liveBlocks() {
        return Math.max(0, allocatedBlocks - freedBlocks);
    }

    /**
     * Returns the bytes allocated and not yet freed (live and pending ones).
     *
     * @return {@code allocatedBytes() - freedBytes()}, never negative
     */
    public long liveBytes() {
        return Math.max(0, allocatedBytes - freedBytes);
    }
}
