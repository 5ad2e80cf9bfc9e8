package reclaim.offheap;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import reclaim.api.Reclaimer;
import reclaim.offheap.map.OffHeapMap;
import reclaim.offheap.map.Serializer;
import reclaim.offheap.mapped.MappedFile;

/**
 * The child JVM of {@link NativeAccessTest}, run on the class path. Prints one line per entry point: the
 * refusal ({@code refused: <message>}) or {@code ok}, then {@code jfr=<Jfr.AVAILABLE>}. Any other throwable
 * escapes (and fails the test through the exit status and the output).
 */
public final class NativeAccessChild {
    private NativeAccessChild() {
    }

    public static void main(String[] args) throws Exception {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            attempt("NativeMemory", () -> {
                try (NativeMemory mem = NativeMemory.create(r)) {
                    MemorySegment s = mem.allocate(16, 8);
                    s.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 42L);
                    mem.retire(s);
                    r.flush();
                }
            });
            attempt("OffHeapMap", () -> {
                try (OffHeapMap<String, String> map = OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8()).build()) {
                    map.put("k", "v");
                    if (!"v".equals(map.get("k"))) throw new AssertionError("map lost its value");
                }
            });
            Path file = Files.createTempFile("reclaim-native-access", ".bin");
            try {
                Files.write(file, new byte[] {1, 2, 3});
                attempt("MappedFile", () -> {
                    MappedFile f = MappedFile.map(file, r);
                    if (f.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 2) != 3) throw new AssertionError("bad byte");
                    f.unmap();
                });
            } finally {
                Files.delete(file);
            }
        }
        System.out.println("jfr=" + Jfr.AVAILABLE);
    }

    private interface Body {
        void run() throws Exception;
    }

    private static void attempt(String what, Body body) throws Exception {
        try {
            body.run();
            System.out.println(what + ": ok");
        } catch (IllegalStateException e) {
            System.out.println(what + ": refused: " + e.getMessage());
        }
    }
}
