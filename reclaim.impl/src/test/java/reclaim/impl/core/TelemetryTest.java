package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import jdk.jfr.consumer.RecordingStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;

/**
 * The JFR events and the stall warning: each event appears, with its fields right, for a program far shorter than
 * the snapshot's default period; a stall is reported once, as one event and one warning, under EBR and QSBR; the
 * snapshot is periodic and a last one is taken at close; a recording keeps no dropped reclaimer reachable.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TelemetryTest {
    private static final long THRESHOLD = 1_000_000L; // 1 ms: a stall shows at once
    private static final Consumer<Object> NOTHING = o -> {};

    /** A System.Logger that keeps what it is given. */
    static final class CapturingLogger implements System.Logger {
        final List<String> warnings = new CopyOnWriteArrayList<>();

        @Override
        public String getName() {
            return "reclaim";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            if (level == Level.WARNING) warnings.add(msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            if (level == Level.WARNING) warnings.add(format);
        }
    }

    /** A recording of the four events: reclamation without threshold or rate limit, the snapshot every 10 ms. */
    private static Recording record() {
        Recording rec = new Recording();
        rec.enable(StallEvent.NAME);
        rec.enable(ReclamationEvent.NAME).withoutThreshold().with("rate", "off");
        rec.enable(PendingHighWaterEvent.NAME);
        rec.enable(SnapshotEvent.NAME).withPeriod(Duration.ofMillis(10));
        rec.start();
        return rec;
    }

    /** Stops the recording and returns the events of one reclaimer, by name. */
    private static List<RecordedEvent> stop(Recording rec, String reclaimer) throws IOException {
        rec.stop();
        Path file = Files.createTempFile("telemetry", ".jfr");
        try {
            rec.dump(file);
            List<RecordedEvent> mine = new ArrayList<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                if (e.getEventType().getName().startsWith("reclaim.") && e.hasField("reclaimer")
                        && reclaimer.equals(e.getString("reclaimer"))) {
                    mine.add(e);
                }
            }
            return mine;
        } finally {
            rec.close();
            Files.deleteIfExists(file);
        }
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }

    private static Telemetry telemetry(Reclaimer r) {
        return ReclaimerHandle.coreOf(r).telemetry;
    }

    /** A thread that opens a guard (or registers, for QSBR) and stays there until released. */
    private static final class StuckReader implements AutoCloseable {
        final Thread thread;
        private final CountDownLatch in = new CountDownLatch(1);
        private final CountDownLatch out = new CountDownLatch(1);

        StuckReader(Reclaimer r, boolean register, String name) throws InterruptedException {
            thread = Thread.ofPlatform().name(name).start(() -> {
                try {
                    if (register) {
                        Registration reg = r.register(); // online: holds the grace period back
                        try {
                            in.countDown();
                            out.await();
                        } finally {
                            reg.close();
                        }
                    } else {
                        Guard g = r.enter();
                        try {
                            in.countDown();
                            out.await();
                        } finally {
                            g.close();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(in.await(10, TimeUnit.SECONDS), name + " did not enter");
        }

        /** Lets the reader leave, and waits (bounded) until it has. */
        @Override
        public void close() {
            out.countDown();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while " + thread.getName() + " left", e);
            }
            assertFalse(thread.isAlive(), thread.getName() + " did not leave");
        }
    }

    /** Retires and flushes (each flush scans the participants) until {@code done}, for at most 10 seconds. */
    private static void scanUntil(Reclaimer r, java.util.function.BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() - deadline < 0, "not within 10 s: " + what + " (" + r.stats() + ")");
            r.retire(new Object(), NOTHING);
            r.flush();
        }
    }

    @Test
    void eachEventCarriesItsFieldsInAShortProgram() throws Exception {
        Recording rec = record();
        Reclaimer r = Reclaimer.create(new Scheme.Ebr(64, 128, THRESHOLD));
        Telemetry t = telemetry(r);
        t.logTo(new CapturingLogger());
        long retired;
        try (StuckReader reader = new StuckReader(r, false, "stuck-reader")) {
            assertTrue(reader.thread.isAlive());
            for (int i = 0; i < 256; i++) r.retire(new Object(), NOTHING);
            scanUntil(r, () -> t.stallsReported() > 0, "a stall reported");
            retired = r.stats().retired();
        }
        r.flush(); // the reader left: everything sealed is reclaimed now
        long beforeClose = r.stats().reclaimed();
        assertTrue(beforeClose > 0, "nothing reclaimed after the reader left: " + r.stats());
        r.close();
        List<RecordedEvent> events = stop(rec, t.id);

        List<RecordedEvent> stalls = named(events, StallEvent.NAME);
        assertEquals(1, stalls.size(), "stall events: " + stalls);
        RecordedEvent stall = stalls.get(0);
        assertEquals("ebr", stall.getString("scheme"));
        assertNotNull(stall.getThread("stalledThread"), "the stalled thread is known for a leased participant");
        assertEquals("stuck-reader", stall.getThread("stalledThread").getJavaName());
        assertTrue(stall.getDuration("heldBackFor").toNanos() >= THRESHOLD, stall.toString());
        assertEquals(THRESHOLD, stall.getDuration("threshold").toNanos());
        assertTrue(stall.getLong("pending") > 0 && stall.getLong("pending") <= retired, stall.toString());
        assertTrue(stall.getLong("announcement") > 0, stall.toString());

        // Reported by the sealing thread and by the snapshot's thread, whose events a recording need not keep in
        // order: the marks form one chain, each raised by the CAS that reported it.
        List<RecordedEvent> marks = named(events, PendingHighWaterEvent.NAME).stream()
                .sorted(java.util.Comparator.comparingLong(e -> e.getLong("pending"))).toList();
        assertFalse(marks.isEmpty(), "no pending high-water mark while 256 objects waited");
        assertEquals(0, marks.get(0).getLong("previousMark"), marks.toString());
        assertTrue(marks.get(0).getLong("pending") >= 64, marks.toString());
        for (int i = 1; i < marks.size(); i++) {
            assertEquals(marks.get(i - 1).getLong("pending"), marks.get(i).getLong("previousMark"), marks.toString());
            assertTrue(marks.get(i).getLong("pending") >= 2 * marks.get(i).getLong("previousMark"), marks.toString());
        }

        List<RecordedEvent> batches = named(events, ReclamationEvent.NAME);
        assertFalse(batches.isEmpty(), "no reclamation event");
        long objects = 0;
        for (RecordedEvent b : batches) {
            objects += b.getLong("objects");
            assertEquals("ebr", b.getString("scheme"));
            assertEquals(0, b.getLong("failed"));
            assertTrue(b.getLong("objects") > 0 && b.getLong("objects") <= 64, b.toString());
            assertFalse(b.getDuration().isNegative(), b.toString());
            assertNotNull(b.getThread(), "the reclaiming thread");
        }
        assertEquals(retired, objects, "with the rate limit off, every reclaimed object is in one event");

        List<RecordedEvent> last = named(events, SnapshotEvent.NAME).stream().filter(e -> e.getBoolean("closed")).toList();
        assertEquals(1, last.size(), "one snapshot at close: " + last);
        RecordedEvent s = last.get(0);
        assertEquals(retired, s.getLong("retired"));
        assertEquals(retired, s.getLong("reclaimed"));
        assertEquals(0, s.getLong("pending"));
        assertEquals(0, s.getInt("stalled"));
        assertEquals(-1, s.getLong("pendingBound"), "EBR has no bound");
        assertTrue(s.getLong("pendingHighWater") >= marks.get(marks.size() - 1).getLong("pending"), s.toString());
    }

    @Test
    void aStallUnderEbrIsReportedOncePerStallAsAnEventAndAWarning() throws Exception {
        stallIsReportedOncePerStall(new Scheme.Ebr(8, 128, THRESHOLD), false);
    }

    @Test
    void aStallUnderQsbrIsReportedOncePerStallAsAnEventAndAWarning() throws Exception {
        stallIsReportedOncePerStall(new Scheme.Qsbr(8, 0, THRESHOLD), true);
    }

    /**
     * Two stalls of a reader, each met by many scans and stats() calls, are two events and two warnings. Only the
     * reports that name the stuck reader are counted: by the same rule, a retire of the test's own thread that a
     * long pause stretches past the 1 ms threshold is a stall too (QSBR: a retire announces the grace period).
     */
    private void stallIsReportedOncePerStall(Scheme scheme, boolean register) throws Exception {
        Recording rec = record();
        Reclaimer r = Reclaimer.create(scheme);
        Telemetry t = telemetry(r);
        CapturingLogger log = new CapturingLogger();
        t.logTo(log);
        for (int episode = 1; episode <= 2; episode++) {
            String name = "stuck-" + episode;
            try (StuckReader reader = new StuckReader(r, register, name)) {
                assertTrue(reader.thread.isAlive());
                scanUntil(r, () -> warningsNaming(log, name).size() == 1, "stall " + episode + " reported");
                for (int i = 0; i < 100; i++) { // the same stall, met by many more scans and stats() calls
                    r.retire(new Object(), NOTHING);
                    r.flush();
                    assertTrue(r.stats().stalled() >= 1, "the stalled reader is counted");
                }
                List<String> warnings = warningsNaming(log, name);
                assertEquals(1, warnings.size(), "a stall reported more than once: " + warnings);
                for (String part : List.of(scheme.name(), t.id, "ms", "pending", "threshold")) {
                    assertTrue(warnings.get(0).contains(part), "the warning does not name " + part + ": " + warnings);
                }
            }
        }
        r.flush();
        r.close();
        assertEquals(log.warnings.size(), t.stallsReported(), "one warning per stall reported");
        List<RecordedEvent> stalls = named(stop(rec, t.id), StallEvent.NAME);
        assertEquals(log.warnings.size(), stalls.size(), "one event per warning: " + stalls);
        for (String name : List.of("stuck-1", "stuck-2")) {
            assertEquals(1, stalls.stream().filter(e -> e.getThread("stalledThread") != null
                    && name.equals(e.getThread("stalledThread").getJavaName())).count(), name + ": " + stalls);
        }
    }

    /** Every stall is counted, but past the first ten of a reclaimer the log keeps one in a hundred. */
    @Test
    void stallWarningsThinOutPastTheFirstTen() throws Exception {
        try (Reclaimer r = Reclaimer.create(new Scheme.Ebr(8, 128, THRESHOLD))) {
            Telemetry t = telemetry(r);
            CapturingLogger log = new CapturingLogger();
            t.logTo(log);
            for (int episode = 1; episode <= 12; episode++) {
                try (StuckReader reader = new StuckReader(r, false, "stuck-" + episode)) {
                    assertTrue(reader.thread.isAlive());
                    int expected = episode;
                    scanUntil(r, () -> t.stallsReported() == expected, "stall " + episode + " reported");
                }
            }
            assertEquals(12, t.stallsReported());
            assertEquals(10, log.warnings.size(), "warnings: " + log.warnings);
            assertTrue(log.warnings.get(9).contains("from now on one stall in 100 is logged"), log.warnings.get(9));
            assertTrue(log.warnings.get(8).contains("\"stuck-9\""), log.warnings.get(8));
        }
    }

    private static List<String> warningsNaming(CapturingLogger log, String thread) {
        return log.warnings.stream().filter(w -> w.contains("\"" + thread + "\"")).toList();
    }

    @Test
    void theSnapshotIsPeriodicAndALastOneIsTakenAtClose() throws Exception {
        try (RecordingStream rs = new RecordingStream()) {
            Reclaimer r = Reclaimer.create("crystalline");
            String id = telemetry(r).id;
            CountDownLatch periodic = new CountDownLatch(1);
            CountDownLatch closing = new CountDownLatch(1);
            AtomicReference<RecordedEvent> last = new AtomicReference<>();
            AtomicLong closedEvents = new AtomicLong();
            rs.enable(SnapshotEvent.NAME).withPeriod(Duration.ofMillis(10));
            rs.onEvent(SnapshotEvent.NAME, e -> {
                if (!id.equals(e.getString("reclaimer"))) return;
                if (e.getBoolean("closed")) {
                    closedEvents.incrementAndGet();
                    last.set(e);
                    closing.countDown();
                } else {
                    periodic.countDown();
                }
            });
            rs.startAsync();
            for (int i = 0; i < 100; i++) r.retire(new Object(), NOTHING);
            assertTrue(periodic.await(30, TimeUnit.SECONDS), "no periodic snapshot of " + id);
            r.close();
            assertTrue(closing.await(30, TimeUnit.SECONDS), "no snapshot at close of " + id);
            RecordedEvent e = last.get();
            assertEquals("crystalline", e.getString("scheme"));
            assertEquals(100, e.getLong("retired"));
            assertEquals(100, e.getLong("reclaimed"));
            assertEquals(0, e.getLong("pending"));
            assertTrue(e.getLong("pendingBound") > 0, "Crystalline is bounded: " + e);
            assertEquals(r.pendingBound(), e.getLong("pendingBound"), "the snapshot's bound is not the reclaimer's");
            assertTrue(e.getLong("era") > 0, e.toString());
            assertEquals(1, closedEvents.get(), "more than one snapshot at close");
        }
    }

    /**
     * A hazard-pointer scan runs a bag none of whose objects a hazard holds whole, as the bag its sealer sealed (the
     * event names the sealer), and gathers the unprotected objects of a bag it must split into batches of its own
     * (no sealer).
     */
    @Test
    void hazardPointerScansRunUnprotectedBagsWholeAndSplitBagsWithoutASealer() throws Exception {
        Recording rec = record();
        Reclaimer r = Reclaimer.create("hp");
        String id = telemetry(r).id;
        Object held = new Object();
        AtomicReference<Object> cell = new AtomicReference<>(held);
        CountDownLatch protectedIt = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            try (Guard g = r.enter()) {
                g.protect(cell, 0);
                protectedIt.countDown();
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }, "holder");
        holder.start();
        assertTrue(protectedIt.await(30, TimeUnit.SECONDS));
        cell.set(null);
        r.retire(held, NOTHING); // the first bag holds a protected object: split
        for (int i = 1; i < 1_000; i++) r.retire(new Object(), NOTHING);
        r.flush();
        long reclaimed = r.stats().reclaimed();
        release.countDown();
        holder.join();
        r.close();
        List<RecordedEvent> batches = named(stop(rec, id), ReclamationEvent.NAME);
        assertEquals(1_000, batches.stream().mapToLong(e -> e.getLong("objects")).sum());
        assertEquals(999, reclaimed, "the flush reclaimed all but the protected object");
        String me = Thread.currentThread().getName();
        assertTrue(batches.stream().anyMatch(e -> e.getThread("sealingThread") == null),
                "the split bag's unprotected objects ran as a batch of the scan's own, naming no sealer");
        assertTrue(batches.stream().anyMatch(e -> e.getThread("sealingThread") != null
                && me.equals(e.getThread("sealingThread").getJavaName())), "a whole bag names the thread that sealed it");
    }

    /**
     * Under Hyaline the last reader to leave a batch reclaims it: the share of the writer's batches that readers
     * reclaimed is exactly what the reclaim actions saw, in the counter and in the events.
     */
    @Test
    void theBalancedShareIsTheWorkReadersDidForTheWriter() throws Exception {
        Recording rec = record();
        Reclaimer r = Reclaimer.create("hyaline");
        String id = telemetry(r).id;
        AtomicReference<Object> cell = new AtomicReference<>(new Object());
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong byReaders = new AtomicLong();
        AtomicLong all = new AtomicLong();
        Thread writer = Thread.currentThread();
        List<Thread> readers = new ArrayList<>();
        CountDownLatch started = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            readers.add(Thread.ofPlatform().name("reader-" + i).start(() -> {
                started.countDown();
                while (!done.get()) {
                    try (Guard g = r.enter()) {
                        g.protect(cell);
                        Thread.onSpinWait();
                    }
                }
            }));
        }
        assertTrue(started.await(10, TimeUnit.SECONDS));
        for (int i = 0; i < 50_000; i++) {
            r.retire(cell.getAndSet(new Object()), o -> {
                all.incrementAndGet();
                if (Thread.currentThread() != writer) byReaders.incrementAndGet();
            });
        }
        done.set(true);
        for (Thread t : readers) t.join();
        r.close();
        double share = ReclaimerHandle.coreOf(r).reclamation().balancedShare();
        assertEquals(50_000, all.get());
        assertEquals((double) byReaders.get() / all.get(), share, 1e-9, "the counter disagrees with the actions");
        List<RecordedEvent> events = stop(rec, id);
        long others = named(events, ReclamationEvent.NAME).stream().mapToLong(e -> e.getLong("othersObjects")).sum();
        assertEquals(byReaders.get(), others, "the events disagree with the actions");
        RecordedEvent last = named(events, SnapshotEvent.NAME).stream().filter(e -> e.getBoolean("closed"))
                .findFirst().orElseThrow();
        assertEquals(share, last.getDouble("balancedShare"), 1e-9);
    }

    /**
     * A reclaimer dropped without close() while a recording runs (its snapshot hook registered) is collected all the
     * same, reclaims what it held, and its close by the cleaner takes the last snapshot.
     */
    @Test
    void aRecordingKeepsNoDroppedReclaimerReachable() throws Exception {
        Recording rec = record();
        AtomicLong ran = new AtomicLong();
        String[] id = new String[1];
        WeakReference<Reclaimer> weak = useAndDrop(ran, id);
        CountDownLatch never = new CountDownLatch(1);
        for (int i = 0; i < 200 && (weak.get() != null || ran.get() == 0); i++) {
            System.gc();
            never.await(50, TimeUnit.MILLISECONDS); // the cleaner runs on its own thread: give it the chance
        }
        assertNull(weak.get(), "a dropped reclaimer stays reachable while a recording runs");
        assertEquals(1, ran.get(), "what the dropped reclaimer held was not reclaimed");
        List<RecordedEvent> last = named(stop(rec, id[0]), SnapshotEvent.NAME).stream()
                .filter(e -> e.getBoolean("closed")).toList();
        assertEquals(1, last.size(), "the cleaner's close took no last snapshot: " + last);
        assertEquals(1, last.get(0).getLong("reclaimed"));
    }

    private static WeakReference<Reclaimer> useAndDrop(AtomicLong ran, String[] id) {
        Reclaimer r = Reclaimer.create("ebr");
        id[0] = telemetry(r).id;
        try (Guard g = r.enter()) {
            g.retire(new Object(), o -> ran.incrementAndGet());
        }
        return new WeakReference<>(r);
    }

    @Test
    void theRateSettingParsesCombinesAndLimits() {
        assertEquals(100, RateControl.parse(RateControl.DEFAULT));
        assertEquals(Long.MAX_VALUE, RateControl.parse("off"));
        assertEquals(7, RateControl.parse(" 7/s "));
        assertEquals(-1, RateControl.parse("7"));
        assertEquals(-1, RateControl.parse("-1/s"));
        RateControl c = new RateControl();
        assertEquals("off", c.combine(Set.of("10/s", "off", "100/s")), "the most permissive value wins");
        assertEquals("100/s", c.combine(Set.of("10/s", "100/s")));
        c.setValue("nonsense");
        assertEquals(RateControl.DEFAULT, c.getValue(), "a value that does not parse is ignored");
        c.setValue("0/s");
        assertFalse(c.allow(), "0/s lets nothing through");
        c.setValue("off");
        for (int i = 0; i < 1_000; i++) assertTrue(c.allow());
        RateControl two = new RateControl();
        two.setValue("2/s");
        long t0 = System.nanoTime();
        assertTrue(two.allow());
        assertTrue(two.allow());
        boolean third = two.allow();
        if (System.nanoTime() - t0 < 1_000_000_000L) assertFalse(third, "a third event within the second");
    }
}
