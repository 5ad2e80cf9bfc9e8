package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Atom;
import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The javadoc of {@link Atom} that the conformance suite does not check, under every scheme: null arguments,
 * a guard of another reclaimer, use after the cell's close, a close of an empty cell, no-op swaps and
 * compare-and-sets, and the fresh value of an {@code update} that lost a race, reclaimed at once and once.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AtomContractProbeTest {

    static Stream<String> schemes() {
        List<String> names = new ArrayList<>(Reclaimer.availableSchemes());
        names.add("crystalline-w");
        return names.stream();
    }

    /** A resource that counts its reclaim actions. */
    static final class Res {
        final String name;
        final AtomicInteger closes = new AtomicInteger();

        Res(String name) {
            this.name = name;
        }

        void close() {
            closes.incrementAndGet();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static Reclaimer create(String name) {
        return Reclaimer.create(Scheme.named(name), Options.DEFAULT.withBarrier(Options.Barrier.FENCE));
    }

    /** Null arguments, a foreign guard and a closed cell are refused as documented. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void misuseOfACellIsRefusedAsDocumented(String name) {
        try (Reclaimer r = create(name); Reclaimer other = create(name)) {
            Consumer<Res> close = Res::close;
            assertThrows(NullPointerException.class, () -> new Atom<>(null, new Res("a"), close));
            assertThrows(NullPointerException.class, () -> new Atom<>(r, new Res("a"), null));
            Atom<Res> atom = new Atom<>(r, new Res("a"), close);
            assertSame(r, atom.reclaimer());
            assertThrows(NullPointerException.class, () -> atom.read(null));
            assertThrows(NullPointerException.class, () -> atom.update(null));
            assertThrows(NullPointerException.class, () -> atom.load(null));
            assertThrows(NullPointerException.class, () -> atom.swap(null, new Res("b")));
            try (Guard foreign = other.enter()) {
                assertThrows(IllegalArgumentException.class, () -> atom.load(foreign));
            }
            Guard closedGuard = r.enter();
            closedGuard.close();
            assertThrows(IllegalStateException.class, () -> atom.load(closedGuard));
            assertThrows(IllegalStateException.class, () -> atom.swap(closedGuard, new Res("c")));
            atom.close();
            atom.close(); // idempotent
            try (Guard g = r.enter()) {
                assertThrows(IllegalStateException.class, () -> atom.load(g));
                assertThrows(IllegalStateException.class, () -> atom.swap(g, new Res("d")));
            }
            assertThrows(IllegalStateException.class, () -> atom.read(x -> x));
            assertThrows(IllegalStateException.class, () -> atom.store(new Res("e")));
            assertThrows(IllegalStateException.class, () -> atom.compareAndSet(null, new Res("f")));
            assertThrows(IllegalStateException.class, () -> atom.update(x -> x));
            r.flush();
        }
    }

    /** A cell closed empty retires nothing; null values are never retired. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void nullValuesAreNeverRetired(String name) {
        Reclaimer r = create(name);
        try (Atom<Res> atom = new Atom<>(r, null, Res::close)) {
            atom.store(null);
            assertTrue(atom.compareAndSet(null, null));
            try (Guard g = r.enter()) {
                assertNull(atom.swap(g, null));
                assertNull(atom.load(g));
            }
        }
        assertEquals(0, r.stats().retired(), "a null value was retired: " + r.stats());
        r.close();
    }

    /** swap and compareAndSet of the value the cell holds replace nothing and retire nothing. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void noOpSwapsAndCompareAndSetsRetireNothing(String name) {
        Res a = new Res("a");
        Res b = new Res("b");
        try (Reclaimer r = create(name)) {
            Atom<Res> atom = new Atom<>(r, a, Res::close);
            try (Guard g = r.enter()) {
                assertSame(a, atom.swap(g, a));
            }
            assertTrue(atom.compareAndSet(a, a));
            assertFalse(atom.compareAndSet(b, b));
            assertFalse(atom.compareAndSet(b, new Res("never")));
            r.flush();
            assertEquals(0, r.stats().retired(), r.stats().toString());
            assertEquals(0, a.closes.get());
            assertTrue(atom.compareAndSet(a, b));
            atom.close();
        }
        assertEquals(1, a.closes.get());
        assertEquals(1, b.closes.get());
    }

    /**
     * update(): a fresh value that lost a race gets the cell's action at once, exactly once; the value finally
     * replaced is retired once; an updater that returns what it was given changes nothing.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void anUpdateThatLosesARaceReclaimsItsFreshValueOnce(String name) {
        Res a = new Res("a");
        Res intruder = new Res("intruder");
        List<Res> fresh = new ArrayList<>();
        try (Reclaimer r = create(name)) {
            Atom<Res> atom = new Atom<>(r, a, Res::close);
            assertSame(a, atom.update(x -> x));
            Res installed = atom.update(current -> {
                if (fresh.isEmpty()) atom.store(intruder); // another writer wins the race
                Res f = new Res("fresh-" + fresh.size());
                fresh.add(f);
                return f;
            });
            assertEquals(2, fresh.size(), "the updater ran once more after losing");
            assertSame(fresh.get(1), installed);
            assertEquals(1, fresh.get(0).closes.get(), "the fresh value that lost was not reclaimed at once");
            assertEquals(0, installed.closes.get());
            atom.close();
        }
        assertEquals(1, fresh.get(0).closes.get());
        assertEquals(1, a.closes.get());
        assertEquals(1, intruder.closes.get());
        assertEquals(1, fresh.get(1).closes.get());
    }
}
