package reclaim.offheap.mapped;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.baseline.SharedArenaSwap;

/**
 * The baseline works (readers see whole files, every arena is closed once), and an informal side-by-side of
 * the replace cost with readers present; the numbers that count come from the JMH benchmark.
 */
class SharedArenaSwapTest {

    @TempDir
    Path dir;

    @Test
    void sharedArenaBaselineSwapsUnderReaders() throws Exception {
        final int replacements = 500;
        List<Path> files = TestFiles.create(dir, 4);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong scans = new AtomicLong();
        List<Thread> readers = new ArrayList<>();
        long replaceNanos;
        try (SharedArenaSwap swap = new SharedArenaSwap(files.get(0))) {
            CountDownLatch reading = new CountDownLatch(2);
            for (int t = 0; t < 2; t++) {
                readers.add(Thread.ofPlatform().start(() -> {
                    try {
                        boolean first = true;
                        while (first || !stop.get()) {
                            swap.read(TestFiles::verify);
                            scans.incrementAndGet();
                            if (first) reading.countDown();
                            first = false;
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            // both readers are scanning before the replacements start (otherwise the test races nothing)
            assertTrue(reading.await(60, TimeUnit.SECONDS), "readers did not start: " + failure.get());
            long t0 = System.nanoTime();
            for (int i = 1; i <= replacements; i++) swap.replace(files.get(i % files.size()));
            replaceNanos = System.nanoTime() - t0;
            stop.set(true);
            for (Thread t : readers) t.join();
            assertEquals(replacements, swap.closes());
            System.out.printf("shared arena: %.1f us per replace, %.1f us of it in Arena.close(), 2 readers%n",
                    replaceNanos / 1e3 / replacements, swap.closeNanos() / 1e3 / replacements);
        }
        if (failure.get() != null) throw new AssertionError("a reader failed", failure.get());
        assertTrue(scans.get() >= 2);
        assertEquals(0, Math.max(0, TestFiles.mappingsUnder(dir)));
    }

    @Test
    void reclaimerSwapForComparison() throws Exception {
        final int replacements = 500;
        List<Path> files = TestFiles.create(dir, 4);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> readers = new ArrayList<>();
        try (Reclaimer r = Reclaimer.create("ebr")) {
            MappedFileSwap swap = new MappedFileSwap(r, files.get(0));
            for (int t = 0; t < 2; t++) {
                readers.add(Thread.ofPlatform().start(() -> {
                    try {
                        while (!stop.get()) {
                            try (Guard g = r.enter()) {
                                TestFiles.verify(swap.read(g).segment());
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            long t0 = System.nanoTime();
            for (int i = 1; i <= replacements; i++) swap.replace(files.get(i % files.size()));
            long replaceNanos = System.nanoTime() - t0;
            stop.set(true);
            for (Thread t : readers) t.join();
            swap.close();
            r.flush();
            System.out.printf("reclaimer (ebr): %.1f us per replace (map + retire; munmap in reclaim), 2 readers%n",
                    replaceNanos / 1e3 / replacements);
            assertEquals(swap.mapped(), swap.unmapped());
        }
        if (failure.get() != null) throw new AssertionError("a reader failed", failure.get());
        assertEquals(0, Math.max(0, TestFiles.mappingsUnder(dir)));
    }
}
