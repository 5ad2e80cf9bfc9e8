package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import reclaim.api.Reclaimer;

/**
 * What needs a fresh JVM: a reclaimer created before the flight recorder is up gets its snapshot once a recording
 * starts (the listener registers the hooks that waited), and a runtime without {@code jdk.jfr} runs the reclaimers
 * and reports a stall on the logger alone.
 */
class TelemetryChildTest {

    @Test
    void theJfrGuardUsesTheEventsOnlyWhenTheModuleIsPresentAndRead() {
        Module self = Jfr.class.getModule();
        assertFalse(Jfr.available(Optional.empty(), self), "no jdk.jfr in the graph: no events");
        Optional<Module> jfr = Jfr.jfrModule();
        assertEquals(jfr.isPresent() && self.canRead(jfr.get()), Jfr.AVAILABLE);
        jfr.ifPresent(m -> assertTrue(Jfr.available(Optional.of(m), self)));
        Jfr.unregister(null); // a null hook (JFR absent) is ignored
    }

    @Test
    void aReclaimerCreatedBeforeTheRecorderIsUpGetsItsSnapshot() throws Exception {
        Child c = child("late");
        assertEquals(0, c.exit, c.toString());
        assertTrue(c.out.contains("initialized-before=false"), "the recorder was up before the reclaimer: " + c);
        assertTrue(c.out.contains("periodic=true"), "no periodic snapshot once the recording started: " + c);
        assertTrue(c.out.contains("closed=true"), "no snapshot at close: " + c);
    }

    @Test
    void aRuntimeWithoutJdkJfrRunsAndWarnsOfAStall() throws Exception {
        Child c = child("--limit-modules", "java.base", TelemetryChild.class.getName(), "nojfr");
        assertEquals(0, c.exit, c.toString());
        assertTrue(c.out.contains("jfr=false"), c.toString());
        assertTrue(c.out.contains("stalls=1"), "the stall was not reported exactly once: " + c);
        assertTrue(c.out.contains("reclaimed=true"), c.toString());
        assertTrue(c.err.contains("WARNING") && c.err.contains("\"stuck-reader\"")
                && c.err.contains("has held the ebr reclaimer"), "no warning on the default logger: " + c);
        assertFalse(c.err.contains("NoClassDefFoundError") || c.err.contains("ExceptionInInitializerError"), c.toString());
    }

    /**
     * Under a recording that disables the reclaim events, sealing and running batches allocate nothing: whether an
     * event is enabled is asked of its type. The child runs without C2 (whose escape analysis could remove an unused
     * event object and hide one); before, every seal allocated its events, about 1.8 bytes a retire.
     */
    @Test
    void retiringUnderARecordingThatDisablesTheEventsAllocatesNothing() throws Exception {
        for (String scheme : List.of("ebr", "hp")) {
            Child c = child("-XX:TieredStopAtLevel=1", TelemetryChild.class.getName(), "quiet", scheme);
            assertEquals(0, c.exit, c.toString());
            long least = Long.parseLong(c.out.lines().filter(l -> l.startsWith("least=")).findFirst()
                    .orElseThrow(() -> new AssertionError("no least= line: " + c)).substring("least=".length()));
            // A round is 2^20 retires, about 16,000 seals: less than a byte per 64 retires is no object per seal.
            assertTrue(least < (1 << 20) / 64, scheme + ": a round of retires allocated " + least + " bytes: " + c);
        }
    }

    /** A child JVM's exit status and output (also for other tests that need a fresh JVM). */
    record Child(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /**
     * Runs {@link TelemetryChild} in a child JVM on the class path: {@code args} are its mode, or options, a main class
     * of these tests and its arguments.
     */
    static Child child(String... args) throws Exception {
        Set<String> cp = new LinkedHashSet<>();
        for (Class<?> c : List.of(TelemetryChild.class, Core.class, Reclaimer.class)) cp.add(location(c));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("-cp", String.join(File.pathSeparator, cp)));
        if (args.length == 1) cmd.add(TelemetryChild.class.getName());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("telemetry", ".out");
        Path err = Files.createTempFile("telemetry", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("the child JVM did not finish in 60 s: " + cmd);
            }
            return new Child(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
