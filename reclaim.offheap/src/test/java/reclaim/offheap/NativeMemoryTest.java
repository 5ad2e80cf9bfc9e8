package reclaim.offheap;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Born;
import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/** Allocation, retire/free, misuse, checked mode, accounting and the JFR event of {@link NativeMemory}. */
class NativeMemoryTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    /** Schemes whose flush() reclaims with no guard open ("none" reclaims only at close). */
    static Stream<String> reclaimingSchemes() {
        return Reclaimer.availableSchemes().stream().filter(s -> !s.equals("none"));
    }

    private static String hex(long a) {
        return "0x" + Long.toHexString(a);
    }

    /** Runs every pending retire action: flush, or close for "none". */
    private static void reclaimAll(Reclaimer r) {
        if (r.scheme().name().equals("none")) r.close();
        else r.flush();
    }

    @Test
    void sizeExactAndAlignmentHonoured() {
        try (Reclaimer r = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.create(r)) {
            for (long align = 1; align <= 4096; align <<= 1) {
                for (long size : new long[] {0, 1, 7, 8, 24, 100, 5000}) {
                    MemorySegment s = m.allocate(size, align);
                    assertEquals(size, s.byteSize(), "size exact");
                    assertEquals(0, s.address() % Math.max(align, 8), "aligned to " + align);
                    assertEquals(0, s.address() % 16, "every block is 16-aligned");
                    s.fill((byte) 0x5A); // writable to the last byte
                    MemorySegment z = m.allocateZeroed(size, align);
                    for (long i = 0; i < size; i++) assertEquals(0, z.get(JAVA_BYTE, i), "zeroed");
                    m.free(s);
                    m.free(z);
                }
            }
            MemorySegment a = m.allocate(0, 1);
            MemorySegment b = m.allocate(0, 1);
            assertNotEquals(a.address(), b.address(), "zero-size blocks have distinct addresses");
            m.retire(a);
            m.free(b);
            // SegmentAllocator's defaults go through allocate(size, alignment)
            MemorySegment longs = m.allocateFrom(JAVA_LONG, 1, 2, 3);
            assertEquals(24, longs.byteSize());
            assertEquals(3, longs.getAtIndex(JAVA_LONG, 2));
            m.free(longs);
            r.flush();
            NativeStats st = m.stats();
            assertEquals(st.allocatedBlocks(), st.freedBlocks());
            assertEquals(0, st.liveBytes());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void misuseIsRefusedAndCorruptsNothing(String scheme) {
        try (Reclaimer r = Reclaimer.create(scheme);
             NativeMemory m = NativeMemory.builder(r).checked(true).build();
             NativeMemory other = NativeMemory.create(r);
             Arena arena = Arena.ofConfined()) {
            MemorySegment block = m.allocate(64, 16);
            MemorySegment freed = m.allocate(32, 8);
            m.free(freed);
            MemorySegment retired = m.allocate(32, 8);
            MemorySegment othersBlock = other.allocate(64, 16);
            m.retire(retired);
            NativeStats before = m.stats();

            IllegalArgumentException e;
            e = assertThrows(IllegalArgumentException.class, () -> m.allocate(-5, 8));
            assertTrue(e.getMessage().contains("-5"), e.getMessage());
            for (long bad : new long[] {0, 3, 24, -8}) {
                e = assertThrows(IllegalArgumentException.class, () -> m.allocate(8, bad));
                assertTrue(e.getMessage().contains(Long.toString(bad)) && e.getMessage().contains("power of two"),
                        e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> m.allocate(NativeMemory.MAX_BLOCK_SIZE + 1, 8));

            for (MemorySegment foreign : List.of(arena.allocate(64, 16), othersBlock,
                    MemorySegment.ofArray(new long[8]), MemorySegment.NULL)) {
                for (Consumer<MemorySegment> op : List.<Consumer<MemorySegment>>of(m::free, m::retire)) {
                    e = assertThrows(IllegalArgumentException.class, () -> op.accept(foreign));
                    assertTrue(e.getMessage().contains("not allocated by"), e.getMessage());
                }
            }
            for (MemorySegment slice : List.of(block.asSlice(16), block.asSlice(8), block.asSlice(0, 32),
                    block.asSlice(32, 16))) {
                e = assertThrows(IllegalArgumentException.class, () -> m.free(slice));
                assertTrue(e.getMessage().contains("not a whole block"), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> m.retire(slice));
            }

            // double retire, free of a retired block: the block is still retired, its action will free it
            IllegalStateException ise = assertThrows(IllegalStateException.class, () -> m.retire(retired));
            assertFalse(ise instanceof UseAfterFreeException);
            assertTrue(ise.getMessage().contains(hex(retired.address())) && ise.getMessage().contains(scheme),
                    ise.getMessage());
            assertThrows(IllegalStateException.class, () -> m.free(retired));
            assertEquals(before, m.stats(), "nothing counted, nothing corrupted");

            // double free, retire after free (checked mode: the freed block is in quarantine)
            for (Executable op : List.<Executable>of(() -> m.free(freed), () -> m.retire(freed))) {
                UseAfterFreeException u = assertThrows(UseAfterFreeException.class, op);
                assertEquals(freed.address(), u.address());
                assertEquals(scheme, u.scheme());
                assertTrue(u.getMessage().contains(hex(freed.address())) && u.getMessage().contains(scheme));
            }
            assertEquals(before.useAfterFree() + 2, m.stats().useAfterFree());

            // the live block is intact and still works
            block.set(JAVA_LONG, 0, 42);
            assertEquals(42, m.getLong(block.address(), 0));
            m.retire(block);
            other.free(othersBlock);
            reclaimAll(r);
            if (r.isClosed()) {
                // a closed reclaimer refuses the retire: the block stays live and can still be freed
                MemorySegment late = m.allocate(8, 8);
                long allocated = m.stats().retiredBlocks();
                assertThrows(IllegalStateException.class, () -> m.retire(late));
                assertEquals(allocated, m.stats().retiredBlocks(), "the failed retire is not counted");
                m.free(late);
            }
        }
    }

    @Test
    void allocationFailureIsAnOutOfMemoryErrorNamingTheSize() {
        try (Reclaimer r = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.create(r)) {
            NativeStats before = m.stats();
            MemorySegment huge;
            try {
                huge = m.allocate(NativeMemory.MAX_BLOCK_SIZE, 4096); // a TiB: refused unless overcommit allows it
            } catch (OutOfMemoryError e) {
                assertTrue(e.getMessage().contains(Long.toString(NativeMemory.MAX_BLOCK_SIZE)), e.getMessage());
                assertEquals(before, m.stats(), "a failed allocation is not counted");
                return;
            }
            m.free(huge); // the C library granted the address space (vm.overcommit_memory=1): nothing was touched
        }
    }

    @Test
    void allocationAfterCloseIsRefused() {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            NativeMemory m = NativeMemory.create(r);
            MemorySegment s = m.allocate(8, 8);
            m.close();
            m.close(); // idempotent
            assertTrue(m.isClosed());
            NativeStats before = m.stats();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.allocate(8, 8));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertEquals(before, m.stats());
            m.free(s); // live blocks stay valid after close
            assertEquals(0, m.stats().liveBlocks());
        }
    }

    /** load() reads a heap segment over a long[]; one over a byte[] promises no 8-byte alignment and is refused. */
    @Test
    void loadReadsAHeapSegmentOverLongsAndRefusesOneOverBytesAsMisaligned() {
        try (Reclaimer r = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.create(r)) {
            long[] words = {0, 0x1234_5678L};
            try (Guard g = r.enter()) {
                assertEquals(0x1234_5678L, m.load(g, MemorySegment.ofArray(words), 8, 0));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> m.load(g, MemorySegment.ofArray(new byte[16]), 8, 0));
                assertTrue(e.getMessage().contains("align"), e.getMessage());
            }
        }
    }

    /**
     * A block that alone weighs more than the quarantine limit (here 8 MiB against 1 MiB: the C library maps such a
     * block on its own and unmaps it when freed) stays quarantined until the next free, so that a second free or a
     * read of it right after its free is caught instead of faulting on its unmapped header.
     */
    @Test
    void checkedModeCatchesTheUseOfAFreedBlockLargerThanTheQuarantine() {
        try (Reclaimer r = Reclaimer.create("ebr");
             NativeMemory m = NativeMemory.builder(r).checked(true).quarantineBytes(1 << 20).build()) {
            long big = 8L << 20;
            long a = m.allocateAddress(big, 8);
            m.setLong(a, big - 8, 42);
            m.free(a);
            assertEquals(1, m.stats().quarantinedBlocks(), "the big block stays until the next free");
            assertEquals(big, m.stats().quarantinedBytes());
            assertThrows(UseAfterFreeException.class, () -> m.free(a), "a second free");
            assertThrows(UseAfterFreeException.class, () -> m.getLong(a, 0), "a read");
            assertThrows(UseAfterFreeException.class, () -> m.retire(a), "a retire");
            long small = m.allocateAddress(64, 8);
            m.free(small); // pushes the big block out
            assertEquals(1, m.stats().quarantinedBlocks());
            assertEquals(64, m.stats().quarantinedBytes());
            assertEquals(3, m.stats().useAfterFree());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    @SuppressWarnings("restricted") // reads the poisoned payload of a quarantined (still allocated) block
    void checkedModeCatchesUseAfterFree(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (Reclaimer other = Reclaimer.create("ebr");
             NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            MemorySegment holder = m.allocate(16, 8);
            MemorySegment target = m.allocate(16, 8);
            holder.set(JAVA_LONG, 0, target.address());
            long a = holder.address();
            m.retire(holder);
            reclaimAll(r); // the retire action ran: holder is FREED, poisoned, in quarantine
            assertEquals(1, m.stats().quarantinedBlocks());
            assertEquals(NativeMemory.POISON, MemorySegment.ofAddress(a).reinterpret(16).get(JAVA_LONG, 8),
                    "payload poisoned");

            Reclaimer guards = r.isClosed() ? other : r;
            List<Executable> uses = List.of(
                    () -> m.segment(a),
                    () -> m.getLong(a, 0),
                    () -> m.getLongVolatile(a, 8),
                    () -> m.setLong(a, 0, 1),
                    () -> m.compareAndSetLong(a, 0, 0, 1),
                    () -> {
                        try (Guard g = guards.enter()) {
                            m.load(g, a, 0, 0);
                        }
                    },
                    () -> {
                        try (Guard g = guards.enter()) {
                            m.load(g, holder, 0, 0);
                        }
                    });
            for (Executable use : uses) {
                UseAfterFreeException e = assertThrows(UseAfterFreeException.class, use);
                assertEquals(a, e.address());
                assertEquals(scheme, e.scheme());
                assertTrue(e.getMessage().contains(hex(a)) && e.getMessage().contains(scheme), e.getMessage());
            }
            assertEquals(uses.size(), m.stats().useAfterFree(), "each detection counted");
            m.free(target);
        } finally {
            r.close();
        }
    }

    @Test
    void checkedAccessorsCheckBounds() {
        try (Reclaimer r = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            long a = m.allocate(16, 8).address();
            assertThrows(IndexOutOfBoundsException.class, () -> m.getLong(a, 16));
            assertThrows(IndexOutOfBoundsException.class, () -> m.setLong(a, -8, 0));
            assertThrows(NullPointerException.class, () -> m.getLong(0, 0));
            m.setLongVolatile(a, 8, 7);
            assertEquals(7, m.getLong(a, 8));
            m.free(m.segment(a));
            assertEquals(0, m.stats().useAfterFree());
        }
    }

    /** A reclaimer that records what is retired to it, then delegates. */
    private record Recording(Reclaimer delegate, List<Object> retired) implements Reclaimer {
        @Override public Scheme scheme() { return delegate.scheme(); }
        @Override public Guard enter() { return delegate.enter(); }
        @Override public <T> void retire(T object, Consumer<? super T> action) {
            retired.add(object);
            delegate.retire(object, action);
        }
        @Override public void flush() { delegate.flush(); }
        @Override public Stats stats() { return delegate.stats(); }
        @Override public long era() { return delegate.era(); }
        @Override public Registration register() { return delegate.register(); }
        @Override public boolean isClosed() { return delegate.isClosed(); }
        @Override public void close() { delegate.close(); }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void retiredObjectIsKeyedByAddressAndBornAtAllocation(String scheme) {
        List<Object> retired = new CopyOnWriteArrayList<>();
        try (Reclaimer r = new Recording(Reclaimer.create(scheme), retired);
             NativeMemory m = NativeMemory.create(r)) {
            long eraBefore = r.era();
            MemorySegment s = m.allocate(32, 8);
            long eraAfter = r.era();
            for (int i = 0; i < 100; i++) m.retire(m.allocate(8, 8)); // let eras move on
            m.retire(s);
            Object o = retired.get(retired.size() - 1);
            Keyed k = assertInstanceOf(Keyed.class, o);
            Born b = assertInstanceOf(Born.class, o);
            assertEquals(s.address(), k.key(), "keyed by the block's address");
            assertTrue(b.birthEra() > 0, "born in a real era");
            assertTrue(eraBefore <= b.birthEra() && b.birthEra() <= eraAfter, "stamped at allocation");
            assertTrue(b.birthEra() <= r.era());
        }
    }

    /**
     * Checked mode: a live word that holds the poison's value is returned as read by both loads, from a block of
     * the allocator and from a segment of an arena; a freed holder makes a load throw, also through a slice of it.
     */
    @Test
    void checkedLoadReturnsALiveWordThatHoldsThePoisonValue() {
        try (Reclaimer r = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.builder(r).checked(true).build();
                Arena arena = Arena.ofConfined()) {
            MemorySegment block = m.allocate(16, 8);
            MemorySegment foreign = arena.allocate(16, 8);
            block.set(JAVA_LONG, 8, NativeMemory.POISON);
            foreign.set(JAVA_LONG, 0, NativeMemory.POISON);
            try (Guard g = r.enter()) {
                assertEquals(NativeMemory.POISON, m.load(g, block, 8, 0));
                assertEquals(NativeMemory.POISON, m.load(g, block.address(), 8, 1));
                assertEquals(NativeMemory.POISON, m.load(g, foreign, 0, 2));
            }
            assertEquals(0, m.stats().useAfterFree(), "a live word was reported as a use after free");
            MemorySegment slice = block.asSlice(8);
            m.free(block);
            try (Guard g = r.enter()) {
                assertThrows(UseAfterFreeException.class, () -> m.load(g, block.address(), 8, 0));
                // a slice has no header to ask: the poison read through it counts as freed
                assertThrows(UseAfterFreeException.class, () -> m.load(g, slice, 0, 0));
            }
        }
    }

    /**
     * A load that reads {@code 0} into the slot that holds a block releases nothing: the block, unlinked, retired
     * and flushed by another thread, stays allocated until the guard closes (under hazard pointers the null key
     * used to clear the slot).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaimingSchemes")
    void loadReadingZeroKeepsTheBlockItsSlotHeld(String scheme) throws Exception {
        try (Reclaimer r = Reclaimer.create(scheme); NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            MemorySegment table = m.allocate(16, 8);
            long x = m.allocateAddress(16, 16);
            m.setLong(x, 0, 5);
            table.set(JAVA_LONG, 0, x);
            table.set(JAVA_LONG, 8, 0);
            try (Guard g = r.enter()) {
                assertEquals(x, m.load(g, table, 0, 0));
                assertEquals(0, m.load(g, table, 8, 0)); // a null link, read in the same slot
                table.set(JAVA_LONG, 0, 0); // unlink x
                m.retire(x);
                Thread flusher = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 10; i++) r.flush();
                });
                flusher.join();
                assertEquals(5, m.getLong(x, 0), "freed while the slot that loaded it still held it");
            }
            r.flush();
            assertThrows(UseAfterFreeException.class, () -> m.getLong(x, 0), "not freed once the guard closed");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaimingSchemes")
    void reservedBlockOutlivesFlushUntilTheGuardCloses(String scheme) throws Exception {
        try (Reclaimer r = Reclaimer.create(scheme); NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            MemorySegment holder = m.allocate(8, 8);
            MemorySegment block = m.allocate(16, 8);
            MemorySegment unreserved = m.allocate(16, 8);
            block.set(JAVA_LONG, 8, 77);
            holder.set(JAVA_LONG, 0, block.address());
            CountDownLatch reserved = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long[] seen = new long[2];
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter()) {
                    seen[0] = m.load(g, holder, 0, 0);
                    reserved.countDown();
                    release.await();
                    seen[1] = m.getLong(seen[0], 8); // still allocated, not poisoned
                } catch (Throwable e) {
                    failure.set(e);
                    reserved.countDown();
                }
            });
            assertTrue(reserved.await(30, TimeUnit.SECONDS));
            holder.set(JAVA_LONG, 0, 0); // unlink
            m.retire(block);
            m.retire(unreserved);
            r.flush();
            r.flush();
            NativeStats s = m.stats();
            if (scheme.equals("hp")) {
                // only the reserved address is held: the Keyed path end to end
                assertEquals(1, s.pendingBlocks(), "hp frees the unreserved block, keeps the reserved one: " + s);
            } else {
                assertTrue(s.pendingBlocks() >= 1, "the reserved block is still pending: " + s);
            }
            assertEquals(16, m.segment(block.address()).byteSize(), "the reserved block is not freed");
            release.countDown();
            reader.join();
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertEquals(block.address(), seen[0]);
            assertEquals(77, seen[1]);
            r.flush();
            assertEquals(0, m.stats().pendingBlocks());
            assertThrows(UseAfterFreeException.class, () -> m.segment(block.address()));
            m.free(holder);
        }
    }

    @Test
    void accountingSumsHoldAndQuarantineIsBounded() {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            NativeMemory m = NativeMemory.builder(r).checked(true).quarantineBytes(200).build();
            MemorySegment[] b = new MemorySegment[6];
            for (int i = 0; i < b.length; i++) b[i] = m.allocate(64, 8);
            NativeStats s = m.stats();
            assertEquals(new NativeStats("ebr", true, 6, 384, 0, 0, 0, 0, 0, 0, 0, 0, 0), s);
            assertEquals(6, s.liveBlocks());
            assertEquals(384, s.liveBytes());

            try (Guard g = r.enter()) { // an open guard keeps the retired blocks pending
                m.retire(g, b[0]);
                m.retire(b[1]);
                s = m.stats();
                assertEquals(2, s.retiredBlocks());
                assertEquals(2, s.pendingBlocks());
                assertEquals(128, s.pendingBytes());
                assertEquals(384, s.liveBytes(), "pending blocks are live until freed");
            }
            m.free(b[2]); // quarantine weight 80
            m.free(b[3]); // 160
            assertEquals(2, m.stats().quarantinedBlocks());
            r.flush();   // b[0], b[1] freed: weight 320 > 200, the oldest leave until <= 200
            s = m.stats();
            assertEquals(0, s.pendingBlocks());
            assertEquals(4, s.freedBlocks());
            assertEquals(256, s.freedBytes());
            assertEquals(2, s.quarantinedBlocks(), "bounded by quarantineBytes: " + s);
            assertEquals(128, s.quarantinedBytes());
            assertEquals(128, s.liveBytes());
            m.close();
            assertEquals(0, m.stats().quarantinedBlocks(), "close empties the quarantine");
            // a closed allocator still frees: directly, without quarantine
            m.retire(b[4]);
            m.free(b[5]);
            r.flush();
            s = m.stats();
            assertEquals(6, s.freedBlocks());
            assertEquals(0, s.liveBytes());
            assertEquals(0, s.quarantinedBytes());
            assertEquals(s.allocatedBytes(), s.freedBytes());
        }
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void addressBasedCallsShareTheHeaderTheAccountingAndTheChecks(String scheme) {
        try (Reclaimer r = Reclaimer.create(scheme)) {
            NativeMemory m = NativeMemory.builder(r).checked(true).build();
            long a = m.allocateAddress(40, 8);
            long b = m.allocateAddress(24, 64);
            long c = m.allocateAddress(8, 16);
            assertEquals(0, a % 16);
            assertEquals(0, b % 64);
            assertEquals(40, m.segment(a).byteSize());
            NativeStats s = m.stats();
            assertEquals(3, s.allocatedBlocks());
            assertEquals(72, s.allocatedBytes());
            assertThrows(NullPointerException.class, () -> m.retire(0L));
            assertThrows(IllegalArgumentException.class, () -> m.free(a + 8), "not 16-aligned");
            assertThrows(IllegalArgumentException.class, () -> m.retire(a + 16), "a slice: no header");
            try (Guard g = r.enter()) {
                m.retire(g, a);
                assertThrows(IllegalStateException.class, () -> m.retire(a), "double retire");
                assertThrows(IllegalStateException.class, () -> m.free(a), "free of a retired block");
            }
            m.retire(m.segment(b)); // the segment and address calls mix
            m.free(c);
            assertThrows(UseAfterFreeException.class, () -> m.free(c), "double free (quarantined header)");
            assertThrows(UseAfterFreeException.class, () -> m.retire(c));
            reclaimAll(r);
            assertThrows(UseAfterFreeException.class, () -> m.retire(a), "retire after the action freed it");
            s = m.stats();
            assertEquals(3, s.freedBlocks());
            assertEquals(72, s.freedBytes());
            assertEquals(0, s.pendingBlocks());
            assertEquals(0, s.liveBytes());
            m.close();
        }
    }

    @Test
    void accountingIsExactAcrossThreadChurn() throws Exception {
        try (Reclaimer r = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.builder(r).checked(false).build()) {
            int threads = 200;
            List<Thread> all = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread th = (t % 2 == 0 ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
                    for (int i = 0; i < 10; i++) {
                        long a = m.allocateAddress(32, 8);
                        if (i % 2 == 0) m.retire(a);
                        else m.free(a);
                    }
                });
                all.add(th);
                if (t % 3 == 0) th.join(); // some end before others start, some overlap
                if (t % 50 == 49) assertTrue(m.stats().allocatedBlocks() <= (t + 1) * 10L);
            }
            for (Thread th : all) th.join();
            r.flush();
            NativeStats s = m.stats();
            assertEquals(threads * 10L, s.allocatedBlocks());
            assertEquals(threads * 320L, s.allocatedBytes());
            assertEquals(threads * 5L, s.retiredBlocks());
            assertEquals(threads * 10L, s.freedBlocks());
            assertEquals(threads * 320L, s.freedBytes());
            assertEquals(0, s.pendingBlocks());
        }
    }

    @Test
    void pendingBlocksAreFreedWhenTheReclaimerClosesAfterTheAllocator() {
        Reclaimer r = Reclaimer.create("none");
        NativeMemory m = NativeMemory.builder(r).checked(true).build();
        for (int i = 0; i < 10; i++) m.retire(m.allocate(100, 8));
        m.close();
        assertEquals(10, m.stats().pendingBlocks());
        r.close();
        NativeStats s = m.stats();
        assertEquals(0, s.pendingBlocks());
        assertEquals(10, s.freedBlocks());
        assertEquals(0, s.quarantinedBlocks(), "freed directly after close");
    }

    @Test
    void uncheckedModeDetectsDoubleRetireOfAPendingBlock() {
        try (Reclaimer r = Reclaimer.create("none"); NativeMemory m = NativeMemory.builder(r).checked(false).build()) {
            assertFalse(m.isChecked());
            MemorySegment s = m.allocate(8, 8);
            m.retire(s);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.retire(s));
            assertTrue(e.getMessage().contains(hex(s.address())) && e.getMessage().contains("none"));
        }
    }

    @Test
    void jfrEventCarriesTheFigures() throws Exception {
        try (Reclaimer r = Reclaimer.create("ebr");
             NativeMemory m = NativeMemory.builder(r).checked(true).build();
             RecordingStream rs = new RecordingStream()) {
            for (int i = 0; i < 3; i++) m.allocate(100, 8);
            m.free(m.allocate(50, 8));
            CountDownLatch seen = new CountDownLatch(1);
            AtomicReference<RecordedEvent> event = new AtomicReference<>();
            rs.enable(NativeMemoryEvent.NAME).withPeriod(Duration.ofMillis(20));
            rs.onEvent(NativeMemoryEvent.NAME, e -> {
                if (m.toString().equals(e.getString("allocator")) && event.compareAndSet(null, e)) seen.countDown();
            });
            rs.startAsync();
            assertTrue(seen.await(30, TimeUnit.SECONDS), "no reclaim.NativeMemory event for " + m);
            RecordedEvent e = event.get();
            assertEquals("ebr", e.getString("scheme"));
            assertTrue(e.getBoolean("checked"));
            assertEquals(4, e.getLong("allocatedBlocks"));
            assertEquals(350, e.getLong("allocatedBytes"));
            assertEquals(1, e.getLong("freedBlocks"));
            assertEquals(50, e.getLong("freedBytes"));
            assertEquals(3, e.getLong("liveBlocks"));
            assertEquals(300, e.getLong("liveBytes"));
            assertEquals(1, e.getLong("quarantinedBlocks"));
            assertEquals(0, e.getLong("useAfterFree"));
            assertTrue(Set.of("allocatedBlocks", "pendingBytes", "retiredBlocks", "quarantinedBytes")
                    .stream().allMatch(f -> e.getEventType().getField(f) != null));
        }
    }

    @Test
    void builderChecksItsArguments() {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            assertThrows(IllegalArgumentException.class, () -> NativeMemory.builder(r).quarantineBytes(-1));
            assertThrows(NullPointerException.class, () -> NativeMemory.create(null));
            try (NativeMemory m = NativeMemory.builder(r).quarantineBytes(0).checked(true).build()) {
                assertEquals(0, m.quarantineBytes());
                m.free(m.allocate(8, 8));
                assertEquals(0, m.stats().quarantinedBlocks(), "a zero quarantine frees at once");
                assertEquals(r, m.reclaimer());
            }
        }
    }
}
