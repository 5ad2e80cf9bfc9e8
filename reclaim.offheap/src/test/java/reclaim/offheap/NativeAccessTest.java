package reclaim.offheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
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
import reclaim.offheap.internal.NativeAccess;

/**
 * Native access and the optional {@code jdk.jfr}: the entry points refuse with one clear
 * {@link IllegalStateException} naming the flag, before the JDK could print its restricted-method warning, and
 * a runtime without {@code jdk.jfr} still runs the module. The refusals need a JVM without native access, so
 * they run in child JVMs on the class path.
 */
class NativeAccessTest {

    @Test
    void theRefusalNamesTheFlagForTheWayTheModuleWasLoaded() {
        String modulePath = NativeAccess.refusal("NativeMemory", "reclaim.offheap");
        assertTrue(modulePath.startsWith("NativeMemory needs native access"), modulePath);
        assertTrue(modulePath.contains("run java with --enable-native-access=reclaim.offheap "), modulePath);
        String classPath = NativeAccess.refusal("MappedFile.map", null);
        assertTrue(classPath.contains("run java with --enable-native-access=ALL-UNNAMED "), classPath);
        for (String m : List.of(modulePath, classPath)) { // both spellings, whichever applies
            assertTrue(m.contains("--enable-native-access=reclaim.offheap"), m);
            assertTrue(m.contains("--enable-native-access=ALL-UNNAMED"), m);
        }
    }

    @Test
    void withNativeAccessTheCheckPasses() {
        NativeAccess.require("test"); // surefire grants it (see the pom's argLine)
    }

    @Test
    void theJfrGuardRegistersOnlyWhenTheModuleIsPresentAndRead() {
        Module self = Jfr.class.getModule();
        assertFalse(Jfr.available(Optional.empty(), self), "no jdk.jfr in the graph: nothing registered");
        Optional<Module> jfr = Jfr.jfrModule();
        assertEquals(jfr.isPresent() && self.canRead(jfr.get()), Jfr.AVAILABLE);
        jfr.ifPresent(m -> assertTrue(Jfr.available(Optional.of(m), self)));
        Jfr.unregister(null); // a null hook (JFR absent) is ignored
    }

    @Test
    void deniedNativeAccessIsRefusedByNameWithNoWarningAndNoBrokenClass() throws Exception {
        Child c = child("--illegal-native-access=deny");
        assertEquals(0, c.exit, c.toString());
        for (String what : List.of("NativeMemory", "OffHeapMap", "MappedFile.map")) {
            assertTrue(c.out.contains(what + " needs native access"), what + " not refused by name: " + c);
        }
        assertTrue(c.out.contains("run java with --enable-native-access=ALL-UNNAMED"), c.toString());
        assertFalse(c.err.contains("ExceptionInInitializerError") || c.err.contains("NoClassDefFoundError"), c.toString());
    }

    @Test
    void theDefaultModeIsRefusedTooAndTheJdkPrintsNoRestrictedMethodWarning() throws Exception {
        Child c = child();
        assertEquals(0, c.exit, c.toString());
        assertFalse(c.out.contains(": ok"), "used native memory without native access: " + c);
        assertFalse(c.err.contains("restricted method"), "the JDK warned: " + c);
        assertFalse(c.err.contains("WARNING"), c.toString());
    }

    @Test
    void grantedOnTheClassPathEverythingRuns() throws Exception {
        Child c = child("--enable-native-access=ALL-UNNAMED");
        assertEquals(0, c.exit, c.toString());
        assertTrue(c.out.contains("NativeMemory: ok") && c.out.contains("OffHeapMap: ok")
                && c.out.contains("MappedFile: ok"), c.toString());
        assertTrue(c.out.contains("jfr=true"), "the class path resolves every system module, jdk.jfr included: " + c);
        assertFalse(c.err.contains("WARNING"), c.toString());
    }

    @Test
    void aRuntimeWithoutJdkJfrStillRunsWithoutTheEvent() throws Exception {
        Child c = child("--enable-native-access=ALL-UNNAMED", "--limit-modules", "java.base");
        assertEquals(0, c.exit, c.toString());
        assertTrue(c.out.contains("NativeMemory: ok") && c.out.contains("OffHeapMap: ok"), c.toString());
        assertTrue(c.out.contains("jfr=false"), c.toString());
    }

    private record Child(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Runs {@link NativeAccessChild} in a child JVM on the class path, with {@code options}. */
    private static Child child(String... options) throws Exception {
        Set<String> cp = new LinkedHashSet<>();
        for (Class<?> c : List.of(NativeAccessChild.class, NativeMemory.class, Reclaimer.class)) cp.add(location(c));
        try (Reclaimer r = Reclaimer.create("ebr")) {
            cp.add(location(r.getClass())); // the implementation, found through META-INF/services
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-cp", String.join(File.pathSeparator, cp), NativeAccessChild.class.getName()));
        Path out = Files.createTempFile("native-access", ".out");
        Path err = Files.createTempFile("native-access", ".err");
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

    private static String location(Class<?> c) throws URISyntaxException, IOException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
