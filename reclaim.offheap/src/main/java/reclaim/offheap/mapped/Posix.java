package reclaim.offheap.mapped;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The five POSIX calls a mapping needs ({@code open}, {@code lseek}, {@code mmap}, {@code close},
 * {@code munmap}), made through {@link Linker#nativeLinker()} downcalls with {@code errno} captured
 * ({@link Linker.Option#captureCallState(String...)}), so that a failure names the path and the error.
 *
 * <p>No arena scopes the mapping: the segment is a global-scope view of the address {@code mmap} returned,
 * and its lifetime is what the reclaimer says it is. The only arena here is a confined one per call, for the
 * path's C string and the captured call state; closing a confined arena is a local operation, not a
 * handshake.
 *
 * <p>Constants are those of Linux (x86-64 and AArch64 share them) and macOS; on other systems, or where the
 * symbols are missing, {@link #UNAVAILABLE} says why and every call throws
 * {@link UnsupportedOperationException}.
 */
@SuppressWarnings("restricted") // the module is granted native access; see the package documentation
final class Posix {
    private Posix() {
    }

    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x1;
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    private static final int SEEK_END = 2;
    private static final int EINTR = 4;
    private static final int ENOENT = 2;
    private static final int EACCES = 13;
    private static final int EPERM = 1;
    /** {@code EISDIR}, the same on Linux and macOS. */
    private static final int EISDIR = 21;
    /** {@code MAP_FAILED}, that is {@code (void *) -1}. */
    private static final long MAP_FAILED = -1L;

    /** Why the calls are unavailable on this system, or null when they are available. */
    static final String UNAVAILABLE;
    private static final int O_CLOEXEC;
    /** Keeps {@code open(2)} of a FIFO from blocking until a writer comes; no effect on a regular file. */
    private static final int O_NONBLOCK;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    /** {@code errno} in the captured call state; coordinates (segment, base offset). */
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle OPEN;
    private static final MethodHandle LSEEK;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle CLOSE;
    private static final MethodHandle STRERROR;

    static {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        int cloexec = 0;
        int nonblock = 0;
        String why = null;
        if (os.contains("linux")) {
            cloexec = 0x80000;          // 02000000 on x86-64 and AArch64
            nonblock = 0x800;           // 04000 on x86-64 and AArch64
        } else if (os.contains("mac") || os.contains("darwin")) {
            cloexec = 0x1000000;
            nonblock = 0x4;
        } else if (os.contains("windows")) {
            why = "mmap is a POSIX call; this system is " + System.getProperty("os.name");
        }
        MethodHandle open = null, lseek = null, mmap = null, munmap = null, close = null, strerror = null;
        if (why == null) {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                // int open(const char *path, int flags, ...): called without the variadic mode argument
                open = linker.downcallHandle(find(libc, "open"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                        errno, Linker.Option.firstVariadicArg(2));
                // off_t lseek(int fd, off_t offset, int whence)
                lseek = linker.downcallHandle(find(libc, "lseek"),
                        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT),
                        errno);
                // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
                mmap = linker.downcallHandle(find(libc, "mmap"),
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                        errno);
                // int munmap(void *addr, size_t length)
                munmap = linker.downcallHandle(find(libc, "munmap"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                        errno);
                // int close(int fd)
                close = linker.downcallHandle(find(libc, "close"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno);
                // char *strerror(int errnum): only for messages
                strerror = linker.downcallHandle(find(libc, "strerror"),
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            } catch (RuntimeException e) {
                why = "the POSIX calls could not be linked: " + e;
            }
        }
        UNAVAILABLE = why;
        O_CLOEXEC = cloexec;
        O_NONBLOCK = nonblock;
        OPEN = open;
        LSEEK = lseek;
        MMAP = mmap;
        MUNMAP = munmap;
        CLOSE = close;
        STRERROR = strerror;
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new UnsupportedOperationException("no symbol " + name));
    }

    /** A new mapping's address and length. */
    record Mapping(long address, long size) {
    }

    /**
     * Opens {@code path}, measures it, maps all of it with {@code MAP_SHARED} and closes the descriptor (the
     * mapping keeps the file). A file of size 0 is not mapped: {@code mmap} refuses a zero length, and the
     * result is address 0, size 0.
     *
     * @param path the file
     * @param writable whether to open it read-write and map it with {@code PROT_WRITE}
     * @return the mapping
     * @throws IOException naming the path, the call and {@code errno} if a call fails
     */
    static Mapping map(Path path, boolean writable) throws IOException {
        checkAvailable();
        String name = path.toString();
        if (name.indexOf('\0') >= 0) throw new IOException("the path contains a NUL character: " + name);
        // open(2) opens a directory read-only, and the mmap(2) of its lseek size then fails with ENOMEM: report
        // what open(2) reports for a directory opened to write. (A FIFO or a device gets no mapping either:
        // lseek(2) refuses a FIFO, and a device's size is 0.)
        if (Files.isDirectory(path)) throw failure("open", path, EISDIR);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(name);
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd;
            do {
                fd = (int) OPEN.invokeExact(state, cPath, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
            } while (fd < 0 && errno(state) == EINTR);
            if (fd < 0) throw failure("open", path, errno(state));
            try {
                long size = (long) LSEEK.invokeExact(state, fd, 0L, SEEK_END);
                if (size < 0) throw failure("lseek", path, errno(state));
                if (size == 0) return new Mapping(0L, 0L);
                int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
                MemorySegment at = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, size, prot,
                        MAP_SHARED, fd, 0L);
                if (at.address() == MAP_FAILED) throw failure("mmap", path, errno(state));
                return new Mapping(at.address(), size);
            } finally {
                // The mapping holds its own reference to the file: the descriptor can go at once. A failed
                // close of a descriptor only read from loses nothing; Linux must not retry it (EINTR included).
                int ignored = (int) CLOSE.invokeExact(state, fd);
                assert ignored == 0 || ignored == -1;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall failed", t);
        }
    }

    /**
     * Unmaps a mapping made by {@link #map}; does nothing for a size-0 file's empty mapping.
     *
     * @param mapping the mapping
     * @param path the file, for the message
     * @throws IOException if {@code munmap} fails
     */
    static void unmap(Mapping mapping, Path path) throws IOException {
        if (mapping.size() == 0) return;
        checkAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) MUNMAP.invokeExact(state, MemorySegment.ofAddress(mapping.address()), mapping.size());
            if (rc != 0) throw failure("munmap", path, errno(state));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall failed", t);
        }
    }

    private static void checkAvailable() {
        if (UNAVAILABLE != null) throw new UnsupportedOperationException(UNAVAILABLE);
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static IOException failure(String call, Path path, int errno) {
        String reason = call + " failed: errno " + errno + " (" + strerror(errno) + ")";
        return switch (errno) {
            case ENOENT -> new NoSuchFileException(path.toString(), null, reason);
            case EACCES, EPERM -> new AccessDeniedException(path.toString(), null, reason);
            default -> new IOException(path + ": " + reason);
        };
    }

    /**
     * Returns the C library's message for {@code errno}.
     *
     * @param errno the error number
     * @return the message, or {@code "unknown error"}
     */
    static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.equals(MemorySegment.NULL) ? "unknown error" : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "unknown error";
        }
    }
}
