package reclaim.offheap.mapped;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A retire that the reclaimer refuses while it closes (a {@code close()} refused because a guard was open) leaves
 * the mapping mapped, since a guard may still read it; a later {@code close()} of the holder, once the reclaimer has
 * closed, unmaps it, and one before that says so. Both ways a mapping is retired: replaced, and closed.
 */
@Timeout(60)
class MappedFileSwapWhileClosingTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    @TempDir
    Path dir;

    /** Opens a guard of {@code r} on another thread, kept until {@code release}; returns once it is open. */
    private static Thread holdGuard(Reclaimer r, CountDownLatch release) throws InterruptedException {
        CountDownLatch open = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            try (Guard g = r.enter()) {
                assertTrue(g.slots() >= 0);
                open.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "reader");
        reader.start();
        assertTrue(open.await(30, TimeUnit.SECONDS));
        return reader;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void mappingsWhoseRetireWasRefusedWhileClosingAreUnmappedByALaterCloseOnceTheReclaimerClosed(String scheme)
            throws Exception {
        List<Path> files = TestFiles.create(dir, 2);
        Reclaimer r = Reclaimer.create(scheme);
        MappedFileSwap swap = new MappedFileSwap(r, files.get(0));
        CountDownLatch release = new CountDownLatch(1);
        Thread reader = holdGuard(r, release); // a guard on another thread, which may still read the first mapping
        try {
            assertThrows(IllegalStateException.class, r::close, "close() with a guard open on another thread");
            // The reclaimer is closing: it refuses this thread's retires, and both mappings stay mapped
            assertThrows(IllegalStateException.class, () -> swap.replace(files.get(1)), scheme + ": replace");
            assertThrows(IllegalStateException.class, swap::close, scheme + ": close, the retire refused");
            assertEquals(2, swap.mapped(), scheme);
            assertEquals(0, swap.unmapped(), scheme + ": nothing unmapped while a guard is open");
        } finally {
            release.countDown();
            reader.join();
        }
        IllegalStateException early = assertThrows(IllegalStateException.class, swap::close,
                scheme + ": a close() before the reclaimer closed");
        assertTrue(early.getMessage().contains("2 mapping(s)"), early.getMessage());
        assertFalse(r.isClosed(), scheme);
        r.close();
        swap.close();
        assertEquals(2, swap.unmapped(), scheme + ": both unmapped once the reclaimer closed");
        swap.close();
        assertEquals(2, swap.unmapped(), scheme + ": once each");
        assertEquals(swap.mapped(), swap.unmapped(), scheme);
    }
    /**
     * A replace refused while the reclaimer closes keeps the old mapping; the holder's first close() once the reclaimer
     * has closed unmaps it, though that call's own retire is refused (the reclaimer is closed: it unmaps the current
     * mapping at once and says so).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void theFirstCloseAfterTheReclaimerClosedUnmapsWhatARefusedReplaceKept(String scheme) throws Exception {
        List<Path> files = TestFiles.create(dir, 2);
        Reclaimer r = Reclaimer.create(scheme);
        MappedFileSwap swap = new MappedFileSwap(r, files.get(0));
        CountDownLatch release = new CountDownLatch(1);
        Thread reader = holdGuard(r, release); // a guard on another thread, which may still read the first mapping
        try {
            assertThrows(IllegalStateException.class, r::close, "close() with a guard open on another thread");
            assertThrows(IllegalStateException.class, () -> swap.replace(files.get(1)), scheme + ": replace");
        } finally {
            release.countDown();
            reader.join();
        }
        r.close();
        assertThrows(IllegalStateException.class, swap::close, scheme + ": the reclaimer is closed, and says so");
        assertEquals(2, swap.mapped(), scheme);
        assertEquals(2, swap.unmapped(), scheme + ": the current mapping and the one the replace kept");
    }
}
