package reclaim.offheap.mapped;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Files whose content a reader can check: a header (magic, index, size, checksum) and a random payload. A
 * reader that read a wrong or torn mapping fails the check; one that read an unmapped page would not return
 * at all (SIGSEGV), so a test that finishes with every check passed has read only live mappings.
 *
 * <pre>
 * offset 0   long  MAGIC
 * offset 8   int   index of the file
 * offset 12  int   size of the file in bytes (a multiple of 8)
 * offset 16  long  checksum: the sum of the longs from offset 24 to the end
 * offset 24  the payload
 * </pre>
 */
final class TestFiles {
    private TestFiles() {
    }

    static final long MAGIC = 0x5245434C41494D21L; // "RECLAIM!"
    static final int HEADER = 24;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Writes {@code count} checked files of 4 to 64 KiB into {@code dir}.
     *
     * @param dir the directory
     * @param count how many files
     * @return their paths, file {@code i} with index {@code i}
     * @throws IOException if writing fails
     */
    static List<Path> create(Path dir, int count) throws IOException {
        int[] kib = {4, 8, 16, 24, 32, 48, 64, 12};
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            files.add(write(dir.resolve("file-" + i + ".bin"), i, kib[i % kib.length] * 1024));
        }
        return files;
    }

    static Path write(Path file, int index, int size) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        SplittableRandom rnd = new SplittableRandom(index * 31L + 7);
        long sum = 0;
        for (int off = HEADER; off < size; off += 8) {
            long v = rnd.nextLong();
            b.putLong(off, v);
            sum += v;
        }
        b.putLong(0, MAGIC).putInt(8, index).putInt(12, size).putLong(16, sum);
        return Files.write(file, b.array());
    }

    /**
     * Checks a mapping of a file written by {@link #write} and returns its index.
     *
     * @param s the segment
     * @return the file's index
     * @throws AssertionError if the content is not a whole, intact test file
     */
    static int verify(MemorySegment s) {
        if (s.byteSize() < HEADER) throw new AssertionError("too small: " + s.byteSize());
        long magic = s.get(LONG, 0);
        if (magic != MAGIC) throw new AssertionError("bad magic " + Long.toHexString(magic));
        int index = s.get(INT, 8);
        int size = s.get(INT, 12);
        if (size != s.byteSize()) throw new AssertionError("size " + size + " in a segment of " + s.byteSize());
        long sum = 0;
        for (long off = HEADER; off < size; off += 8) sum += s.get(LONG, off);
        if (sum != s.get(LONG, 16)) throw new AssertionError("bad checksum in file " + index);
        return index;
    }

    /**
     * Counts the lines of {@code /proc/self/maps} that name a file under {@code dir}: the live mappings of
     * those files.
     *
     * @param dir the directory
     * @return the count, or -1 where there is no {@code /proc/self/maps}
     * @throws IOException if reading fails
     */
    static long mappingsUnder(Path dir) throws IOException {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) return -1;
        String prefix = dir.toRealPath().toString() + "/";
        try (var lines = Files.lines(maps)) {
            return lines.filter(l -> l.contains(prefix)).count();
        }
    }
}
