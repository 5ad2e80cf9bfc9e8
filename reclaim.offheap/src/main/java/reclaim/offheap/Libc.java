package reclaim.offheap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The C library's allocator, bound through the {@link Linker}: {@code malloc}, {@code calloc},
 * {@code aligned_alloc} and {@code free}, with pointers and {@code size_t} passed as {@code long} (LP64).
 *
 * <p>The downcalls are critical ({@link Linker.Option#critical(boolean)}): no thread-state transition, a plain
 * call as the JDK's own {@code Unsafe.allocateMemory} makes, which suits short functions that never call back
 * into Java and do not block for long (the C library's allocator takes at most a per-arena lock held for a few
 * instructions). The functions return {@code 0} where C returns {@code NULL}; none throws but for an
 * {@link Error} of the JVM.
 */
@SuppressWarnings("restricted") // downcalls to the C library and a segment over the whole address space
final class Libc {

    /** Every address, for absolute access: offset {@code a} of this segment is address {@code a}. */
    static final MemorySegment EVERYTHING;

    /** {@code void *malloc(size_t)}. */
    private static final MethodHandle MALLOC;
    /** {@code void *calloc(size_t, size_t)}. */
    private static final MethodHandle CALLOC;
    /** {@code void *aligned_alloc(size_t alignment, size_t size)}, or null where the C library lacks it. */
    private static final MethodHandle ALIGNED_ALLOC;
    /** {@code void free(void *)}. */
    private static final MethodHandle FREE;

    static {
        if (ADDRESS.byteSize() != 8) {
            throw new ExceptionInInitializerError("reclaim.offheap needs a 64-bit platform (LP64)");
        }
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option critical = Linker.Option.critical(false);
        MALLOC = linker.downcallHandle(libc.find("malloc").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), critical);
        CALLOC = linker.downcallHandle(libc.find("calloc").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), critical);
        ALIGNED_ALLOC = libc.find("aligned_alloc")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), critical))
                .orElse(null);
        FREE = linker.downcallHandle(libc.find("free").orElseThrow(), FunctionDescriptor.ofVoid(JAVA_LONG), critical);
        EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    }

    private Libc() {
    }

    /** {@code malloc(size)}: the address, or {@code 0}. */
    static long malloc(long size) {
        try {
            return (long) MALLOC.invokeExact(size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code calloc(count, size)}: the address of zeroed memory, or {@code 0}. */
    static long calloc(long count, long size) {
        try {
            return (long) CALLOC.invokeExact(count, size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Whether the C library has {@code aligned_alloc}. */
    static boolean hasAlignedAlloc() {
        return ALIGNED_ALLOC != null;
    }

    /**
     * {@code aligned_alloc(alignment, size)}: the address, or {@code 0}.
     *
     * @throws UnsupportedOperationException if the C library has no {@code aligned_alloc}
     */
    static long alignedAlloc(long alignment, long size) {
        if (ALIGNED_ALLOC == null) throw new UnsupportedOperationException("the C library has no aligned_alloc");
        try {
            return (long) ALIGNED_ALLOC.invokeExact(alignment, size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code free(address)}. */
    static void free(long address) {
        try {
            FREE.invokeExact(address);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Unchecked throwables pass through; the downcalls declare no checked exception. */
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) throw e;
        if (t instanceof Error e) throw e;
        throw new AssertionError(t);
    }
}
