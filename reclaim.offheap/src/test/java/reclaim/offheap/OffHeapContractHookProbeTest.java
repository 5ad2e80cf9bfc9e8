package reclaim.offheap;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.map.OffHeapMap;
import reclaim.offheap.map.Serializer;
import reclaim.offheap.mapped.MappedFile;
import reclaim.offheap.mapped.MappedFileSwap;
import reclaim.offheap.slots.SlotMemory;
import reclaim.offheap.slots.SlotWrite;

/**
 * Outside-in probes of {@code reclaim.offheap}'s documented contract, with the race windows opened by hooks that
 * only the public API offers: a {@link Reclaimer} that delegates to a built-in one and runs code inside
 * {@code retire} or {@code era} (the interface is public and open to other implementations), and a
 * {@link Serializer} that runs code while the map deserializes. No sleeps: where a probe must tell "never returns"
 * from "returns", it waits a bounded time for a result that cannot come while the condition holds, then removes
 * the condition itself.
 *
 * <p>Probes that found a broken promise, each kept as the test of its fix (the list says what it found):
 * <ul>
 *   <li>{@link #aFreeRacingARefusedRetireIsNotToldTheBlockIsRetired} &mdash; a {@code free} that meets the
 *       transient RETIRED state of a retire the reclaimer then refuses was refused as "already retired (its retire
 *       action will free it)"; no action existed, both calls failed, and the block was left live. A closed
 *       reclaimer now refuses the retire before the block changes state.</li>
 *   <li>{@link #aSerializerThatCallsBackIntoTheMapCannotCorruptIt} &mdash; a value serializer whose {@code read}
 *       (run by {@code put} under the segment's reentrant lock) removes the key: the put then replaces an entry
 *       already unlinked; {@code size()} and {@code usedBytes()} no longer match the entries, the entry is retired
 *       twice, and {@code close()} blames a closing reclaimer.</li>
 *   <li>{@link #containsValueComparesValuesAsSerializedBytes} &mdash; "Keys and values are compared as serialized
 *       bytes", but {@code containsValue}, {@code values().contains} and {@code entrySet().contains} compare with
 *       {@code equals} (identity for {@code byte[]}).</li>
 *   <li>{@link #copyByTheThreadThatHoldsTheSlotsWriteFailsInsteadOfSpinning} &mdash; {@code copy(h)} called by the
 *       thread that holds a {@code SlotWrite} of {@code h} spins until someone else frees the slot (for ever if no
 *       one does); "Clear failures" promises a refusal for a thread's conflict with its own access.</li>
 *   <li>{@link #mappingAPathOfAnotherFileSystemDoesNotMapADifferentFile} &mdash; {@code MappedFile.map} of a path
 *       of a non-default file system (a zip file system) maps the default file system's file that has the same
 *       name.</li>
 *   <li>{@link #loadThroughAGuardOfAnotherReclaimerIsRefusedOrProtects} &mdash; {@code load} takes a guard of
 *       another reclaimer and returns normally; the block it "protected" is freed by this allocator's reclaimer
 *       while that guard is open (retire(Guard, ...) refuses such a guard with IllegalArgumentException).</li>
 *   <li>{@link #toStringIsTheDocumentedName} &mdash; {@code NativeMemory.toString()} is documented as
 *       {@code NativeMemory#n (scheme)}, but a checked allocator says {@code NativeMemory#n (scheme, checked)}.</li>
 * </ul>
 */
class OffHeapContractHookProbeTest {

    static Stream<String> schemes() {
        return Stream.concat(Reclaimer.availableSchemes().stream(), Stream.of("crystalline-w"));
    }

    /** Schemes whose flush() reclaims what was retired when no guard is open ("none" reclaims only at close). */
    static Stream<String> reclaimingSchemes() {
        return schemes().filter(s -> !s.equals("none"));
    }

