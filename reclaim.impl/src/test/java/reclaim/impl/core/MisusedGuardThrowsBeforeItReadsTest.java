package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A guard used after its close, or from another thread, throws {@link IllegalStateException} (the {@code Guard}
 * documentation), whatever else is wrong with the call: a protect through a {@link VarHandle} given a holder of
 * another class reports the misused guard, not the handle's {@link ClassCastException}, for every scheme.
 */
class MisusedGuardThrowsBeforeItReadsTest {
    static final class Node {
        volatile Object next = "next";
    }

    private static final VarHandle NEXT;

    static {
        try {
            NEXT = MethodHandles.lookup().findVarHandle(Node.class, "next", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static Stream<Object[]> schemes() {
        Object[] none = {"none", Options.Barrier.FENCE};
        return Stream.concat(GuardShortPathTest.schemes(), Stream.<Object[]>of(none));
    }

    /** Every protect of a guard, each given a holder (or a reference) it cannot read through. */
    private static final Consumer<Guard> PROTECT_WRONG_HOLDER = g -> g.protect(NEXT, "not a node");
    private static final Consumer<Guard> PROTECT_WRONG_HOLDER_IN_SLOT = g -> g.protect(NEXT, "not a node", 0);
    private static final Consumer<Guard> PROTECT_REF = g -> g.protect(new AtomicReference<>("x"));
    private static final List<Consumer<Guard>> CALLS =
            List.of(PROTECT_WRONG_HOLDER, PROTECT_WRONG_HOLDER_IN_SLOT, PROTECT_REF);

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void aClosedGuardThrowsIllegalStateWhateverItIsAskedToRead(String scheme, Options.Barrier barrier) {
        try (Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier))) {
            Guard g = r.enter();
            g.close();
            for (Consumer<Guard> call : CALLS) {
                assertThrows(IllegalStateException.class, () -> call.accept(g));
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    void anotherThreadsGuardThrowsIllegalStateWhateverItIsAskedToRead(String scheme, Options.Barrier barrier)
            throws Exception {
        try (Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier))) {
            try (Guard g = r.enter()) {
                for (Consumer<Guard> call : CALLS) {
                    Throwable[] thrown = new Throwable[1];
                    Thread t = new Thread(() -> {
                        try {
                            call.accept(g);
                        } catch (Throwable e) {
                            thrown[0] = e;
                        }
                    });
                    t.start();
                    t.join();
                    assertInstanceOf(IllegalStateException.class, thrown[0]);
                }
            }
        }
    }
}
