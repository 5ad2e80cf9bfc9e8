package reclaim.offheap.mapped;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reclaim.api.Reclaimer;

/** {@link MappedFile} alone: mapping, exact size, the exactly-once unmap, and the errors. */
class MappedFileTest {

    @TempDir
    Path dir;

    @Test
    void mapsTheWholeFileAtItsExactSize() throws IOException {
        Path f = TestFiles.write(dir.resolve("a.bin"), 3, 8192);
        long mappedBefore = MappedFile.totalMapped();
        long unmappedBefore = MappedFile.totalUnmapped();
        MappedFile m = MappedFile.map(f, MappedFile.Mode.READ_ONLY, 5);
        assertEquals(mappedBefore + 1, MappedFile.totalMapped());
        assertEquals(f, m.path());
        assertEquals(8192, m.size());
        assertEquals(5, m.birthEra());
        assertTrue(m.isMapped());
        MemorySegment s = m.segment();
        assertEquals(8192, s.byteSize());
        assertEquals(m.address(), s.address());
        assertTrue(s.isReadOnly());
        assertEquals(3, TestFiles.verify(s));
        assertArrayEquals(Files.readAllBytes(f), s.toArray(ValueLayout.JAVA_BYTE));
        assertThrows(IndexOutOfBoundsException.class, () -> s.get(ValueLayout.JAVA_BYTE, 8192));
        assertThrows(IllegalArgumentException.class, () -> s.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        assertEquals(1, TestFiles.mappingsUnder(dir));

        m.unmap();
        assertFalse(m.isMapped());
        assertEquals(unmappedBefore + 1, MappedFile.totalUnmapped());
        assertEquals(0, TestFiles.mappingsUnder(dir));
        assertThrows(IllegalStateException.class, m::segment);
        IllegalStateException twice = assertThrows(IllegalStateException.class, m::unmap);
        assertTrue(twice.getMessage().contains(f.toString()), twice.getMessage());
        assertEquals(unmappedBefore + 1, MappedFile.totalUnmapped(), "the second unmap counts nothing");
    }

    @Test
    void stampsTheReclaimersEra() throws IOException {
        Path f = TestFiles.write(dir.resolve("a.bin"), 0, 4096);
        try (Reclaimer r = Reclaimer.create("ebr")) {
            MappedFile m = MappedFile.map(f, r);
            assertTrue(m.birthEra() >= 1 && m.birthEra() <= r.era(), m.toString());
            assertEquals(MappedFile.Mode.READ_ONLY, m.mode());
            m.unmap();
        }
    }

    @Test
    void aMissingFileIsNoSuchFileExceptionNamingThePathAndErrno() {
        Path missing = dir.resolve("missing.bin");
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> MappedFile.map(missing, MappedFile.Mode.READ_ONLY, 0));
        assertEquals(missing.toString(), e.getFile());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("open failed: errno 2"), e.getMessage());
        assertTrue(e.getMessage().contains("No such file"), e.getMessage());
    }

    @Test
    void aDirectoryIsRefusedAsOpenRefusesIt() throws IOException {
        for (MappedFile.Mode mode : MappedFile.Mode.values()) {
            IOException e = assertThrows(IOException.class, () -> MappedFile.map(dir, mode, 0));
            assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("open failed: errno 21"), mode + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("directory"), e.getMessage());
        }
        assertTrue(TestFiles.mappingsUnder(dir) <= 0, "nothing left mapped");
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a blocked open(2) ignores interrupts
    void aFifoIsRefusedWithoutWaitingForAWriter() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assumeTrue(mk.waitFor() == 0, "mkfifo is not available");
        // Without O_NONBLOCK, open(2) of a FIFO waits for a writer: this call would never return.
        IOException e = assertThrows(IOException.class, () -> MappedFile.map(fifo, MappedFile.Mode.READ_ONLY, 0));
        assertTrue(e.getMessage().contains(fifo.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("lseek failed"), e.getMessage());
    }

    @Test
    void anEmptyFileIsAnEmptyMappingUnmappedOnce() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.bin"));
        long unmappedBefore = MappedFile.totalUnmapped();
        MappedFile m = MappedFile.map(empty, MappedFile.Mode.READ_ONLY, 0);
        assertEquals(0, m.size());
        assertEquals(0, m.segment().byteSize());
        assertEquals(0, m.address());
        assertEquals(0, TestFiles.mappingsUnder(dir), "no native mapping for an empty file");
        m.unmap();
        assertEquals(unmappedBefore + 1, MappedFile.totalUnmapped());
        assertThrows(IllegalStateException.class, m::unmap);
    }

    @Test
    void readWriteMappingsWriteTheFile() throws IOException {
        Path f = TestFiles.write(dir.resolve("rw.bin"), 1, 4096);
        MappedFile m = MappedFile.map(f, MappedFile.Mode.READ_WRITE, 0);
        MemorySegment s = m.segment();
        assertFalse(s.isReadOnly());
        s.set(ValueLayout.JAVA_LONG_UNALIGNED, 100, 0x1122334455667788L);
        m.unmap();
        MemorySegment back = MemorySegment.ofArray(Files.readAllBytes(f));
        assertEquals(0x1122334455667788L, back.get(ValueLayout.JAVA_LONG_UNALIGNED, 100));
    }

    @Test
    void nullsAndBadErasAreRefused() {
        Path f = dir.resolve("x");
        assertThrows(NullPointerException.class, () -> MappedFile.map(null, MappedFile.Mode.READ_ONLY, 0));
        assertThrows(NullPointerException.class, () -> MappedFile.map(f, null, 0));
        assertThrows(IllegalArgumentException.class, () -> MappedFile.map(f, MappedFile.Mode.READ_ONLY, -1));
        assertThrows(NullPointerException.class, () -> MappedFile.map(f, (Reclaimer) null));
    }
}