    /** Runs {@code body} on a new thread and waits for it; returns what it threw, or null. */
    private static Throwable onAnotherThread(ThrowingRunnable body) {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable x) {
                thrown.set(x);
            }
        }, "probe-other");
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return thrown.get();
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    // ------------------------------------------------------------------------------------------------
    // NativeMemory

    /**
     * NativeMemory.retire: "@throws IllegalStateException if ... the reclaimer is closed" (a refused retire leaves
     * the block live: retireAt's undo); NativeMemory.free: "@throws IllegalStateException if the block is retired
     * (its retire action will free it)". A free that runs while a retire of the same block is being refused must
     * not be told the block is retired: no retire action will ever free it. Here the retire's CAS to RETIRED has
     * happened and the reclaimer (closed) has not yet refused; the hook runs the free on another thread at that
     * point. Exactly one of the two calls should take the block.
     */
    @Test
    void aFreeRacingARefusedRetireIsNotToldTheBlockIsRetired() {
        String scheme = "hp"; // the same under every scheme: the window is NativeMemory's own
        HookedReclaimer r = new HookedReclaimer(Reclaimer.create(scheme));
        try (NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            long block = m.allocateAddress(16, 16);
            r.inner.close(); // every retire is refused from now on
            AtomicReference<Throwable> freeOutcome = new AtomicReference<>();
            r.beforeRetire.set(() -> freeOutcome.set(onAnotherThread(() -> m.free(block))));
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> m.retire(block));
            assertFalse(refused instanceof UseAfterFreeException, refused.toString());
            Throwable free = freeOutcome.get();
            NativeStats s = m.stats();
            assertNull(free, scheme + ": retire was refused (" + refused.getMessage() + ") and the racing free was"
                    + " refused too, so nobody took the block: " + free + "; " + s);
            // The closed reclaimer refuses the retire before the block changes state: the block is still live
            // (the hook's free took it if the reclaimer was reached; otherwise this caller still owns it).
            if (s.freedBlocks() == 0) {
                assertEquals(1, s.liveBlocks(), s.toString());
                m.free(block);
            }
            assertEquals(1, m.stats().freedBlocks(), m.stats().toString());
            assertEquals(0, m.stats().retiredBlocks(), m.stats().toString());
        }
    }

    /**
     * NativeMemory.load: "@param guard an open guard of this allocator's reclaimer" and "reserves it in {@code slot}
     * of {@code guard} ...: the block at the returned address is not freed until the slot is reserved again or the
     * guard closes". {@code retire(Guard, ...)} refuses another reclaimer's guard with IllegalArgumentException, as
     * {@code MappedFileSwap.read(Guard)} and {@code SlotMemory.getLong(Guard, ...)} do; a load through such a guard
     * must be refused too, or protect. Checked mode makes the outcome visible (a use-after-free detection, never
     * a crash).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaimingSchemes")
    void loadThroughAGuardOfAnotherReclaimerIsRefusedOrProtects(String scheme) {
        try (Reclaimer r = Reclaimer.create(scheme);
             Reclaimer other = Reclaimer.create(scheme);
             NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            MemorySegment node = m.allocate(16, 16);
            MemorySegment holder = m.allocate(8, 8);
            holder.set(JAVA_LONG, 0, node.address());
            String outcome = null;
            try (Guard g = other.enter()) {
                long a;
                try {
                    a = m.load(g, holder, 0, 0);
                } catch (IllegalArgumentException refused) {
                    a = 0; // refused, as retire(Guard, ...) refuses such a guard: fine
                }
                holder.set(JAVA_LONG, 0, 0L); // unlink
                m.retire(node);
                r.flush(); // no guard of r is open: the node is reclaimed unless the load protected it
                if (a != 0) {
                    try {
                        m.getLong(a, 0);
                    } catch (UseAfterFreeException uaf) {
                        outcome = "load(" + other.scheme().name() + " guard of another reclaimer) returned normally"
                                + " and the block was freed while the guard was open: " + uaf.getMessage();
                    }
                }
            }
            m.free(holder);
            assertNull(outcome, scheme);
        }
    }

    /**
     * Checked mode: "the oldest blocks leave the quarantine (are really freed) when the quarantined bytes exceed
     * quarantineBytes" (each block weighing "its size plus HEADER_SIZE"), "and all at close()"; a block still in
     * quarantine is detected; after close, blocks are freed "directly, without quarantine".
     */
    @Test
    void theQuarantineKeepsTheNewestBlocksWithinItsLimitAndEmptiesAtClose() {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            NativeMemory m = NativeMemory.builder(r).checked(true).quarantineBytes(100).build();
            long a = m.allocateAddress(40, 8);
            long b = m.allocateAddress(40, 8);
            long c = m.allocateAddress(40, 8);
            m.free(a); // weight 56
            assertEquals(1, m.stats().quarantinedBlocks(), m.stats().toString());
            assertEquals(40, m.stats().quarantinedBytes(), m.stats().toString());
            m.free(b); // weight 112 > 100: a leaves
            assertEquals(1, m.stats().quarantinedBlocks(), m.stats().toString());
            assertThrows(UseAfterFreeException.class, () -> m.getLong(b, 0), "b is still in quarantine");
            assertEquals(1, m.stats().useAfterFree());
            m.close();
            assertEquals(0, m.stats().quarantinedBlocks(), m.stats().toString());
            m.free(c);
            NativeStats s = m.stats();
            assertEquals(0, s.quarantinedBlocks(), s.toString());
            assertEquals(3, s.freedBlocks(), s.toString());
            assertEquals(0, s.liveBytes(), s.toString());
            assertEquals(100, m.quarantineBytes());
        }
    }

    /**
     * NativeMemory.toString(): "Returns this allocator's name, {@code NativeMemory#n (scheme)}, or
     * {@code NativeMemory#n (scheme, checked)} in checked mode".
     */
    @Test
    void toStringIsTheDocumentedName() {
        try (Reclaimer r = Reclaimer.create("ebr");
             NativeMemory plain = NativeMemory.builder(r).checked(false).build();
             NativeMemory checked = NativeMemory.builder(r).checked(true).build()) {
            assertTrue(plain.toString().matches("NativeMemory#\\d+ \\(ebr\\)"), plain.toString());
            assertTrue(checked.toString().matches("NativeMemory#\\d+ \\(ebr, checked\\)"),
                    "documented as NativeMemory#n (scheme, checked), was " + checked);
        }
    }

    /**
     * NativeMemory.retire(Guard, ...): "@throws IllegalArgumentException if ... {@code guard} belongs to another
     * reclaimer"; the refused block stays live and uncounted.
     */
    @Test
    void retireThroughAGuardOfAnotherReclaimerIsRefusedAndLeavesTheBlockLive() {
        try (Reclaimer r = Reclaimer.create("hp");
             Reclaimer other = Reclaimer.create("hp");
             NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            MemorySegment block = m.allocate(16, 8);
            long address = m.allocateAddress(16, 8);
            try (Guard g = other.enter()) {
                assertThrows(IllegalArgumentException.class, () -> m.retire(g, block));
                assertThrows(IllegalArgumentException.class, () -> m.retire(g, address));
            }
            assertEquals(0, m.stats().retiredBlocks(), m.stats().toString());
            m.free(block);
            m.free(address);
            assertEquals(0, m.stats().liveBlocks());
        }
    }

    /**
     * allocate: "@throws IllegalArgumentException if {@code byteSize} is negative or too large, or
     * {@code byteAlignment} is not a power of two or too large"; a refused allocation counts nothing.
     */
    @Test
    void allocationArgumentsOutOfRangeAreRefusedAndCountNothing() {
        try (Reclaimer r = Reclaimer.create("ebr"); NativeMemory m = NativeMemory.create(r)) {
            long[][] bad = {{-1, 8}, {NativeMemory.MAX_BLOCK_SIZE + 1, 8}, {8, 0}, {8, 3}, {8, -8},
                    {8, NativeMemory.MAX_ALIGNMENT * 2}, {8, Long.MIN_VALUE}};
            for (long[] b : bad) {
                assertThrows(IllegalArgumentException.class, () -> m.allocate(b[0], b[1]), b[0] + ", " + b[1]);
                assertThrows(IllegalArgumentException.class, () -> m.allocateZeroed(b[0], b[1]), b[0] + ", " + b[1]);
                assertThrows(IllegalArgumentException.class, () -> m.allocateAddress(b[0], b[1]), b[0] + ", " + b[1]);
            }
            assertEquals(0, m.stats().allocatedBlocks(), m.stats().toString());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // OffHeapMap

    /** UTF-8 strings, running a one-shot hook whenever a value is deserialized. */
    private static final class HookedUtf8 implements Serializer<String> {
        final AtomicReference<Runnable> onRead = new AtomicReference<>();

        @Override
        public int size(String value) {
            return Serializer.utf8().size(value);
        }

        @Override
        public void write(String value, MemorySegment target) {
            Serializer.utf8().write(value, target);
        }

        @Override
        public String read(MemorySegment source) {
            String s = Serializer.utf8().read(source);
            Runnable h = onRead.getAndSet(null);
            if (h != null) h.run();
            return s;
        }
    }

    /**
     * OffHeapMap: "Every operation of {@link java.util.concurrent.ConcurrentMap} is linearizable"; Serializer puts no
     * restriction on what {@code read} may do beyond not keeping the segment. {@code put} deserializes the previous
     * value under the segment's (reentrant) lock; a {@code read} that removes the key there must either be refused
     * or be ordered before or after the put, leaving a map whose {@code size()} and {@code usedBytes()} match its
     * entries and whose {@code close()} frees everything.
     */
    @Test
    void aSerializerThatCallsBackIntoTheMapCannotCorruptIt() {
        Reclaimer r = Reclaimer.create("ebr");
        HookedUtf8 values = new HookedUtf8();
        OffHeapMap<String, String> map = OffHeapMap.builder(r, Serializer.utf8(), values)
                .capacityBytes(1 << 16).segments(1).checked(true).build();
        List<String> wrong = new ArrayList<>();
        try {
            map.put("k", "v1");
            map.put("j", "w1");
            values.onRead.set(() -> map.remove("k"));
            String previous;
            try {
                previous = map.put("k", "v2");
            } catch (IllegalStateException refused) {
                previous = "refused: " + refused.getMessage(); // a refusal of the re-entrant call is fine
            }
            int entries = 0;
            long bytes = 0;
            for (Map.Entry<String, String> e : snapshot(map)) {
                entries++;
                bytes += OffHeapMap.HEADER + e.getKey().length() + e.getValue().length();
            }
            if (map.size() != entries) {
                wrong.add("size() " + map.size() + " but " + entries + " entries iterated");
            }
            if (map.usedBytes() != bytes) {
                wrong.add("usedBytes() " + map.usedBytes() + " but the entries take " + bytes);
            }
            try {
                map.close();
            } catch (RuntimeException e) {
                wrong.add("close() threw " + e);
            }
            if (!wrong.isEmpty()) wrong.add(0, "put returned " + previous);
        } finally {
            try {
                map.close();
            } catch (RuntimeException ignoredAgain) {
                // reported above
            }
            r.close();
            try {
                map.close(); // frees what a closing reclaimer refused
            } catch (RuntimeException e) {
                wrong.add("close() after the reclaimer closed threw " + e);
            }
            map.memory().close(); // the quarantine back to the C library, whatever happened
        }
        NativeStats s = map.nativeStats();
        if (s.liveBlocks() != 0 || s.useAfterFree() != 0) wrong.add("after close: " + s);
        assertTrue(wrong.isEmpty(), String.join("; ", wrong));
    }

    private static List<Map.Entry<String, String>> snapshot(OffHeapMap<String, String> map) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, String>> it = map.entrySet().iterator(); it.hasNext(); ) out.add(it.next());
        return out;
    }

    /**
     * OffHeapMap: "Keys and values are compared as serialized bytes." With {@link Serializer#bytes()}, a value is
     * found by an equal array, as a key is ({@code get} and {@code remove(key, value)} do so).
     */
    @Test
    void containsValueComparesValuesAsSerializedBytes() {
        try (Reclaimer r = Reclaimer.create("ebr");
             OffHeapMap<byte[], byte[]> map = OffHeapMap.builder(r, Serializer.bytes(), Serializer.bytes())
                     .capacityBytes(1 << 16).segments(2).build()) {
            map.put(new byte[] {1}, new byte[] {7, 7});
            assertArrayEquals(new byte[] {7, 7}, map.get(new byte[] {1}), "keys compare as bytes");
            List<String> wrong = new ArrayList<>();
            if (!map.containsValue(new byte[] {7, 7})) wrong.add("containsValue(equal bytes) is false");
            if (!map.values().contains(new byte[] {7, 7})) wrong.add("values().contains(equal bytes) is false");
            if (!map.entrySet().contains(Map.entry(new byte[] {1}, new byte[] {7, 7}))) {
                wrong.add("entrySet().contains(equal bytes) is false");
            }
            assertTrue(map.containsKey(new byte[] {1}));
            assertTrue(wrong.isEmpty(), wrong.toString());
            assertTrue(map.remove(new byte[] {1}, new byte[] {7, 7}), "remove(key, value) compares bytes");
        }
    }

    /**
     * OffHeapMap: readers "read the chain with {@link Guard#reserve} hand over hand ..., so the same code is safe
     * under every scheme"; "An entry replaced or removed is unlinked and retired to the reclaimer, which frees its
     * block once no reader can hold it"; read(key, reader): "reader sees the value's native bytes (valid only
     * during the call)". Inside the reader, another thread replaces every entry (resizing tables), removes the one
     * being read, flushes the reclaimer and closes the map: the bytes the reader holds stay the value it found
     * (checked mode would have poisoned them if freed).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aValueReadInPlaceSurvivesReplaceRemoveFlushAndCloseUnderIt(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        OffHeapMap<String, String> map = OffHeapMap.builder(r, Serializer.utf8(), Serializer.utf8())
                .capacityBytes(1 << 16).segments(2).initialBuckets(2).checked(true).build();
        for (int i = 0; i < 40; i++) map.put("k" + i, "value-" + i);
        String seen = map.read("k7", bytes -> {
            Throwable t = onAnotherThread(() -> {
                for (int i = 0; i < 40; i++) map.put("k" + i, "other-" + i);
                for (int i = 40; i < 80; i++) map.put("k" + i, "more-" + i); // resizes: tables retired too
                map.remove("k7");
                r.flush();
                map.close();
            });
            if (t != null) throw new AssertionError("the writer failed", t);
            return new String(bytes.toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        });
        assertEquals("value-7", seen, scheme);
        assertThrows(IllegalStateException.class, () -> map.get("k1"), "closed");
        r.close();
        NativeStats s = map.nativeStats();
        assertEquals(0, s.liveBlocks(), s.toString());
        assertEquals(0, s.useAfterFree(), s.toString());
        assertEquals(0, r.stats().failed(), () -> "a retire action threw: " + r.stats());
    }

    /**
     * Builder: segments "a power of two from 1 to 1024", initialBuckets "a power of two from 2 to 2^24",
     * capacityBytes "not positive" refused, build "if the capacity leaves a segment less than 1024 bytes", memory
     * "if it belongs to another reclaimer": IllegalArgumentException each; builder "if an argument is null": NPE.
     */
    @Test
    void builderArgumentsOutOfRangeAreRefused() {
        try (Reclaimer r = Reclaimer.create("ebr"); Reclaimer other = Reclaimer.create("ebr");
             NativeMemory foreign = NativeMemory.create(other)) {
            OffHeapMap.Builder<Long, Long> b = OffHeapMap.builder(r, Serializer.int64(), Serializer.int64());
            for (int s : new int[] {0, 3, 2048, -1, 1 << 30}) {
                assertThrows(IllegalArgumentException.class, () -> b.segments(s), "segments " + s);
            }
            for (int n : new int[] {0, 1, 3, 1 << 25, -2}) {
                assertThrows(IllegalArgumentException.class, () -> b.initialBuckets(n), "initialBuckets " + n);
            }
            assertThrows(IllegalArgumentException.class, () -> b.capacityBytes(0));
            assertThrows(IllegalArgumentException.class, () -> b.capacityBytes(-1));
            assertThrows(IllegalArgumentException.class, () -> b.memory(foreign));
            assertThrows(IllegalArgumentException.class, () -> b.segments(4).capacityBytes(4 * 1024 - 1).build());
            assertThrows(NullPointerException.class, () -> OffHeapMap.builder(null, Serializer.int64(), Serializer.int64()));
            assertThrows(NullPointerException.class, () -> OffHeapMap.builder(r, null, Serializer.int64()));
            assertThrows(NullPointerException.class, () -> OffHeapMap.builder(r, Serializer.int64(), null));
            try (OffHeapMap<Long, Long> ok = b.segments(4).capacityBytes(4 * 1024).build()) {
                assertEquals(4 * 1024, ok.capacityBytes());
                ok.put(1L, 2L);
                assertEquals(2L, ok.get(1L));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // SlotMemory

    /**
     * SlotMemory, Guarantee 4 ("Clear failures"): "freeing a slot this thread still holds an access to ... [is an]
     * IllegalStateException"; the in-place write section: "copy(long) and copy(long, byte[]) retry until they copy one
     * version", with "In-place writes never wait". A thread that holds a {@link SlotWrite} of a slot and calls
     * {@code copy} on it waits for itself: the write can only be closed by this same thread. It should be refused,
     * as free is. The probe gives it a second; then another thread frees the handle, which makes the copy's next
     * read fail (stale), so the probe always ends.
     */
    @Test
    void copyByTheThreadThatHoldsTheSlotsWriteFailsInsteadOfSpinning() throws Exception {
        Reclaimer r = Reclaimer.create("ebr");
        try (SlotMemory m = SlotMemory.create(r, 2, 16)) {
            long h = m.store(new byte[8]);
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            Thread writer = new Thread(() -> {
                try (SlotWrite w = m.write(h)) {
                    w.setLong(0, 42);
                    try {
                        outcome.complete(m.copy(h));
                    } catch (Throwable t) {
                        outcome.complete(t);
                    }
                }
            }, "probe-writer");
            writer.start();
            Object result;
            boolean returned = true;
            try {
                result = outcome.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException spinning) {
                returned = false;
                m.free(h); // the copy's next read finds the handle stale and throws: the writer can close and end
                result = outcome.get(30, TimeUnit.SECONDS);
            }
            writer.join();
            assertTrue(returned, "copy(h) by the thread holding h's SlotWrite did not return within 1 s (it spins"
                    + " until another thread frees h; it then threw " + result + ")");
            assertInstanceOf(IllegalStateException.class, result, "refused as a conflict with its own access");
            if (m.isLive(h)) m.free(h);
        }
        r.close();
    }

    // ------------------------------------------------------------------------------------------------
    // MappedFile and MappedFileSwap

    /**
     * MappedFile.map: "Maps the whole of {@code path}" and "@throws IOException if the file cannot be opened or
     * mapped". A path of another file system (here a zip file system) names a file the C library cannot open by
     * that name; the call must map that file's bytes or refuse, not map the default file system's file that
     * happens to have the same name.
     */
    @Test
    void mappingAPathOfAnotherFileSystemDoesNotMapADifferentFile(@TempDir Path dir) throws Exception {
        Path onDisk = Files.write(dir.resolve("same-name.bin"), "DISK".getBytes(StandardCharsets.US_ASCII));
        try (Reclaimer r = Reclaimer.create("ebr");
             FileSystem zip = FileSystems.newFileSystem(dir.resolve("archive.zip"), Map.of("create", "true"))) {
            Path inZip = zip.getPath(onDisk.toString());
            Files.createDirectories(inZip.getParent());
            Files.write(inZip, "ZIP!".getBytes(StandardCharsets.US_ASCII));
            MappedFile m;
            try {
                m = MappedFile.map(inZip, r);
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException refused) {
                return; // refused: fine
            }
            byte[] got;
            try {
                got = m.segment().toArray(JAVA_BYTE);
            } finally {
                m.unmap();
            }
            assertEquals("ZIP!", new String(got, StandardCharsets.US_ASCII),
                    "MappedFile.map(" + inZip.toUri() + ") mapped the default file system's " + onDisk);
        }
    }

    /**
     * MappedFileSwap: "Unmapped exactly once. Every mapping this holder makes is unmapped once: ... one made by a
     * {@code replace} that lost to {@code close} at once (it was never published)"; replace: "@throws
     * IllegalStateException if this holder is closed (before or during the call ...)". The hook closes the holder
     * inside the replace, after its check and before its map (the era it stamps the new mapping with).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aReplaceThatLosesToCloseUnmapsItsMappingAtOnce(String scheme, @TempDir Path dir) throws Exception {
        HookedReclaimer r = new HookedReclaimer(Reclaimer.create(scheme));
        Path a = Files.write(dir.resolve("a"), new byte[] {1, 2, 3});
        Path b = Files.write(dir.resolve("b"), new byte[] {4, 5, 6, 7});
        MappedFileSwap swap = new MappedFileSwap(r, a);
        r.onEra.set(swap::close);
        assertThrows(IllegalStateException.class, () -> swap.replace(b));
        assertTrue(swap.isClosed());
        assertEquals(2, swap.mapped(), swap.toString());
        r.close();
        assertEquals(swap.mapped(), swap.unmapped(), scheme + ": " + swap);
    }

    /**
     * MappedFileSwap.replace: "@throws IOException if the file cannot be mapped (nothing changes)": the current
     * mapping stays, nothing is counted, and readers see the old file.
     */
    @Test
    void aReplaceThatCannotMapChangesNothing(@TempDir Path dir) throws Exception {
        try (Reclaimer r = Reclaimer.create("ebr")) {
            Path a = Files.write(dir.resolve("a"), new byte[] {9, 8});
            try (MappedFileSwap swap = new MappedFileSwap(r, a)) {
                assertThrows(java.nio.file.NoSuchFileException.class, () -> swap.replace(dir.resolve("missing")));
                assertThrows(IOException.class, () -> swap.replace(dir)); // a directory cannot be mapped
                assertEquals(1, swap.mapped(), swap.toString());
                assertEquals(0, swap.unmapped(), swap.toString());
                assertEquals(a, swap.read(MappedFile::path));
                assertEquals(2L, (long) swap.read(MappedFile::size));
            }
        }
    }

    /**
     * MappedFile, empty files: "an empty file gives a {@code MappedFile} of size 0 with an empty segment and no
     * native mapping; it is counted and unmapped (a no-op) like any other"; unmap succeeds once.
     */
    @Test
    void anEmptyFileIsCountedAndUnmappedOnce(@TempDir Path dir) throws Exception {
        Path empty = Files.write(dir.resolve("empty"), new byte[0]);
        try (Reclaimer r = Reclaimer.create("ebr")) {
            long mappedBefore = MappedFile.totalMapped();
            MappedFile m = MappedFile.map(empty, r);
            assertTrue(MappedFile.totalMapped() >= mappedBefore + 1);
            assertEquals(0, m.size());
            assertEquals(0, m.segment().byteSize());
            assertEquals(0, m.address());
            assertTrue(m.segment().isReadOnly());
            assertTrue(m.isMapped());
            m.unmap();
            assertFalse(m.isMapped());
            assertThrows(IllegalStateException.class, m::unmap);
            assertThrows(IllegalStateException.class, m::segment);
        }
    }

    /** Sanity for the probes above: with no hook set, the hooked reclaimer frees a retired block on flush, as the built-in does. */
    @Test
    void theHookedReclaimerDelegatesFaithfully() {
        HookedReclaimer r = new HookedReclaimer(Reclaimer.create("ebr"));
        try (NativeMemory m = NativeMemory.builder(r).checked(true).build()) {
            MemorySegment s = m.allocate(8, 8);
            m.retire(s);
            r.flush();
            assertEquals(1, m.stats().freedBlocks(), m.stats().toString());
        }
        r.close();
        assertTrue(r.isClosed());
        if (r.inner.stats().failed() != 0) fail("a retire action threw: " + r.inner.stats());
    }

    /**
     * module-info, "What it exports": {@code reclaim.offheap}, {@code .slots}, {@code .mapped} and {@code .map},
     * and nothing else to everyone (the baselines only to {@code reclaim.jmh}); every public method of their public
     * types is reachable through public reflection (no public method inherited from a type a client cannot see).
     */
    @Test
    void theDocumentedPackagesAreExportedAndTheirPublicMethodsReachableByPublicReflection() throws Exception {
        Module module = NativeMemory.class.getModule();
        if (!module.isNamed()) return; // on the class path there is no module to read
        java.util.Set<String> unqualified = new java.util.TreeSet<>();
        module.getDescriptor().exports().stream().filter(e -> !e.isQualified()).forEach(e -> unqualified.add(e.source()));
        assertEquals(new java.util.TreeSet<>(List.of("reclaim.offheap", "reclaim.offheap.map", "reclaim.offheap.mapped",
                "reclaim.offheap.slots")), unqualified);
        Class<?>[] types = {NativeMemory.class, NativeMemory.Builder.class, NativeStats.class,
                UseAfterFreeException.class, SlotMemory.class, reclaim.offheap.slots.SlotRead.class, SlotWrite.class,
                reclaim.offheap.slots.SlotAccess.class, reclaim.offheap.slots.SlotHeader.class,
                reclaim.offheap.slots.SlotsExhaustedException.class, OffHeapMap.class, OffHeapMap.Builder.class,
                Serializer.class, MappedFile.class, MappedFile.Mode.class, MappedFileSwap.class};
        List<String> unreachable = new ArrayList<>();
        for (Class<?> type : types) {
            for (java.lang.reflect.Method m : type.getMethods()) {
                try {
                    java.lang.invoke.MethodHandles.publicLookup().unreflect(m);
                } catch (IllegalAccessException e) {
                    unreachable.add(type.getSimpleName() + "." + m.getName() + " (declared in " + m.getDeclaringClass() + ")");
                }
            }
        }
        assertTrue(unreachable.isEmpty(), unreachable.toString());
    }
}
