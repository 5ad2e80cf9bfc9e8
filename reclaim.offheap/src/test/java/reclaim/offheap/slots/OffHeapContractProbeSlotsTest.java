package reclaim.offheap.slots;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.offheap.ForeignGuards.withForeignGuard;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The documented contract of {@link SlotMemory} and its accesses, probed from outside with the public API only,
 * under every scheme: refusals of closed or foreign guards, what a closed manager refuses, what a refused
 * operation leaves behind, and the bounds of in-place writes.
 */
class OffHeapContractProbeSlotsTest {

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

    /** Runs every pending reclaim action: flush, or close for "none". */
    private static void reclaimAll(Reclaimer r) {
        if (r.scheme().name().equals("none")) r.close();
        else r.flush();
    }

    /**
     * getLong/getInt/copy(Guard, ...): "@throws NullPointerException if {@code guard} is null"; "@throws
     * IllegalStateException if ... the guard is closed or owned by another thread".
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void guardScopedReadsRefuseNullClosedAndForeignGuards(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 4, 16)) {
            long h = m.store(Fixtures.payload(3, 16));
            byte[] dst = new byte[16];
            List<String> wrong = new ArrayList<>();
            Map<String, Executable> npe = new LinkedHashMap<>();
            npe.put("getLong(null)", () -> m.getLong(null, h, 0));
            npe.put("getInt(null)", () -> m.getInt(null, h, 0));
            npe.put("copy(null, h, dst)", () -> m.copy(null, h, dst));
            wrong.addAll(notThrowing(NullPointerException.class, npe));
            Guard closed = r.enter();
            closed.close();
            Map<String, Executable> ise = new LinkedHashMap<>();
            ise.put("getLong(closed)", () -> m.getLong(closed, h, 0));
            ise.put("getInt(closed)", () -> m.getInt(closed, h, 0));
            ise.put("copy(closed)", () -> m.copy(closed, h, dst));
            wrong.addAll(notThrowing(IllegalStateException.class, ise));
            withForeignGuard(r, g -> {
                Map<String, Executable> f = new LinkedHashMap<>();
                f.put("getLong(foreign)", () -> m.getLong(g, h, 0));
                f.put("getInt(foreign)", () -> m.getInt(g, h, 0));
                f.put("copy(foreign)", () -> m.copy(g, h, dst));
                wrong.addAll(notThrowing(IllegalStateException.class, f));
            });
            assertTrue(wrong.isEmpty(), scheme + ": " + wrong);
            try (Guard g = r.enter()) {
                assertEquals(3L, m.getLong(g, h, 0), "a good read still works");
            }
            m.free(h);
        }
        Fixtures.closeAndCheck(r);
    }

    /**
     * A closed manager refuses every operation with IllegalStateException, {@code isLive} included ("@throws
     * IllegalStateException if the manager is closed"), whatever handle it is given.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aClosedManagerRefusesEveryOperation(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        SlotMemory m = SlotMemory.create(r, 2, 16);
        long h = m.store(Fixtures.payload(1, 16));
        m.close();
        assertTrue(m.isClosed());
        Map<String, Executable> ops = new LinkedHashMap<>();
        ops.put("store(byte[])", () -> m.store(new byte[1]));
        ops.put("store(kind, segment)", () -> m.store(0, MemorySegment.ofArray(new byte[1])));
        ops.put("tryStore(kind, segment)", () -> m.tryStore(0, MemorySegment.ofArray(new byte[1])));
        ops.put("replace", () -> m.replace(h, 0, new byte[1]));
        ops.put("copy(h)", () -> m.copy(h));
        ops.put("copy(h, dst)", () -> m.copy(h, new byte[16]));
        ops.put("write", () -> m.write(h));
        ops.put("tryWrite", () -> m.tryWrite(h));
        ops.put("isLive(h)", () -> m.isLive(h));
        ops.put("isLive(NO_HANDLE)", () -> m.isLive(SlotMemory.NO_HANDLE));
        ops.put("isLive(even generation)", () -> m.isLive(2L << 32));
        List<String> wrong = notThrowing(IllegalStateException.class, ops);
        Fixtures.closeAndCheck(r);
        assertTrue(wrong.isEmpty(), scheme + ": " + wrong);
    }

    /**
     * store(int, MemorySegment): "@throws IllegalStateException if ... {@code payload}'s scope is" closed; the
     * refused store takes no slot (Guarantee 4, clear failures: nothing lost).
     */
    @Test
    void aStoreFromAClosedScopeIsRefusedAndKeepsItsSlot() {
        Reclaimer r = Reclaimer.create("hp");
        try (SlotMemory m = SlotMemory.create(r, 2, 16)) {
            MemorySegment gone;
            try (Arena a = Arena.ofConfined()) {
                gone = a.allocate(8);
            }
            MemorySegment payload = gone;
            assertThrows(IllegalStateException.class, () -> m.store(0, payload));
            assertThrows(IllegalStateException.class, () -> m.tryStore(0, payload));
            assertEquals(2, m.available(), "a refused store keeps no slot");
            long a = m.store(new byte[1]);
            long b = m.store(new byte[2]);
            assertTrue(m.isLive(a) && m.isLive(b));
            m.free(a);
            m.free(b);
        }
        Fixtures.closeAndCheck(r);
    }

