package reclaim.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.Set;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import reclaim.spi.ReclaimerProvider;

/** Provider selection: priority, support, broken providers skipped, clear errors. */
class ProvidersTest {

    /** A provider that records its name in the reclaimers it makes. */
    record Fake(String name, Set<String> schemes, int priority) implements ReclaimerProvider {
        @Override
        public Reclaimer create(Scheme scheme) {
            return new FakeReclaimer(this, scheme);
        }
    }

    record FakeReclaimer(Fake provider, Scheme scheme) implements Reclaimer {
        @Override public Guard enter() { throw new UnsupportedOperationException("fake"); }
        @Override public <T> void retire(T object, Consumer<? super T> action) { throw new UnsupportedOperationException("fake"); }
        @Override public void flush() {}
        @Override public Stats stats() { return new Stats(scheme.name(), 0, 0, 0, 0, 0); }
        @Override public long era() { return 1; }
        @Override public Registration register() { throw new UnsupportedOperationException("fake"); }
        @Override public boolean isClosed() { return false; }
        @Override public void close() {}
    }

    /** Yields the given providers, throwing ServiceConfigurationError where an element is null. */
    private static Iterable<ReclaimerProvider> loader(List<Fake> elements) {
        return () -> new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                return i < elements.size();
            }

            @Override
            public ReclaimerProvider next() {
                Fake f = elements.get(i++);
                if (f == null) throw new ServiceConfigurationError("reclaim.spi.ReclaimerProvider: Provider com.example.Broken could not be instantiated");
                return f;
            }
        };
    }

    @Test
    void highestPriorityProviderThatSupportsTheSchemeWins() {
        Fake low = new Fake("low", Set.of("ebr", "hp"), 0);
        Fake high = new Fake("high", Set.of("ebr"), 10);
        Providers p = Providers.load(loader(List.of(low, high)));
        assertSame(high, ((FakeReclaimer) p.create(new Scheme.Ebr())).provider());
        assertSame(low, ((FakeReclaimer) p.create(new Scheme.HazardPointers())).provider());
        assertEquals(Set.of("ebr", "hp"), p.schemes());
        assertEquals(List.of("ebr", "hp"), List.copyOf(p.schemes())); // in Scheme.NAMES order
    }

    @Test
    void brokenProviderIsSkippedAndReported() {
        Fake ok = new Fake("ok", Set.of("ebr"), 0);
        java.util.ArrayList<Fake> elements = new java.util.ArrayList<>();
        elements.add(null);
        elements.add(ok);
        Providers p = Providers.load(loader(elements));
        assertSame(ok, ((FakeReclaimer) p.create(new Scheme.Ebr())).provider());
        assertEquals(1, p.broken().size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.create(new Scheme.Hyaline()));
        assertTrue(e.getMessage().contains("available schemes: ebr"), e.getMessage());
        assertTrue(e.getMessage().contains("com.example.Broken"), e.getMessage());
    }

    @Test
    void noProviderAtAllSaysWhatToPutOnThePath() {
        Providers p = Providers.load(loader(List.of()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.create(new Scheme.Ebr()));
        assertTrue(e.getMessage().contains("reclaim.impl"), e.getMessage());
        assertTrue(p.schemes().isEmpty());
    }

    @Test
    void providerReturningNullIsAnError() {
        ReclaimerProvider bad = new ReclaimerProvider() {
            @Override public String name() { return "returns-null"; }
            @Override public Set<String> schemes() { return Set.of("ebr"); }
            @Override public Reclaimer create(Scheme scheme) { return null; }
        };
        Providers p = Providers.load(List.of(bad));
        assertThrows(IllegalStateException.class, () -> p.create(new Scheme.Ebr()));
    }
}
