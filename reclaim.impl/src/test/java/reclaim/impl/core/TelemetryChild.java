package reclaim.impl.core;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingStream;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The child JVM of {@link TelemetryChildTest}, on the class path. {@code late}: a reclaimer created before the
 * flight recorder is up gets its periodic snapshot once a recording starts; prints {@code initialized-before=},
 * {@code periodic=} and {@code closed=}. {@code nojfr}: a stall on a runtime that may lack {@code jdk.jfr}; prints
 * {@code jfr=}, {@code stalls=} and {@code reclaimed=}, and the warning goes to the default logger (stderr).
 * {@code quiet <scheme>}: retires under a recording that disables the reclaim events; prints {@code least=}, the
 * fewest bytes the thread allocated in one round of its retires once warmed. Touches {@code jdk.jfr} only in
 * {@code late} and {@code quiet} (the nested classes).
 */
public final class TelemetryChild {
    private TelemetryChild() {
    }

    /**
     * Runs one mode.
     *
     * @param args {@code late}, {@code quiet <scheme>} or {@code nojfr}
     * @throws Exception if a wait fails
     */
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "late" -> Late.run();
            case "quiet" -> Quiet.run(args[1]);
            default -> noJfr();
        }
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

    /** The mode that retires under a recording that records none of the reclaim events: loaded only for it. */
    private static final class Quiet {
        static final int ROUNDS = 6;
        static final int RETIRES = 1 << 20;

        static void run(String scheme) throws ReflectiveOperationException {
            // Reflection: the tests compile inside reclaim.impl, which does not read java.management (the child
            // runs on the class path, where everything is read). A call allocates its boxed result: 16 bytes.
            Object mx = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                    .invoke(null);
            Method allocated = Class.forName("com.sun.management.ThreadMXBean")
                    .getMethod("getCurrentThreadAllocatedBytes");
            try (Recording rec = new Recording(); Reclaimer r = Reclaimer.create(scheme)) {
                for (String e : List.of(ReclamationEvent.NAME, PendingHighWaterEvent.NAME, SnapshotEvent.NAME,
                        StallEvent.NAME)) rec.disable(e);
                rec.start();
                Object o = new Object();
                long least = Long.MAX_VALUE;
                for (int round = 0; round < ROUNDS; round++) {
                    long before = (long) allocated.invoke(mx);
                    for (int i = 0; i < RETIRES; i++) r.retire(o, Quiet::ignore);
                    long bytes = (long) allocated.invoke(mx) - before;
                    if (round >= 2) least = Math.min(least, bytes); // the first rounds fill the pools
                }
                System.out.println("least=" + least);
            }
        }

        private static void ignore(Object o) {
        }
    }
}
