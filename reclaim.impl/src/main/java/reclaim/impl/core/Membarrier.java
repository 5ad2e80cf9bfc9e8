package reclaim.impl.core;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * The process-wide heavy barrier of the asymmetric strategy: Linux {@code membarrier(2)} with
 * {@code MEMBARRIER_CMD_PRIVATE_EXPEDITED}, called through the FFM {@link Linker} as {@code syscall(2)}.
 *
 * <p>When {@link #run()} returns, every CPU that was running a thread of this process during the call has run a
 * full memory barrier (the kernel interrupts each of them), and threads that were not running were switched out,
 * which is a full barrier too. So for a reader that stores its announcement and then loads shared links, with no
 * fence between them, and a reclaimer that unlinks, calls {@link #run()}, then reads the announcement: either the
 * reclaimer reads the announcement, or the reader's loads see the unlink. That is exactly what a store-load fence on
 * both sides gives (Dekker's pattern), with the reader's half moved into the kernel. The same construction is
 * liburcu's {@code urcu-memb} flavour, folly's {@code asymmetric_thread_fence_heavy} and seize's
 * {@code fast-barrier} feature.
 *
 * <h2>Availability</h2>
 * {@link #unavailableReason()} is null when every condition holds, else it names the first that fails:
 * <ul>
 *   <li>Linux on x86-64 or AArch64 (the syscall numbers are 324 and 283);</li>
 *   <li>native access enabled for this module ({@code --enable-native-access=reclaim.impl}, or {@code ALL-UNNAMED}
 *       on the class path). It is checked with {@link Module#isNativeAccessEnabled()} before any restricted method
 *       runs, so that a library never makes the JDK print its restricted-method warning on a user's console;</li>
 *   <li>the kernel offers the command ({@code MEMBARRIER_CMD_QUERY}), lets this process register for it (a seccomp
 *       filter may refuse), and the first barrier succeeds.</li>
 * </ul>
 * The checks run once, when the class is first used. Whether the JIT keeps the reader's order is {@link Barrier}'s
 * check, not this class's.
 */
@SuppressWarnings("restricted") // every restricted call runs only after Module.isNativeAccessEnabled() said yes
final class Membarrier {
    private static final int CMD_QUERY = 0;
    private static final int CMD_PRIVATE_EXPEDITED = 1 << 3;
    private static final int CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;

    /** Null when the barrier is available; else why not. */
    private static final String UNAVAILABLE;
    /** {@code syscall(2)} without state capture, for the barrier itself; null when unavailable. */
    private static final MethodHandle SYSCALL;
    private static final long NR;
    /** Barriers run, for tests and diagnostics (a counter is noise beside a system call that interrupts every CPU). */
    private static final java.util.concurrent.atomic.LongAdder CALLS = new java.util.concurrent.atomic.LongAdder();

    static {
        String reason = null;
        MethodHandle fast = null;
        long nr = -1;
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux")) {
            reason = "membarrier(2) is a Linux system call, and this is " + System.getProperty("os.name");
        } else if (arch.equals("amd64") || arch.equals("x86_64")) {
            nr = 324;
        } else if (arch.equals("aarch64")) {
            nr = 283;
        } else {
            reason = "the membarrier(2) system call number is known for x86-64 and AArch64 only, and this is " + arch;
        }
        Module m = Membarrier.class.getModule();
        if (reason == null && !m.isNativeAccessEnabled()) {
            reason = "native access is not enabled for " + (m.isNamed() ? m.getName() : "the class path") + ": run java with "
                    + (m.isNamed() ? "--enable-native-access=" + m.getName() : "--enable-native-access=ALL-UNNAMED");
        }
        if (reason == null) {
            try {
                Linker linker = Linker.nativeLinker();
                MemorySegment sym = linker.defaultLookup().find("syscall").orElse(null);
                if (sym == null) {
                    reason = "the C library offers no syscall(2)";
                } else {
                    // long syscall(long number, ...): the three arguments after the number are variadic, passed as longs.
                    FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
                    StructLayout state = Linker.Option.captureStateLayout();
                    VarHandle errnoHandle = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                    MethodHandle checked = linker.downcallHandle(sym, fd, Linker.Option.firstVariadicArg(1),
                            Linker.Option.captureCallState("errno"));
                    reason = setUp(checked, state, errnoHandle, nr);
                    // The barrier itself: no state capture. Not a critical call: it takes microseconds and, on
                    // recent kernels, a mutex that may sleep under contention, and a critical call would hold off
                    // safepoints (a GC pause) meanwhile.
                    if (reason == null) fast = linker.downcallHandle(sym, fd, Linker.Option.firstVariadicArg(1));
                }
            } catch (Throwable t) { // a linker that refuses, an unexpected platform: fall back, and say why
                reason = "the system call could not be bound: " + t;
            }
        }
        UNAVAILABLE = reason;
        SYSCALL = reason == null ? fast : null;
        NR = nr;
    }

    private Membarrier() {
    }

    /** Queries, registers, and runs one barrier; returns why the barrier cannot be used, or null. */
    private static String setUp(MethodHandle checked, StructLayout state, VarHandle errnoHandle, long nr) throws Throwable {
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment st = arena.allocate(state);
            long mask = (long) checked.invokeExact(st, nr, (long) CMD_QUERY, 0L, 0L);
            if (mask < 0) return "membarrier(MEMBARRIER_CMD_QUERY) failed, errno " + (int) errnoHandle.get(st, 0L);
            if ((mask & CMD_PRIVATE_EXPEDITED) == 0 || (mask & CMD_REGISTER_PRIVATE_EXPEDITED) == 0) {
                return "the kernel does not offer MEMBARRIER_CMD_PRIVATE_EXPEDITED (query mask 0x" + Long.toHexString(mask) + ")";
            }
            long r = (long) checked.invokeExact(st, nr, (long) CMD_REGISTER_PRIVATE_EXPEDITED, 0L, 0L);
            if (r != 0) return "membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) failed, errno " + (int) errnoHandle.get(st, 0L);
            r = (long) checked.invokeExact(st, nr, (long) CMD_PRIVATE_EXPEDITED, 0L, 0L);
            if (r != 0) return "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed, errno " + (int) errnoHandle.get(st, 0L);
            return null;
        }
    }

    /**
     * Returns how many barriers this process ran.
     *
     * @return the count
     */
    static long calls() {
        return CALLS.sum();
    }

    /**
     * Returns why the heavy barrier is not available here, or null when it is.
     *
     * @return the reason, or null
     */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * Runs the process-wide barrier. Only called where {@link #unavailableReason()} is null.
     *
     * @throws IllegalStateException if the kernel refuses a barrier it accepted at registration (not expected)
     */
    static void run() {
        CALLS.increment();
        long r;
        try {
            r = (long) SYSCALL.invokeExact(NR, (long) CMD_PRIVATE_EXPEDITED, 0L, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("membarrier(2) failed", t);
        }
        if (r != 0) throw new IllegalStateException("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) returned " + r);
    }
}
