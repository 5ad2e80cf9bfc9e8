package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import reclaim.api.Reclaimer;

/**
 * The modules seen from outside, exactly as a client uses them: a client module that {@code requires
 * reclaim.api} only is compiled and run in a child JVM, with {@code reclaim.impl} on the module path (found
 * by {@code ServiceLoader}), then on the class path (found through {@code META-INF/services}), with a broken
 * provider beside it (skipped and reported), and with no implementation at all (a clear error).
 */
class ClientViewTest {
    private static final String CLIENT = """
            package demo;

            import java.util.concurrent.atomic.AtomicInteger;
            import java.util.concurrent.atomic.AtomicReference;
            import reclaim.api.Guard;
            import reclaim.api.Reclaimer;

            public class Main {
                public static void main(String[] args) {
                    Module api = Reclaimer.class.getModule();
                    System.out.println("api module: " + (api.isNamed() ? api.getName() : "unnamed"));
                    ModuleLayer.boot().findModule("reclaim.impl").ifPresent(m ->
                            System.out.println("impl exports: " + m.getDescriptor().exports()
                                    + " provides: " + m.getDescriptor().provides().size()));
                    try {
                        System.out.println("available: " + Reclaimer.availableSchemes());
                        for (String name : Reclaimer.availableSchemes()) {
                            AtomicInteger ran = new AtomicInteger();
                            AtomicReference<String> ref = new AtomicReference<>("v1");
                            try (Reclaimer r = Reclaimer.create(name)) {
                                try (Guard g = r.enter()) {
                                    String old = g.protect(ref);
                                    ref.set("v2");
                                    g.retire(old, s -> ran.incrementAndGet());
                                }
                                r.flush();
                            }
                            System.out.println(name + " reclaimed " + ran.get());
                        }
                        Reclaimer.create("ebr").close();
                        System.out.println("client ok");
                    } catch (IllegalArgumentException e) {
                        System.out.println("error: " + e.getMessage());
                    }
                }
            }
            """;

    private static final String BROKEN = """
            package broken;

            import java.util.Set;
            import reclaim.api.Reclaimer;
            import reclaim.api.Scheme;
            import reclaim.spi.ReclaimerProvider;

            public class Broken implements ReclaimerProvider {
                public Broken() { throw new IllegalStateException("this provider is broken on purpose"); }
                public String name() { return "broken"; }
                public Set<String> schemes() { return Set.of("ebr"); }
                public Reclaimer create(Scheme scheme) { throw new AssertionError(); }
            }
            """;

    @TempDir
    static Path work;
    private static String api;
    private static String impl;
    private static Path jdk;

    @BeforeAll
    static void compileClients() throws Exception {
        jdk = Path.of(System.getProperty("java.home"));
        api = location(Reclaimer.class);
        impl = location(BuiltinProvider.class);
        // the client, as a module and as plain classes
        Path modSrc = write(work.resolve("client-src/module-info.java"), "module demo.client { requires reclaim.api; }");
        Path mainSrc = write(work.resolve("client-src/demo/Main.java"), CLIENT);
        javac("-d", work.resolve("client-mod").toString(), "-p", api, modSrc.toString(), mainSrc.toString());
        javac("-d", work.resolve("client-cp").toString(), "-cp", api, mainSrc.toString());
        // a provider module whose constructor throws
        Path bMod = write(work.resolve("broken-src/module-info.java"),
                "module broken.provider { requires reclaim.api; provides reclaim.spi.ReclaimerProvider with broken.Broken; }");
        Path bSrc = write(work.resolve("broken-src/broken/Broken.java"), BROKEN);
        javac("-d", work.resolve("broken-mod").toString(), "-p", api, bMod.toString(), bSrc.toString());
    }

    @Test
    void clientOnTheModulePathFindsTheImplementationByServiceLoader() throws Exception {
        String out = java("-p", path(api, impl, work.resolve("client-mod").toString()), "-m", "demo.client/demo.Main");
        assertTrue(out.contains("api module: reclaim.api"), out);
        assertTrue(out.contains("impl exports: [] provides: 1"), "reclaim.impl must export nothing and provide the SPI: " + out);
        assertTrue(out.contains("available: [qsbr, ebr, hp, hyaline, crystalline, none]"), out);
        assertTrue(out.contains("ebr reclaimed 1"), out);
        assertTrue(out.contains("none reclaimed 1"), out);
        assertTrue(out.contains("client ok"), out);
    }

    @Test
    void clientOnTheClassPathFindsTheImplementationThroughMetaInfServices() throws Exception {
        String out = java("-cp", path(api, impl, work.resolve("client-cp").toString()), "demo.Main");
        assertTrue(out.contains("api module: unnamed"), out);
        assertTrue(out.contains("available: [qsbr, ebr, hp, hyaline, crystalline, none]"), out);
        assertTrue(out.contains("ebr reclaimed 1"), out);
        assertTrue(out.contains("client ok"), out);
    }

    @Test
    void brokenProviderIsSkippedAndReported() throws Exception {
        String out = java("-p", path(api, impl, work.resolve("broken-mod").toString(), work.resolve("client-mod").toString()),
                "--add-modules", "broken.provider", "-m", "demo.client/demo.Main");
        assertTrue(out.contains("skipping a reclaim provider that failed to load"), out);
        assertTrue(out.contains("available: [qsbr, ebr, hp, hyaline, crystalline, none]"), out);
        assertTrue(out.contains("client ok"), out);
    }

    @Test
    void withoutAnImplementationTheErrorSaysWhatIsMissing() throws Exception {
        String out = java("-p", path(api, work.resolve("client-mod").toString()), "-m", "demo.client/demo.Main");
        assertTrue(out.contains("available: []"), out);
        assertTrue(out.contains("error: no reclaim provider supports scheme 'ebr'"), out);
        assertTrue(out.contains("put reclaim.impl"), out);
    }

    // ---------------------------------------------------------------------------------------------------

    private static String location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    private static String path(String... entries) {
        return String.join(File.pathSeparator, entries);
    }

    private static Path write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, text);
    }

    private static void javac(String... args) throws Exception {
        run(jdk.resolve("bin/javac").toString(), args);
    }

    private static String java(String... args) throws Exception {
        return run(jdk.resolve("bin/java").toString(), args);
    }

    private static String run(String tool, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(tool);
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + cmd);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + "\n" + out);
        return out;
    }
}
