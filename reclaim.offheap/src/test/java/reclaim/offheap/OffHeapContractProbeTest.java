package reclaim.offheap;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.offheap.ForeignGuards.withForeignGuard;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;
import reclaim.offheap.map.OffHeapMap;
import reclaim.offheap.map.Serializer;
import reclaim.offheap.mapped.MappedFile;
import reclaim.offheap.mapped.MappedFileSwap;

/**
 * The documented contract of {@link NativeMemory}, {@link OffHeapMap}, {@link MappedFile} and
 * {@link MappedFileSwap}, probed from outside with the public API only, under every scheme where it applies:
 * the exceptions promised for misuse (closed guards, another thread's guard, nulls, closed objects), what keeps
 * working after close, and that every block and mapping is released exactly once.
 */
class OffHeapContractProbeTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    /** Schemes whose flush() reclaims everything retired when no guard is open ("none" reclaims only at close). */
    static Stream<String> reclaimingSchemes() {
        return schemes().filter(s -> !s.equals("none"));
    }

    /** A guard of {@code r} already closed. */
    private static Guard closedGuard(Reclaimer r) {
        Guard g = r.enter();
        g.close();
        return g;
    }

    /** Runs each probe and returns the names of those that did not throw {@code type} (and what they did). */
    private static List<String> notThrowing(Class<? extends Throwable> type, Map<String, Executable> probes) {
        List<String> wrong = new ArrayList<>();
        probes.forEach((name, probe) -> {
            try {
                probe.execute();
                wrong.add(name + ": returned normally");
            } catch (Throwable t) {
                if (!type.isInstance(t)) wrong.add(name + ": threw " + t);
            }
        });
        return wrong;
    }

    // ------------------------------------------------------------------------------------------------
    // NativeMemory

    /**
     * NativeMemory.retire(Guard, MemorySegment): "@throws NullPointerException if {@code guard} or {@code block}
     * is null". A null guard must not silently retire the block outside any guard.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void retireWithANullGuardIsRefusedAndLeavesTheBlockLive(String scheme) {
        try (Reclaimer r = Reclaimer.create(scheme); NativeMemory m = NativeMemory.create(r)) {
            MemorySegment block = m.allocate(16, 8);
            Map<String, Executable> ops = new LinkedHashMap<>();
            ops.put("retire(null, segment)", () -> m.retire((Guard) null, block));
            ops.put("retire(null, address)", () -> m.retire((Guard) null, block.address()));
            List<String> wrong = notThrowing(NullPointerException.class, ops);
            NativeStats s = m.stats();
            if (s.retiredBlocks() == 0) m.free(block); // still live: free accepts it
            assertTrue(wrong.isEmpty(), scheme + ": " + wrong + "; " + s);
            assertEquals(0, s.retiredBlocks(), "a refused retire retires nothing");
        }
    }

    /**
     * NativeMemory.retire(Guard, ...): "@throws IllegalStateException if ... the guard is closed or belongs to
     * another thread"; the block is not retired then (it stays live and can be freed), and nothing is counted.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void retireThroughAClosedOrForeignGuardIsRefusedAndLeavesTheBlockLive(String scheme) throws Exception {
        try (Reclaimer r = Reclaimer.create(scheme); NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            MemorySegment block = m.allocate(32, 16);
            long address = m.allocateAddress(32, 16);
            Guard closed = closedGuard(r);
            assertThrows(IllegalStateException.class, () -> m.retire(closed, block));
            assertThrows(IllegalStateException.class, () -> m.retire(closed, address));
            withForeignGuard(r, foreign -> {
                assertThrows(IllegalStateException.class, () -> m.retire(foreign, block));
                assertThrows(IllegalStateException.class, () -> m.retire(foreign, address));
            });
            NativeStats s = m.stats();
            assertEquals(0, s.retiredBlocks(), s.toString());
            assertEquals(0, s.pendingBlocks(), s.toString());
            assertEquals(0, s.useAfterFree(), s.toString());
            m.free(block);
            m.free(address);
            assertEquals(0, m.stats().liveBlocks());
        }
    }

    /**
     * NativeMemory.load (both overloads): "@throws IllegalArgumentException if {@code slot} is out of range";
     * "@throws IllegalStateException if the guard is closed or used from another thread".
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void loadRefusesAClosedGuardAForeignGuardAndASlotOutOfRange(String scheme) throws Exception {
        try (Reclaimer r = Reclaimer.create(scheme);
             NativeMemory m = NativeMemory.create(r);
             Arena arena = Arena.ofConfined()) {
            MemorySegment node = m.allocate(16, 8);
            MemorySegment holder = m.allocate(8, 8);
            holder.set(JAVA_LONG, 0, node.address());
            MemorySegment heapHolder = arena.allocate(JAVA_LONG);
            heapHolder.set(JAVA_LONG, 0, node.address());
            Guard closed = closedGuard(r);
            Map<String, Executable> ise = new LinkedHashMap<>();
            ise.put("load(closed, segment)", () -> m.load(closed, heapHolder, 0, 0));
            ise.put("load(closed, address)", () -> m.load(closed, holder.address(), 0, 0));
            List<String> wrong = new ArrayList<>(notThrowing(IllegalStateException.class, ise));
            withForeignGuard(r, foreign -> {
                Map<String, Executable> f = new LinkedHashMap<>();
                f.put("load(foreign, segment)", () -> m.load(foreign, heapHolder, 0, 0));
                f.put("load(foreign, address)", () -> m.load(foreign, holder.address(), 0, 0));
                wrong.addAll(notThrowing(IllegalStateException.class, f));
            });
            try (Guard g = r.enter()) {
                Map<String, Executable> iae = new LinkedHashMap<>();
                iae.put("load(segment, slot -1)", () -> m.load(g, heapHolder, 0, -1));
                iae.put("load(address, slot -1)", () -> m.load(g, holder.address(), 0, -1));
                // slots() is out of range even where it is Integer.MAX_VALUE (schemes without per-pointer slots)
                iae.put("load(segment, slot slots())", () -> m.load(g, heapHolder, 0, g.slots()));
                iae.put("load(address, slot slots())", () -> m.load(g, holder.address(), 0, g.slots()));
                wrong.addAll(notThrowing(IllegalArgumentException.class, iae));
                assertEquals(node.address(), m.load(g, heapHolder, 0, 0), "a good load still works");
            }
            assertTrue(wrong.isEmpty(), scheme + ": " + wrong);
            m.free(node);
            m.free(holder);
        }
    }

    /**
     * "Unchecked mode checks no bound and no state on accessors ... It still refuses address {@code 0} and
     * misaligned accesses" (NullPointerException, IllegalArgumentException); load of a segment holder refuses an
     * offset outside it (IndexOutOfBoundsException) and a misaligned one (IllegalArgumentException).
     */
    @ParameterizedTest(name = "checked={0}")
    @ValueSource(booleans = {false, true})
    void accessorsRefuseAddressZeroAndMisalignmentInBothModes(boolean checked) {
        try (Reclaimer r = Reclaimer.create("ebr");
             NativeMemory m = NativeMemory.builder(r).checked(checked).build();
             Guard g = r.enter()) {
            long b = m.allocateAddress(32, 16);
            MemorySegment holder = m.allocate(16, 16);
            Map<String, Executable> npe = new LinkedHashMap<>();
            npe.put("getLong(0)", () -> m.getLong(0, 0));
            npe.put("getLongVolatile(0)", () -> m.getLongVolatile(0, 0));
            npe.put("setLong(0)", () -> m.setLong(0, 0, 1));
            npe.put("setLongVolatile(0)", () -> m.setLongVolatile(0, 0, 1));
            npe.put("compareAndSetLong(0)", () -> m.compareAndSetLong(0, 0, 0, 1));
            npe.put("load(address 0)", () -> m.load(g, 0L, 0, 0));
            npe.put("segment(0)", () -> m.segment(0));
            npe.put("retire(0)", () -> m.retire(0L));
            npe.put("free(0)", () -> m.free(0L));
            npe.put("load(null holder)", () -> m.load(g, (MemorySegment) null, 0, 0));
            npe.put("load(null guard)", () -> m.load(null, holder, 0, 0));
            Map<String, Executable> iae = new LinkedHashMap<>();
            iae.put("getLong(+4)", () -> m.getLong(b, 4));
            iae.put("getLongVolatile(+4)", () -> m.getLongVolatile(b, 4));
            iae.put("setLong(+4)", () -> m.setLong(b, 4, 1));
            iae.put("setLongVolatile(+4)", () -> m.setLongVolatile(b, 4, 1));
            iae.put("compareAndSetLong(+4)", () -> m.compareAndSetLong(b, 4, 0, 1));
            iae.put("load(address, +4)", () -> m.load(g, b, 4, 0));
            iae.put("load(segment, +4)", () -> m.load(g, holder, 4, 0));
            iae.put("segment(b + 8)", () -> m.segment(b + 8));
            Map<String, Executable> ioobe = new LinkedHashMap<>();
            ioobe.put("load(segment, offset 16)", () -> m.load(g, holder, 16, 0));
            ioobe.put("load(segment, offset -8)", () -> m.load(g, holder, -8, 0));
            List<String> wrong = new ArrayList<>();
            wrong.addAll(notThrowing(NullPointerException.class, npe));
            wrong.addAll(notThrowing(IllegalArgumentException.class, iae));
            wrong.addAll(notThrowing(IndexOutOfBoundsException.class, ioobe));
            assertTrue(wrong.isEmpty(), "checked=" + checked + ": " + wrong);
            m.free(b);
            m.free(holder);
        }
    }

    /**
     * Closing: "{@code retire}, {@code free}, the reads and {@link #stats()} keep working after close"; every
     * allocation is refused with IllegalStateException (including the {@code SegmentAllocator} defaults);
     * close is idempotent; once the reclaimer closes, every block is freed exactly once.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void afterCloseAllocationIsRefusedAndEverythingElseKeepsWorking(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        NativeMemory m = NativeMemory.builder(r).checked(true).build();
        MemorySegment a = m.allocate(24, 8);
        MemorySegment b = m.allocateZeroed(40, 64);
        long c = m.allocateAddress(8, 8);
        long d = m.allocateAddress(0, 1);
        m.setLong(c, 0, 77);
        m.close();
        assertTrue(m.isClosed());
        m.close(); // idempotent
        Map<String, Executable> refused = new LinkedHashMap<>();
        refused.put("allocate", () -> m.allocate(8, 8));
        refused.put("allocateZeroed", () -> m.allocateZeroed(8, 8));
        refused.put("allocateAddress", () -> m.allocateAddress(8, 8));
        refused.put("SegmentAllocator.allocate(long)", () -> m.allocate(8));
        refused.put("SegmentAllocator.allocate(layout)", () -> m.allocate(JAVA_INT));
        List<String> wrong = notThrowing(IllegalStateException.class, refused);
        assertTrue(wrong.isEmpty(), scheme + ": " + wrong);

        assertEquals(77, m.getLong(c, 0));
        assertEquals(0, b.get(JAVA_LONG, 32), "zeroed, aligned to 64");
        assertEquals(0, b.address() % 64);
        assertEquals(40, m.segment(b.address()).byteSize());
        try (Guard g = r.enter()) {
            m.retire(g, a);
        }
        m.retire(b);
        m.free(c);
        m.retire(d);
        NativeStats before = m.stats();
        assertEquals(4, before.allocatedBlocks(), before.toString());
        assertEquals(3, before.retiredBlocks(), before.toString());
        r.close();
        NativeStats s = m.stats();
        assertEquals(4, s.freedBlocks(), s.toString());
        assertEquals(s.allocatedBytes(), s.freedBytes(), s.toString());
        assertEquals(0, s.pendingBlocks(), s.toString());
        assertEquals(0, s.liveBytes(), s.toString());
        assertEquals(0, s.useAfterFree(), s.toString());
        assertEquals(0, r.stats().failed(), () -> "a retire action threw: " + r.stats());
    }

    /**
     * retire after the reclaimer closed: "@throws IllegalStateException if ... the reclaimer is closed"; the
     * block is not retired (it stays live, uncounted, and can be freed) and the refusal is not a
     * UseAfterFreeException.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void retireRefusedByAClosedReclaimerLeavesTheBlockLiveAndUncounted(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            MemorySegment block = m.allocate(16, 8);
            long address = m.allocateAddress(16, 8);
            r.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.retire(block));
            assertFalse(e instanceof UseAfterFreeException, e.toString());
            e = assertThrows(IllegalStateException.class, () -> m.retire(address));
            assertFalse(e instanceof UseAfterFreeException, e.toString());
            NativeStats s = m.stats();
            assertEquals(0, s.retiredBlocks(), s.toString());
            assertEquals(0, s.useAfterFree(), s.toString());
            m.free(block);
            m.free(address);
            assertEquals(0, m.stats().liveBlocks());
        }
    }

    /**
     * Exactly once: every block retired (outside a guard, inside one, by segment and by address, from two
     * threads) is freed once when the reclaimer closes (checked mode would throw from a second retire action,
     * which the reclaimer counts as failed), and the accounting balances.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void everyRetiredBlockIsFreedExactlyOnce(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        try (NativeMemory m = NativeMemory.builder(r).checked(true).quarantineBytes(4096).build()) {
            Runnable churn = () -> {
                for (int i = 0; i < 200; i++) {
                    int size = (i * 7) % 100;
                    switch (i % 4) {
                        case 0 -> m.retire(m.allocate(size, 8));
                        case 1 -> m.retire(m.allocateAddress(size, 16));
                        case 2 -> {
                            try (Guard g = r.enter()) {
                                m.retire(g, m.allocate(size, 32));
                            }
                        }
                        default -> {
                            try (Guard g = r.enter()) {
                                m.retire(g, m.allocateAddress(size, 8));
                            }
                        }
                    }
                }
            };
            Thread other = new Thread(churn);
            other.start();
            churn.run();
            other.join();
            r.close();
            NativeStats s = m.stats();
            assertEquals(400, s.allocatedBlocks(), s.toString());
            assertEquals(400, s.retiredBlocks(), s.toString());
            assertEquals(400, s.freedBlocks(), s.toString());
            assertEquals(s.allocatedBytes(), s.freedBytes(), s.toString());
            assertEquals(0, s.pendingBlocks(), s.toString());
            assertEquals(0, s.useAfterFree(), s.toString());
            Stats rs = r.stats();
            assertEquals(0, rs.failed(), () -> "a retire action threw (a block freed twice?): " + rs);
        }
    }

    /**
     * Racing retire and free of the same blocks: "a failed CAS means another thread moved the block, and the
     * loser reports what it found" (IllegalStateException, or UseAfterFreeException for a freed block); exactly
     * one call per block succeeds, and every block is freed once.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void racingRetireAndFreeOfOneBlockSucceedExactlyOnce(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        try (NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            int n = 300;
            long[] blocks = new long[n];
            for (int i = 0; i < n; i++) blocks[i] = m.allocateAddress(16, 16);
            java.util.concurrent.atomic.AtomicInteger wins = new java.util.concurrent.atomic.AtomicInteger();
            List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch start = new CountDownLatch(1);
            Thread[] threads = new Thread[2];
            for (int t = 0; t < 2; t++) {
                boolean retirer = t == 0;
                threads[t] = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (long b : blocks) {
                        try {
                            if (retirer) m.retire(b);
                            else m.free(b);
                            wins.incrementAndGet();
                        } catch (IllegalStateException lost) {
                            // the other thread moved the block first: RETIRED or FREED (UseAfterFreeException)
                        } catch (Throwable x) {
                            unexpected.add(x);
                        }
                    }
                });
                threads[t].start();
            }
            start.countDown();
            for (Thread t : threads) t.join();
            assertTrue(unexpected.isEmpty(), unexpected.toString());
            assertEquals(n, wins.get(), "exactly one retire or free per block");
            r.close();
            NativeStats s = m.stats();
            assertEquals(n, s.freedBlocks(), s.toString());
            assertEquals(0, s.pendingBlocks(), s.toString());
            assertEquals(0, r.stats().failed(), () -> "a retire action threw: " + r.stats());
        }
    }

    /** The SegmentAllocator defaults hand out blocks of this allocator: retire and free accept them. */
    @Test
    void segmentAllocatorDefaultsAllocateWholeBlocksOfThisAllocator() {
        try (Reclaimer r = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            MemorySegment ints = m.allocateFrom(JAVA_INT, 1, 2, 3);
            MemorySegment text = m.allocateFrom("probe");
            MemorySegment one = m.allocate(JAVA_LONG);
            assertEquals(12, ints.byteSize());
            assertEquals(3, ints.getAtIndex(JAVA_INT, 2));
            assertEquals("probe", text.getString(0));
            m.retire(ints);
            m.free(text);
            m.free(one);
            r.flush();
            NativeStats s = m.stats();
            assertEquals(3, s.freedBlocks(), s.toString());
        }
    }

    /** Zero-size blocks "still have a distinct address" and must be retired or freed like any other. */
    @Test
    void zeroSizeBlocksHaveDistinctAddresses() {
        try (Reclaimer r = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.create(r)) {
            MemorySegment a = m.allocate(0, 1);
            MemorySegment b = m.allocate(0, 1);
            long c = m.allocateAddress(0, 64);
            assertNotEquals(a.address(), b.address());
            assertNotEquals(0, c);
            assertEquals(0, c % 64);
            assertEquals(0, m.segment(c).byteSize());
            m.free(a);
            m.retire(b);
            m.free(c);
            r.flush();
            assertEquals(0, m.stats().liveBlocks());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // OffHeapMap

    /**
     * OffHeapMap: "{@link #close()} retires every entry and table and refuses later use (idempotent)". Every
     * operation on a closed map should throw IllegalStateException.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aClosedMapRefusesEveryOperation(String scheme) {
        try (Reclaimer r = Reclaimer.create(scheme)) {
            OffHeapMap<String, String> map = OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8())
                    .capacityBytes(1 << 16).segments(4).build();
            map.put("a", "1");
            map.put("b", "2");
            map.close();
            map.close(); // idempotent
            Map<String, Executable> ops = new LinkedHashMap<>();
            ops.put("get", () -> map.get("a"));
            ops.put("read", () -> map.read("a", MemorySegment::byteSize));
            ops.put("containsKey", () -> map.containsKey("a"));
            ops.put("put", () -> map.put("c", "3"));
            ops.put("set", () -> map.set("c", "3"));
            ops.put("putIfAbsent", () -> map.putIfAbsent("c", "3"));
            ops.put("replace", () -> map.replace("a", "9"));
            ops.put("replace(k,o,n)", () -> map.replace("a", "1", "9"));
            ops.put("remove", () -> map.remove("a"));
            ops.put("remove(k,v)", () -> map.remove("a", "1"));
            ops.put("clear", map::clear);
            ops.put("compute", () -> map.compute("a", (k, v) -> "9"));
            ops.put("merge", () -> map.merge("a", "9", String::concat));
            ops.put("entrySet().iterator()", () -> map.entrySet().iterator());
            ops.put("keySet().iterator()", () -> map.keySet().iterator());
            ops.put("containsValue", () -> map.containsValue("1"));
            ops.put("size", map::size);
            ops.put("isEmpty", map::isEmpty);
            List<String> wrong = notThrowing(IllegalStateException.class, ops);
            assertTrue(wrong.isEmpty(), scheme + ": " + wrong);
        }
    }

    /**
     * OffHeapMap: "Nulls are refused with {@link NullPointerException}" (a key, a value, an expected value, a
     * reader).
     */
    @Test
    void nullsAreRefusedWithNullPointerException() {
        try (Reclaimer r = Reclaimer.create("ebr");
             OffHeapMap<String, String> map = OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8())
                     .capacityBytes(1 << 16).segments(4).build()) {
            map.put("a", "1");
            Map<String, Executable> ops = new LinkedHashMap<>();
            ops.put("get(null)", () -> map.get(null));
            ops.put("containsKey(null)", () -> map.containsKey(null));
            ops.put("put(null, v)", () -> map.put(null, "1"));
            ops.put("put(k, null)", () -> map.put("a", null));
            ops.put("set(k, null)", () -> map.set("a", null));
            ops.put("putIfAbsent(k, null)", () -> map.putIfAbsent("z", null));
            ops.put("replace(k, null)", () -> map.replace("a", null));
            ops.put("replace(k, null, v)", () -> map.replace("a", null, "2"));
            ops.put("replace(k, v, null)", () -> map.replace("a", "1", null));
            ops.put("remove(null)", () -> map.remove(null));
            ops.put("remove(null, v)", () -> map.remove(null, "1"));
            ops.put("remove(k, null)", () -> map.remove("a", null));
            ops.put("read(null, f)", () -> map.read(null, MemorySegment::byteSize));
            ops.put("read(k, null)", () -> map.read("a", (Function<MemorySegment, Long>) null));
            ops.put("containsValue(null)", () -> map.containsValue(null));
            List<String> wrong = notThrowing(NullPointerException.class, ops);
            assertEquals("1", map.get("a"), "a refused call changes nothing");
            assertTrue(wrong.isEmpty(), wrong.toString());
        }
    }

    /**
     * OffHeapMap.close(): "The bytes return to the allocator once the reclaimer reclaims them; this method asks
     * it to ({@code flush()}), so with no guard open elsewhere they are freed when it returns. A map that created
     * its own allocator closes it too"; Builder.memory: "The map then does not close it."
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaimingSchemes")
    void closeWithNoGuardOpenFreesEveryBlockAndClosesOnlyItsOwnAllocator(String scheme) {
        try (Reclaimer r = Reclaimer.create(scheme); NativeMemory shared = NativeMemory.builder(r).checked(true).build()) {
            OffHeapMap<Long, String> own = OffHeapMap.builder(r, Serializer.int64(), Serializer.utf8())
                    .capacityBytes(1 << 16).segments(2).initialBuckets(2).checked(true).build();
            OffHeapMap<Long, String> borrowing = OffHeapMap.builder(r, Serializer.int64(), Serializer.utf8())
                    .capacityBytes(1 << 16).segments(2).initialBuckets(2).memory(shared).build();
            for (OffHeapMap<Long, String> map : List.of(own, borrowing)) {
                for (long k = 0; k < 200; k++) map.put(k, "v" + k); // resizes and evicts
                for (long k = 0; k < 200; k += 3) map.put(k, "w" + k); // replaces
                for (long k = 1; k < 200; k += 5) map.remove(k);
                assertTrue(map.usedBytes() <= map.capacityBytes(), map.usedBytes() + " > " + map.capacityBytes());
                map.close();
                NativeStats s = map.nativeStats();
                assertEquals(0, s.liveBlocks(), () -> scheme + ": blocks left after close: " + s);
                assertEquals(0, s.pendingBlocks(), () -> scheme + ": " + s);
                assertEquals(0, s.useAfterFree(), () -> scheme + ": " + s);
            }
            assertTrue(own.memory().isClosed(), "the map's own allocator is closed with it");
            assertFalse(shared.isClosed(), "a shared allocator is not closed by the map");
            assertEquals(0, r.stats().failed(), () -> "a retire action threw: " + r.stats());
        }
    }

    /**
     * Capacity: "An entry larger than a segment's budget is refused with {@link IllegalArgumentException}, and
     * nothing is evicted for it"; after any write the map holds at most its capacity; evictions are counted.
     */
    @Test
    void capacityIsABoundAfterEveryWriteAndAnOversizedEntryEvictsNothing() {
        try (Reclaimer r = Reclaimer.create("hp");
             OffHeapMap<Long, byte[]> map = OffHeapMap.builder(r, Serializer.int64(), Serializer.bytes())
                     .capacityBytes(4096).segments(2).initialBuckets(2).build()) {
            long budget = map.capacityBytes() / 2;
            for (long k = 0; k < 300; k++) {
                map.put(k, new byte[(int) (k % 200)]);
                if (k % 2 == 0) map.get(k / 2); // second chances
                assertTrue(map.usedBytes() <= map.capacityBytes(), "after key " + k + ": " + map.usedBytes());
            }
            assertTrue(map.evictions() > 0, "a 4 KiB map that took 30 KB evicted");
            int size = map.size();
            long evictions = map.evictions();
            long used = map.usedBytes();
            byte[] huge = new byte[(int) budget];
            assertThrows(IllegalArgumentException.class, () -> map.put(-1L, huge));
            assertThrows(IllegalArgumentException.class, () -> map.set(-1L, huge));
            assertEquals(size, map.size());
            assertEquals(evictions, map.evictions());
            assertEquals(used, map.usedBytes());
            assertNull(map.get(-1L));
            byte[] fits = new byte[(int) (budget - OffHeapMap.HEADER - 8)];
            map.put(-2L, fits); // exactly a segment's budget: accepted, alone in its segment
            assertEquals(fits.length, map.get(-2L).length);
            assertTrue(map.usedBytes() <= map.capacityBytes());
        }
    }

    /** entrySet: "{@code Iterator.remove} removes the entry if it still maps to the value seen". */
    @Test
    void iteratorRemoveRemovesOnlyAnUnchangedEntry() {
        try (Reclaimer r = Reclaimer.create("ebr");
             OffHeapMap<String, String> map = OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8())
                     .capacityBytes(1 << 16).segments(1).build()) {
            map.put("a", "1");
            map.put("b", "2");
            var it = map.entrySet().iterator();
            assertThrows(IllegalStateException.class, it::remove, "remove before next");
            Map.Entry<String, String> first = it.next();
            map.put(first.getKey(), "changed");
            it.remove();
            assertEquals("changed", map.get(first.getKey()), "a changed entry is kept");
            Map.Entry<String, String> second = it.next();
            it.remove();
            assertNull(map.get(second.getKey()), "an unchanged entry is removed");
            assertThrows(IllegalStateException.class, it::remove, "remove twice");
            assertEquals(1, map.size());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // MappedFile and MappedFileSwap

    private static Path file(Path dir, String name, int size) throws IOException {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 31 + name.hashCode());
        return Files.write(dir.resolve(name), b);
    }

    /**
     * MappedFileSwap.read(Guard): "@throws IllegalStateException if the guard is closed" (and, per the
     * {@code Guard} contract the parameter names, "an open guard ... on the current thread").
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void swapReadRefusesAClosedGuardAndAnotherThreadsGuard(String scheme, @TempDir Path dir) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        try (MappedFileSwap swap = new MappedFileSwap(r, file(dir, "a", 64))) {
            Guard closed = closedGuard(r);
            List<String> wrong = new ArrayList<>(notThrowing(IllegalStateException.class,
                    Map.of("read(closed guard)", () -> swap.read(closed))));
            withForeignGuard(r, g -> wrong.addAll(notThrowing(IllegalStateException.class,
                    Map.of("read(another thread's guard)", () -> swap.read(g)))));
            assertTrue(wrong.isEmpty(), scheme + ": " + wrong);
            assertEquals(64L, (long) swap.read(MappedFile::size));
        }
        r.close();
    }

    /**
     * MappedFileSwap: "Unmapped exactly once. Every mapping this holder makes is unmapped once ... once the
     * holder is closed and the reclaimer has reclaimed (after {@link Reclaimer#flush()} with no guard open, or
     * {@link Reclaimer#close()}), they are equal"; "Never unmapped while read"; a replace after close maps
     * nothing; read(Function) refuses once the reclaimer is closed.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void everyMappingIsUnmappedExactlyOnceAndNeverWhileRead(String scheme, @TempDir Path dir) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        MappedFileSwap swap = new MappedFileSwap(r, file(dir, "f0", 128));
        List<MappedFile> seen = new ArrayList<>();
        try (Guard g = r.enter()) {
            MappedFile held = swap.read(g);
            seen.add(held);
            for (int i = 1; i <= 3; i++) {
                swap.replace(file(dir, "f" + i, 128 + i));
                try (Guard inner = r.enter()) {
                    seen.add(swap.read(inner));
                }
            }
            if (!scheme.equals("none")) {
                // flushing inside a guard: the held mapping must survive
                r.flush();
            }
            assertTrue(held.isMapped(), "a mapping read by an open guard stays mapped");
            assertEquals(128, held.segment().byteSize());
        }
        assertEquals(4, swap.mapped());
        swap.close();
        swap.close(); // idempotent
        assertTrue(swap.isClosed());
        long mapped = swap.mapped();
        assertThrows(IllegalStateException.class, () -> swap.replace(dir.resolve("f1")));
        assertEquals(mapped, swap.mapped(), "a replace refused by a closed holder maps nothing");
        if (scheme.equals("none")) r.close();
        else r.flush();
        assertEquals(swap.mapped(), swap.unmapped(), scheme + ": " + swap);
        for (MappedFile m : seen) {
            assertFalse(m.isMapped(), m.toString());
            assertThrows(IllegalStateException.class, m::segment);
            assertThrows(IllegalStateException.class, m::unmap, "unmap succeeds once");
        }
        assertEquals(swap.mapped(), swap.unmapped(), "a refused second unmap counts nothing");
        if (!r.isClosed()) r.close();
    }

    /**
     * MappedFileSwap constructor: "@throws IllegalStateException if the reclaimer is closed"; read(Function):
     * "@throws IllegalStateException if this holder or the reclaimer is closed"; close() after the reclaimer
     * closed: "the old mapping is unmapped at once when the reclaimer's close has completed".
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aClosedReclaimerIsRefusedAndTheLastMappingIsStillUnmappedOnce(String scheme, @TempDir Path dir)
            throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        Path f = file(dir, "f", 32);
        MappedFileSwap swap = new MappedFileSwap(r, f);
        r.close();
        assertThrows(IllegalStateException.class, () -> new MappedFileSwap(r, f));
        assertThrows(IllegalStateException.class, () -> swap.read(MappedFile::size));
        assertThrows(IllegalStateException.class, swap::close, "the reclaimer refuses the retire");
        assertEquals(swap.mapped(), swap.unmapped(), "unmapped at once: the reclaimer's close has completed");
        swap.close(); // idempotent: nothing left to retire
        assertEquals(1, swap.unmapped());
    }

    /**
     * MappedFile: "Exact size. {@link #segment()} is {@link #size()} bytes long: an access past the file's end
     * is an {@link IndexOutOfBoundsException} ... A READ_ONLY segment is read-only: a write throws"; "unmap()
     * succeeds once; a second call throws IllegalStateException and unmaps nothing".
     */
    @Test
    void aMappingHasTheExactSizeIsReadOnlyAndUnmapsOnce(@TempDir Path dir) throws Exception {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            Path f = file(dir, "f", 4099);
            MappedFile m = MappedFile.map(f, r);
            assertEquals(4099, m.size());
            assertEquals(4099, m.segment().byteSize());
            assertTrue(m.segment().isReadOnly());
            assertEquals(Files.readAllBytes(f)[4098], m.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4098));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> m.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4099));
            assertThrows(RuntimeException.class, () -> m.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 1));
            m.unmap();
            IllegalStateException twice = assertThrows(IllegalStateException.class, m::unmap);
            assertInstanceOf(IllegalStateException.class, twice);
            assertFalse(m.isMapped());
            assertThrows(IllegalStateException.class, m::segment);
        }
    }
}