    /**
     * replace: "@throws IllegalStateException if the handle is stale (nothing is stored then), this thread holds
     * an access to its slot"; free refuses a slot this thread holds and frees nothing. Once reclaimed, no slot is
     * lost to the refused calls.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void refusedReplacesStoreNothingAndLoseNoSlot(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 3, 16)) {
            long live = m.store(1, Fixtures.payload(1, 16));
            long stale = m.store(2, Fixtures.payload(2, 16));
            m.free(stale);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> m.replace(stale, 0, Fixtures.payload(3, 16)));
            assertTrue(Fixtures.isStale(e), e.getMessage());
            try (SlotRead held = m.read(live)) {
                int before = m.available();
                assertThrows(IllegalStateException.class, () -> m.replace(live, 0, Fixtures.payload(4, 16)));
                assertThrows(IllegalStateException.class, () -> m.free(live));
                assertEquals(before, m.available(), "a refused replace stores nothing");
                assertEquals(1L, held.getLong(0));
            }
            assertTrue(m.isLive(live));
            assertEquals(1, m.header(live).kind());
            m.free(live);
            reclaimAll(r);
            if (!r.isClosed()) {
                assertEquals(3, m.available(), "every slot back on the free list");
            }
        }
        if (!r.isClosed()) Fixtures.closeAndCheck(r);
    }

    /**
     * replace: "@throws IllegalStateException ... if the reclaimer is closed (checked before anything is stored: the
     * old message stays".
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aReplaceRefusedBecauseTheReclaimerIsClosedKeepsTheOldMessage(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 3, 16)) {
            long live = m.store(1, Fixtures.payload(1, 16));
            int before = m.available();
            r.close();
            assertThrows(IllegalStateException.class, () -> m.replace(live, 0, Fixtures.payload(2, 16)));
            assertTrue(m.isLive(live), scheme + ": the old message stays live");
            assertEquals(before, m.available(), scheme + ": nothing stored");
        }
    }

    /**
     * SlotWrite: setLength "@throws IllegalArgumentException if the length is out of range"; copyFrom "@throws
     * IllegalArgumentException if {@code src} is longer than the payload size"; set* "@throws
     * IndexOutOfBoundsException if the value is outside the slot's payload area"; "reads through this access are
     * bounded by the current {@link #length()}"; its stores are published to reads opened after it closes.
     */
    @Test
    void inPlaceWritesAreBoundedAndPublishedAtClose() {
        Reclaimer r = Reclaimer.create("ebr");
        try (SlotMemory m = SlotMemory.create(r, 2, 20)) {
            long h = m.store(5, new byte[4]);
            try (SlotWrite w = m.write(h)) {
                assertNull(m.tryWrite(h), "one writer per slot");
                assertThrows(IllegalStateException.class, () -> m.write(h));
                assertThrows(IllegalArgumentException.class, () -> w.setLength(-1));
                assertThrows(IllegalArgumentException.class, () -> w.setLength(21));
                assertThrows(IllegalArgumentException.class, () -> w.copyFrom(new byte[21]));
                assertThrows(IndexOutOfBoundsException.class, () -> w.setLong(13, 1));
                assertThrows(IndexOutOfBoundsException.class, () -> w.setInt(-1, 1));
                assertThrows(IndexOutOfBoundsException.class, () -> w.setByte(20, (byte) 1));
                w.setLong(12, 0x0102030405060708L); // inside the payload area, beyond the current length
                assertThrows(IndexOutOfBoundsException.class, () -> w.getLong(12), "reads bounded by length 4");
                w.setLength(20);
                assertEquals(0x0102030405060708L, w.getLong(12));
                w.setKind(9);
                assertEquals(9, w.kind());
            }
            assertEquals(new SlotHeader(h, 20, 9), m.header(h));
            try (SlotRead rd = m.read(h)) {
                assertEquals(0x0102030405060708L, rd.getLong(12));
                assertTrue(rd.validate());
            }
            try (SlotWrite w = m.write(h)) {
                w.copyFrom(new byte[] {1, 2, 3});
            }
            assertArrayEquals(new byte[] {1, 2, 3}, m.copy(h));
            m.free(h);
        }
        Fixtures.closeAndCheck(r);
    }

