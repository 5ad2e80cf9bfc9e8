package reclaim.offheap.mapped;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * {@link MappedFileSwap} under every scheme present (but "none", which never reclaims): the demo of files
 * replaced thousands of times under readers that check every byte they read, then the errors and races.
 */
class MappedFileSwapTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream().filter(s -> !s.equals("none"));
    }

    @TempDir
    Path dir;

    /**
     * The demo: readers scan and checksum the current file while the writer replaces it thousands of times;
     * the JVM surviving proves no reader touched an unmapped page (that is a SIGSEGV), the checksums prove
     * each read saw a whole, live file, and the counts and {@code /proc/self/maps} prove every mapping was
     * unmapped exactly once.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void readersNeverSeeAnUnmappedFile(String scheme) throws Exception {
        final int replacements = 6000;
        final int readers = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors() - 1));
        List<Path> files = TestFiles.create(dir, 6);
        long mapsAtStart = TestFiles.mappingsUnder(dir);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong scans = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Set<Integer> seen = ConcurrentHashMap.newKeySet();
        CountDownLatch started = new CountDownLatch(readers);

        try (Reclaimer r = Reclaimer.create(scheme)) {
            MappedFileSwap swap = new MappedFileSwap(r, files.get(0));
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < readers; t++) {
                threads.add(Thread.ofPlatform().name("reader-" + t).start(() -> {
                    started.countDown();
                    try {
                        while (!stop.get()) {
                            try (Guard g = r.enter()) {
                                MappedFile m = swap.read(g);
                                if (!m.isMapped()) throw new AssertionError("read an unmapped file: " + m);
                                int index = TestFiles.verify(m.segment());
                                if (!m.path().equals(files.get(index))) {
                                    throw new AssertionError(m.path() + " holds file " + index);
                                }
                                if (!m.isMapped()) throw new AssertionError("unmapped while read: " + m);
                                seen.add(index);
                            }
                            scans.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            assertTrue(started.await(10, TimeUnit.SECONDS));
            long lastScans = scans.get();
            long t0 = System.nanoTime();
            for (int i = 1; i <= replacements && failure.get() == null; i++) {
                swap.replace(files.get(i % files.size()));
                if (i % 64 == 0) {
                    // keep the readers in the race: wait until they scanned since the last check
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (scans.get() == lastScans && System.nanoTime() < deadline) Thread.onSpinWait();
                    lastScans = scans.get();
                }
            }
            long elapsed = System.nanoTime() - t0;
            stop.set(true);
            for (Thread t : threads) t.join();
            if (failure.get() != null) throw new AssertionError("a reader failed", failure.get());
            assertEquals(replacements + 1, swap.mapped());
            System.out.printf("mapped swap %s: %d replaces under %d readers, %d scans, %.1f us per replace"
                    + " (waits for readers included)%n", scheme, replacements, readers, scans.get(),
                    elapsed / 1e3 / replacements);

            swap.close();
            assertTrue(swap.isClosed());
            r.flush(); // no guard is open: everything retired is reclaimed now
            assertEquals(swap.mapped(), swap.unmapped(), "every mapping unmapped once, after flush");
        }
        assertTrue(scans.get() > replacements / 64, "readers ran: " + scans.get());
        assertTrue(seen.size() > 1, "readers saw several files: " + seen);
        assertEquals(mapsAtStart, TestFiles.mappingsUnder(dir), "no mapping of the files is left");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aReplacedFileStaysMappedWhileAGuardThatReadItIsOpen(String scheme) throws IOException {
        List<Path> files = TestFiles.create(dir, 2);
        try (Reclaimer r = Reclaimer.create(scheme); MappedFileSwap swap = new MappedFileSwap(r, files.get(0))) {
            MappedFile old;
            try (Guard g = r.enter()) {
                old = swap.read(g);
                assertSame(old, swap.read(g));
                swap.replace(files.get(1));
                r.flush();
                assertTrue(old.isMapped(), "unmapped under an open guard");
                assertEquals(0, TestFiles.verify(old.segment()));
                MappedFile now = swap.read(g);
                assertNotSame(old, now);
                assertEquals(1, TestFiles.verify(now.segment()));
            }
            r.flush();
            assertFalse(old.isMapped(), "unmapped after the guard closed and a flush");
            assertEquals(1, swap.unmapped());
            assertEquals(1, (int) swap.read(m -> TestFiles.verify(m.segment())));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void useAfterCloseIsRefused(String scheme) throws IOException {
        List<Path> files = TestFiles.create(dir, 2);
        try (Reclaimer r = Reclaimer.create(scheme)) {
            MappedFileSwap swap = new MappedFileSwap(r, files.get(0));
            swap.close();
            swap.close(); // idempotent
            try (Guard g = r.enter()) {
                assertThrows(IllegalStateException.class, () -> swap.read(g));
            }
            assertThrows(IllegalStateException.class, () -> swap.read(m -> m));
            assertThrows(IllegalStateException.class, () -> swap.replace(files.get(1)));
            r.flush();
            assertEquals(1, swap.mapped());
            assertEquals(1, swap.unmapped());
            assertTrue(swap.toString().contains("closed"), swap.toString());
        }
        assertEquals(0, Math.max(0, TestFiles.mappingsUnder(dir)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aFailedReplaceChangesNothing(String scheme) throws IOException {
        List<Path> files = TestFiles.create(dir, 1);
        try (Reclaimer r = Reclaimer.create(scheme); MappedFileSwap swap = new MappedFileSwap(r, files.get(0))) {
            Path missing = dir.resolve("missing");
            IOException e = assertThrows(IOException.class, () -> swap.replace(missing));
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
            assertEquals(files.get(0), swap.read(MappedFile::path));
            assertEquals(1, swap.mapped());
            assertEquals(0, swap.unmapped());
            assertThrows(IOException.class, () -> new MappedFileSwap(r, missing));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aGuardOfAnotherReclaimerIsRefused(String scheme) throws IOException {
        List<Path> files = TestFiles.create(dir, 1);
        try (Reclaimer r = Reclaimer.create(scheme); Reclaimer other = Reclaimer.create(scheme);
                MappedFileSwap swap = new MappedFileSwap(r, files.get(0))) {
            try (Guard g = other.enter()) {
                assertThrows(IllegalArgumentException.class, () -> swap.read(g));
            }
            assertThrows(NullPointerException.class, () -> swap.read((Guard) null));
        }
    }

    /** Writers replace at once from several threads: each replaced mapping is retired, and unmapped, once. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void concurrentReplacesUnmapEachOldMappingOnce(String scheme) throws Exception {
        final int writers = 4;
        final int each = 300;
        List<Path> files = TestFiles.create(dir, 5);
        long unmappedBefore = MappedFile.totalUnmapped();
        MappedFileSwap swap;
        try (Reclaimer r = Reclaimer.create(scheme)) {
            swap = new MappedFileSwap(r, files.get(0));
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int id = w;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < each; i++) {
                            swap.replace(files.get((id + i) % files.size()));
                            try (Guard g = r.enter()) {
                                TestFiles.verify(swap.read(g).segment());
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            go.countDown();
            for (Thread t : threads) t.join();
            if (failure.get() != null) throw new AssertionError("a writer failed", failure.get());
            swap.close();
        } // the reclaimer's close reclaims everything retired
        assertEquals(1 + writers * each, swap.mapped());
        assertEquals(swap.mapped(), swap.unmapped());
        assertTrue(MappedFile.totalUnmapped() - unmappedBefore >= swap.unmapped());
        assertEquals(0, Math.max(0, TestFiles.mappingsUnder(dir)));
    }

    /** Replaces racing close: a mapping made for a replace that lost to close is unmapped at once. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void replacesRacingCloseLeaveNothingMapped(String scheme) throws Exception {
        List<Path> files = TestFiles.create(dir, 3);
        MappedFileSwap swap;
        try (Reclaimer r = Reclaimer.create(scheme)) {
            swap = new MappedFileSwap(r, files.get(0));
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong done = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int i = 0; ; i++) {
                            swap.replace(files.get(i % files.size()));
                            done.incrementAndGet();
                        }
                    } catch (IllegalStateException closed) {
                        // expected: the holder was closed
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            while (done.get() < 200) Thread.onSpinWait();
            swap.close();
            for (Thread t : threads) t.join();
            if (failure.get() != null) throw new AssertionError("a writer failed", failure.get());
        }
        assertEquals(swap.mapped(), swap.unmapped());
        assertEquals(0, Math.max(0, TestFiles.mappingsUnder(dir)));
    }

    /**
     * A reader stalled inside a guard: a robust scheme keeps the replaced files still mapped within its
     * bound, since each mapping is {@link reclaim.api.Born}; EBR and QSBR keep them all (not asserted).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void aStalledReaderKeepsABoundedNumberMappedUnderRobustSchemes(String scheme) throws Exception {
        List<Path> files = TestFiles.create(dir, 4);
        try (Reclaimer r = Reclaimer.create(scheme)) {
            MappedFileSwap swap = new MappedFileSwap(r, files.get(0));
            CountDownLatch reading = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicReference<MappedFile> held = new AtomicReference<>();
            Thread stalled = Thread.ofPlatform().start(() -> {
                try (Guard g = r.enter()) {
                    held.set(swap.read(g));
                    reading.countDown();
                    release.await();
                    TestFiles.verify(held.get().segment()); // still mapped after all the replaces
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(reading.await(10, TimeUnit.SECONDS));
            final int replacements = 2000;
            long most = 0;
            for (int i = 1; i <= replacements; i++) {
                swap.replace(files.get(i % files.size()));
                if (i % 100 == 0) {
                    r.flush();
                    most = Math.max(most, swap.mapped() - swap.unmapped());
                }
            }
            assertTrue(held.get().isMapped(), "the stalled reader's file stays mapped");
            System.out.printf("stalled reader, %s: at most %d still mapped of %d replaced (bound %d)%n",
                    scheme, most, replacements, r.pendingBound());
            if (r.scheme().robust()) {
                long bound = r.pendingBound();
                assertTrue(most <= bound + 2, "still mapped " + most + " > bound " + bound + " + 2");
                assertTrue(most < replacements / 2, "robust scheme kept " + most + " of " + replacements);
            }
            release.countDown();
            stalled.join();
            swap.close();
            r.flush();
            assertEquals(swap.mapped(), swap.unmapped());
        }
        assertEquals(0, Math.max(0, TestFiles.mappingsUnder(dir)));
    }
}
