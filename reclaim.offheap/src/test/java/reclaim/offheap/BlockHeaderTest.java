package reclaim.offheap;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The header's layout arithmetic, the encoding of its state word, and the accesses to its two words. */
class BlockHeaderTest {

    @Test
    void stateWordRoundTripsStateAlignmentAndSize() {
        for (long alignment = 1; alignment <= NativeMemory.MAX_ALIGNMENT; alignment <<= 1) {
            for (long size : new long[] {0, 1, 15, 16, 4096, BlockHeader.MAX_SIZE}) {
                long w = BlockHeader.word(BlockHeader.LIVE, alignment, size);
                assertTrue(BlockHeader.hasMagic(w));
                assertEquals(BlockHeader.LIVE, BlockHeader.state(w));
                assertEquals(size, BlockHeader.size(w));
                for (int s : new int[] {BlockHeader.RETIRED, BlockHeader.FREED, BlockHeader.LIVE}) {
                    long moved = BlockHeader.withState(w, s);
                    assertEquals(s, BlockHeader.state(moved));
                    assertEquals(size, BlockHeader.size(moved), "only the state bits change");
                    assertEquals(w, BlockHeader.withState(moved, BlockHeader.LIVE));
                }
            }
        }
    }

    @Test
    void wordsWithoutTheMagicAreNoHeader() {
        assertFalse(BlockHeader.hasMagic(0));
        assertEquals(0, BlockHeader.state(0));
        assertFalse(BlockHeader.hasMagic(NativeMemory.POISON));
    }

    @Test
    void layoutKeepsTheHeaderRightBeforeThePayload() {
        // up to 16: malloc(16 + size), payload 16 bytes in
        assertEquals(16, BlockHeader.payloadOffset(1));
        assertEquals(16, BlockHeader.payloadOffset(16));
        assertEquals(16 + 5, BlockHeader.totalSize(5, 8));
        // larger: aligned_alloc(A, A + roundUp(size, A)), payload A bytes in
        assertEquals(64, BlockHeader.payloadOffset(64));
        assertEquals(64 + 128, BlockHeader.totalSize(65, 64));
        assertEquals(64, BlockHeader.totalSize(0, 64));
        long block = 1L << 20;
        assertEquals(block - 16, BlockHeader.base(block, BlockHeader.word(BlockHeader.LIVE, 8, 5)));
        assertEquals(block - 64, BlockHeader.base(block, BlockHeader.word(BlockHeader.LIVE, 64, 5)));
    }

    @Test
    void accessesReadAndWriteTheTwoWordsBeforeTheBlock() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(64, 16);
            long block = s.address() + 16;
            long w = BlockHeader.word(BlockHeader.LIVE, 8, 40);
            BlockHeader.setEraPlain(block, 42);
            BlockHeader.setStateRelease(block, w);
            assertEquals(w, s.get(JAVA_LONG, 0), "word 0 at block - 16");
            assertEquals(42, s.get(JAVA_LONG, 8), "word 1 at block - 8");
            assertEquals(w, BlockHeader.stateAcquire(block));
            assertEquals(42, BlockHeader.eraPlain(block));
            long retired = BlockHeader.withState(w, BlockHeader.RETIRED);
            assertTrue(BlockHeader.casState(block, w, retired));
            assertFalse(BlockHeader.casState(block, w, retired), "the witness moved");
            assertEquals(retired, BlockHeader.compareAndExchangeState(block, w, 0), "fails and returns the witness");
            assertEquals(retired, BlockHeader.compareAndExchangeState(block, retired, w));
            assertEquals(w, BlockHeader.stateAcquire(block));
        }
    }
}