    /**
     * SlotAccess: "every method checks that the access is open and used by the thread that opened it, and throws
     * IllegalStateException otherwise"; close "@throws IllegalStateException if the access ... is closed from
     * another thread"; a write access used from another thread is refused too and the owner can still close it.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void aWriteAccessIsConfinedToItsThread(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        try (SlotMemory m = SlotMemory.create(r, 2, 16)) {
            long h = m.store(new byte[8]);
            SlotWrite w = m.write(h);
            List<String> wrong = new ArrayList<>();
            Thread t = new Thread(() -> {
                Map<String, Executable> ops = new LinkedHashMap<>();
                ops.put("setLong", () -> w.setLong(0, 1));
                ops.put("setLength", () -> w.setLength(1));
                ops.put("setKind", () -> w.setKind(1));
                ops.put("copyFrom", () -> w.copyFrom(new byte[1]));
                ops.put("length", w::length);
                ops.put("close", w::close);
                wrong.addAll(notThrowing(IllegalStateException.class, ops));
            });
            t.start();
            t.join();
            assertTrue(wrong.isEmpty(), scheme + ": " + wrong);
            assertTrue(w.isOpen());
            w.close();
            assertEquals(8, m.header(h).length(), "nothing written from the other thread");
            assertEquals(0, m.header(h).kind());
            m.free(h);
        }
        Fixtures.closeAndCheck(r);
    }

    /**
     * free: "Linearization point of free: exactly one CAS from g wins": of two threads racing to free the same
     * handles, exactly one succeeds per handle and the other gets the stale-handle IllegalStateException; every
     * slot comes back once.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.offheap.slots.Fixtures#schemes")
    void racingFreesOfOneHandleSucceedExactlyOnce(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        int n = 256;
        try (SlotMemory m = SlotMemory.create(r, n, 8)) {
            long[] handles = new long[n];
            for (int i = 0; i < n; i++) handles[i] = m.store(new byte[8]);
            java.util.concurrent.atomic.AtomicInteger wins = new java.util.concurrent.atomic.AtomicInteger();
            List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch start = new CountDownLatch(1);
            Thread[] threads = new Thread[2];
            for (int t = 0; t < 2; t++) {
                threads[t] = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (long h : handles) {
                        try {
                            m.free(h);
                            wins.incrementAndGet();
                        } catch (IllegalStateException lost) {
                            if (!Fixtures.isStale(lost)) unexpected.add(lost);
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
            assertEquals(n, wins.get(), "exactly one free per handle");
            if (!scheme.equals("none")) {
                r.flush();
                assertEquals(n, m.available(), "every slot back once");
            }
        }
        Fixtures.closeAndCheck(r);
    }
}
