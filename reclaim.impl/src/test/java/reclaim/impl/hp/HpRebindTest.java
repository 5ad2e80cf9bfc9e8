package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;

/**
 * A hazard-pointer guard keeps its own record's arrays between guards. When the thread gives its record up
 * (deregisters) and takes it again, another thread may have held it in between and grown its arrays (a nested
 * level, more dynamic slots, key slots): the guard must bind the record's current arrays, or its hazards go
 * where no scan looks and what it protects is reclaimed under it.
 */
class HpRebindTest {
    static final class Node {
        final int value;
        volatile boolean reclaimed;

        Node(int value) {
            this.value = value;
        }
    }

    static final class KeyedNode implements Keyed {
        final long key;
        volatile boolean reclaimed;

        KeyedNode(long key) {
            this.key = key;
        }

        @Override
        public long key() {
            return key;
        }
    }

    /** Grows the fixed array: a protect at nesting level 1. */
    @Test
    void aNestedLevelGrownByAnotherHolder() throws Exception {
        check((r, ref) -> {
            try (Guard outer = r.enter(); Guard inner = r.enter()) {
                outer.protect(ref, 2);
                inner.protect(ref, 0);
                inner.protect(ref, 1);
            }
        });
    }

    /** Grows the dynamic array: more protect(ref) calls than it starts with. */
    @Test
    void dynamicSlotsGrownByAnotherHolder() throws Exception {
        check((r, ref) -> {
            try (Guard g = r.enter()) {
                for (int i = 0; i < 40; i++) g.protect(ref);
            }
        });
    }

    /** Grows the key slots: reserve at nesting level 1. */
    @Test
    void keySlotsGrownByAnotherHolder() throws Exception {
        check((r, ref) -> {
            try (Guard outer = r.enter(); Guard inner = r.enter()) {
                outer.reserve(7L, 0);
                inner.reserve(8L, 0);
            }
        });
    }

    private static void check(BiConsumer<Reclaimer, AtomicReference<Node>> grow) throws Exception {
        try (Reclaimer r = Reclaimer.create("hp")) {
            AtomicReference<Node> ref = new AtomicReference<>(new Node(0));
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    try (Guard g = r.enter()) { // the sticky record R0 is bound, with its first arrays of each kind
                        g.protect(ref, 0);
                        g.protect(ref);
                        g.reserve(1L, 1);
                    }
                    r.register().close(); // R0 becomes the registration, then is given up: FREE
                    // a virtual thread leases the only free record, R0, and grows its arrays
                    Thread v = Thread.ofVirtual().start(() -> grow.accept(r, ref));
                    v.join();
                    try (Registration reg = r.register()) { // R0 again (the lease starts at this thread's hint)
                        try (Guard g = reg.enter()) {
                            Node n = g.protect(ref, 0);
                            ref.set(new Node(n.value + 1));
                            r.retire(n, x -> x.reclaimed = true);
                            r.flush(); // scans every record's current arrays
                            assertFalse(n.reclaimed, "reclaimed while a hazard of the re-registered thread held it");
                            Node m = g.protect(ref);
                            ref.set(new Node(m.value + 1));
                            r.retire(m, x -> x.reclaimed = true);
                            r.flush();
                            assertFalse(m.reclaimed, "reclaimed while a dynamic hazard of the re-registered thread held it");
                            KeyedNode k = new KeyedNode(42L);
                            while (!g.reserve(k.key(), 1)) Thread.onSpinWait(); // the key is constant: true at once
                            r.retire(k, x -> x.reclaimed = true);
                            r.flush();
                            assertFalse(k.reclaimed, "reclaimed while a key slot of the re-registered thread held it");
                        }
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.join();
            if (failure.get() != null) throw new AssertionError(failure.get());
            r.flush();
            assertEquals(r.stats().retired(), r.stats().reclaimed());
            assertTrue(r.stats().retired() >= 3);
        }
    }
}
