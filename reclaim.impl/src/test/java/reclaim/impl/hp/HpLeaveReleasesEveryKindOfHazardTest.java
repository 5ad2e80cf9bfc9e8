package reclaim.impl.hp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Keyed;
import reclaim.api.Reclaimer;

/**
 * The outermost guard's close releases every hazard the guard published, whatever kind it was and whichever it was
 * alone: a fixed slot, a dynamic slot (through an {@code AtomicReference} or a {@code VarHandle}), a key slot. The
 * guard's leave skips the release entirely when it published nothing, so each kind must be remembered as published:
 * a kind that were not would hold its object after the close, for good. While the guard is open, the hazard holds.
 */
class HpLeaveReleasesEveryKindOfHazardTest {

    /** A retired object with a key and a field holding it, for the key-slot and VarHandle cases. */
    static final class Block implements Keyed {
        final long key;
        final AtomicInteger freed = new AtomicInteger();
        volatile Block self;

        Block(long key) {
            this.key = key;
            this.self = this;
        }

        @Override
        public long key() {
            return key;
        }
    }

    private static final VarHandle SELF;

    static {
        try {
            SELF = MethodHandles.lookup().findVarHandle(Block.class, "self", Block.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static Stream<Arguments> kinds() {
        BiConsumer<Guard, Block> fixed = (g, b) -> g.protect(new AtomicReference<>(b), 0);
        BiConsumer<Guard, Block> dynamic = (g, b) -> g.protect(new AtomicReference<>(b));
        BiConsumer<Guard, Block> dynamicField = (g, b) -> g.protect(SELF, b);
        BiConsumer<Guard, Block> fixedField = (g, b) -> g.protect(SELF, b, 1);
        BiConsumer<Guard, Block> key = (g, b) -> {
            while (!g.reserve(b.key(), 2)) {
                // the API's loop: re-read until the reservation holds
            }
        };
        return Stream.of(
                Arguments.of("a fixed slot", fixed),
                Arguments.of("a fixed slot through a VarHandle", fixedField),
                Arguments.of("a dynamic slot", dynamic),
                Arguments.of("a dynamic slot through a VarHandle", dynamicField),
                Arguments.of("a key slot", key));
    }

    private static void retireAndFlushOnAnotherThread(Reclaimer r, Block b) throws InterruptedException {
        Thread t = new Thread(() -> {
            if (b != null) r.retire(b, o -> o.freed.incrementAndGet());
            for (int i = 0; i < 4; i++) r.flush();
        }, "retirer");
        t.start();
        t.join();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void theOutermostCloseReleasesAHazardOfThisKindAlone(String kind, BiConsumer<Guard, Block> publish) throws Exception {
        try (Reclaimer r = Reclaimer.create("hp")) {
            Block b = new Block(42L);
            try (Guard g = r.enter()) {
                publish.accept(g, b);
                retireAndFlushOnAnotherThread(r, b);
                assertEquals(0, b.freed.get(), "reclaimed while " + kind + " held it");
            }
            retireAndFlushOnAnotherThread(r, null);
            assertEquals(1, b.freed.get(), kind + " still held its object after the outermost close");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void theOutermostCloseReleasesAHazardOfThisKindBesideAFixedSlot(String kind, BiConsumer<Guard, Block> publish)
            throws Exception {
        try (Reclaimer r = Reclaimer.create("hp")) {
            Block b = new Block(7L);
            Block other = new Block(8L);
            try (Guard g = r.enter()) {
                g.protect(new AtomicReference<>(other), 3);
                publish.accept(g, b);
                retireAndFlushOnAnotherThread(r, b);
                assertEquals(0, b.freed.get(), "reclaimed while " + kind + " held it");
            }
            retireAndFlushOnAnotherThread(r, other);
            assertEquals(1, b.freed.get(), kind + " still held its object after the outermost close");
            assertEquals(1, other.freed.get(), "the fixed slot beside it still held its object after the outermost close");
        }
    }
}
