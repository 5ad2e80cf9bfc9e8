package reclaim.offheap;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** Checked mode's quarantine on its own: the poison pattern, the weight limit, and close. */
class QuarantineTest {

    /** A block from the C library with a FREED header, as NativeMemory hands one to the quarantine. */
    private static long freedBlock(long size) {
        long base = Libc.malloc(BlockHeader.totalSize(size, 8));
        assertNotEquals(0, base);
        long block = base + BlockHeader.payloadOffset(8);
        BlockHeader.setStateRelease(block, BlockHeader.word(BlockHeader.FREED, 8, size));
        return block;
    }

    @Test
    void poisonRepeatsThePatternOverEveryByte() {
        try (Arena arena = Arena.ofConfined()) {
            for (int size = 0; size <= 41; size++) {
                MemorySegment s = arena.allocate(size + 8, 8);
                s.fill((byte) 0x11);
                Quarantine.poison(s.address(), size);
                MemorySegment pattern = arena.allocate(JAVA_LONG);
                pattern.set(JAVA_LONG, 0, NativeMemory.POISON);
                for (int i = 0; i < size; i++) {
                    assertEquals(pattern.get(JAVA_BYTE, i % 8), s.get(JAVA_BYTE, i), "size " + size + ", byte " + i);
                }
                for (int i = size; i < size + 8; i++) assertEquals((byte) 0x11, s.get(JAVA_BYTE, i), "past the end");
                if (size >= 8) assertEquals(NativeMemory.POISON, s.get(JAVA_LONG, 0));
            }
        }
    }

    @Test
    void holdsBlocksUpToTheLimitThenReturnsTheOldest() {
        long weight = 32 + BlockHeader.SIZE;
        Quarantine q = new Quarantine(2 * weight);
        q.hold(freedBlock(32), 32);
        q.hold(freedBlock(32), 32);
        assertEquals(2, q.blocks());
        assertEquals(64, q.bytes());
        q.hold(freedBlock(32), 32); // over the limit: the oldest leaves
        assertEquals(2, q.blocks());
        assertEquals(64, q.bytes());
        q.close();
        assertEquals(0, q.blocks());
        assertEquals(0, q.bytes());
    }

    @Test
    void aBlockHeavierThanTheLimitStaysUntilTheNextOneComes() {
        long weight = 32 + BlockHeader.SIZE;
        Quarantine q = new Quarantine(weight);
        q.hold(freedBlock(32), 32);
        q.hold(freedBlock(4096), 4096); // alone over the limit: the older one leaves, this one stays
        assertEquals(1, q.blocks());
        assertEquals(4096, q.bytes());
        q.hold(freedBlock(32), 32); // the next one pushes it out
        assertEquals(1, q.blocks());
        assertEquals(32, q.bytes());
        q.close();
        assertEquals(0, q.blocks());
        Quarantine none = new Quarantine(0); // a limit of 0 holds nothing, whatever the size
        none.hold(freedBlock(4096), 4096);
        assertEquals(0, none.blocks());
        none.close();
    }

    @Test
    void zeroSizeBlocksWeighTheirHeader() {
        Quarantine q = new Quarantine(BlockHeader.SIZE);
        q.hold(freedBlock(0), 0);
        assertEquals(1, q.blocks());
        q.hold(freedBlock(0), 0);
        assertEquals(1, q.blocks(), "two headers exceed the limit of one");
        q.close();
        assertEquals(0, q.blocks());
    }

    @Test
    void aClosedQuarantineReturnsEachBlockAtOnce() {
        Quarantine q = new Quarantine(1L << 20);
        q.close();
        q.hold(freedBlock(24), 24);
        assertEquals(0, q.blocks());
        assertEquals(0, q.bytes());
    }
}
