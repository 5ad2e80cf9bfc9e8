package reclaim.impl.core;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jdk.jfr.FlightRecorder;
import jdk.jfr.consumer.RecordingStream;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The child JVM of {@link TelemetryChildTest}, on the class path. {@code late}: a reclaimer created before the
 * flight recorder is up gets its periodic snapshot once a recording starts; prints {@code initialized-before=},
 * {@code periodic=} and {@code closed=}. {@code nojfr}: a stall on a runtime that may lack {@code jdk.jfr}; prints
 * {@code jfr=}, {@code stalls=} and {@code reclaimed=}, and the warning goes to the default logger (stderr). Touches
 * {@code jdk.jfr} only in {@code late} (the nested class).
 */
public final class TelemetryChild {
    private TelemetryChild() {
    }

    /**
     * Runs one mode.
     *
     * @param args {@code late} or {@code nojfr}
     * @throws Exception if a wait fails
     */
    public static void main(String[] args) throws Exception {
        if (args[0].equals("late")) Late.run();
        else noJfr();
    }

    private static void noJfr() throws InterruptedException {
        Reclaimer r = Reclaimer.create(new Scheme.Ebr(8, 128, 1_000_000L));
        Telemetry t = ReclaimerHandle.coreOf(r).telemetry;
        CountDownLatch in = new CountDownLatch(1);
        CountDownLatch out = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().name("stuck-reader").start(() -> {
            Guard g = r.enter();
            try {
                in.countDown();
                out.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                g.close();
            }
        });
        if (!in.await(10, TimeUnit.SECONDS)) throw new AssertionError("the reader did not enter");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.stallsReported() == 0 && System.nanoTime() - deadline < 0) {
            r.retire(new Object(), o -> {});
            r.flush();
        }
        out.countDown();
        reader.join();
        long retired = r.stats().retired();
        r.close();
        System.out.println("jfr=" + Jfr.AVAILABLE);
        System.out.println("stalls=" + t.stallsReported());
        System.out.println("reclaimed=" + (r.stats().reclaimed() == retired));
    }

    /** The mode that uses {@code jdk.jfr}: loaded only for it. */
    private static final class Late {
        static void run() throws InterruptedException {
            Reclaimer r = Reclaimer.create("ebr");
            String id = ReclaimerHandle.coreOf(r).telemetry.id;
            System.out.println("initialized-before=" + FlightRecorder.isInitialized());
            CountDownLatch periodic = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            try (RecordingStream rs = new RecordingStream()) {
                rs.enable(SnapshotEvent.NAME).withPeriod(Duration.ofMillis(10));
                rs.onEvent(SnapshotEvent.NAME, e -> {
                    if (id.equals(e.getString("reclaimer"))) (e.getBoolean("closed") ? closed : periodic).countDown();
                });
                rs.startAsync();
                System.out.println("periodic=" + periodic.await(20, TimeUnit.SECONDS));
                r.close();
                System.out.println("closed=" + closed.await(20, TimeUnit.SECONDS));
            }
        }
    }
}
