package reclaim.impl.core;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;

import reclaim.api.Options;

/**
 * A policy for tests of what the core does when a seal fails (an allocation failing, which a test cannot cause on
 * demand): its seals throw {@link SealFailed} while {@link #failSeals} is positive and {@link #failWhen} accepts the
 * core (counting down once per failure). It collects everything it finds sealed, one era for all, and counts
 * {@link #swept} calls.
 */
final class FailingSealPolicy extends Policy {
    /** How many more seals fail, where {@link #failWhen} holds. */
    final AtomicInteger failSeals = new AtomicInteger();
    /** Which seals may fail, given the core (by default: none). */
    volatile Predicate<Core> failWhen = c -> false;
    /** The calls of {@link #swept}. */
    final AtomicInteger swept = new AtomicInteger();

    @Override
    protected Capabilities capabilities() {
        return new Capabilities(true, false, Integer.MAX_VALUE, 64, Long.MAX_VALUE);
    }

    @Override
    protected void sealing(Batch bag) {
        if (failWhen.test(core) && failSeals.getAndUpdate(n -> Math.max(0, n - 1)) > 0) throw new SealFailed();
    }

    @Override
    protected Object swept(Participant p) {
        swept.incrementAndGet();
        return null;
    }

    @Override
    protected void collect(int limit) {
        for (Batch b = core.sealed.takeAll(), next; b != null; b = next) {
            next = b.next();
            b.link(null);
            core.reclamation().run(b);
        }
    }

    @Override
    protected long era() {
        return 1;
    }

    /** The barrier strategies to run the tests under: both where membarrier is available. */
    static Stream<Options.Barrier> barriers() {
        return Membarrier.unavailableReason() == null
                ? Stream.of(Options.Barrier.FENCE, Options.Barrier.ASYMMETRIC) : Stream.of(Options.Barrier.FENCE);
    }

    /** What a failing seal throws: an error, as an allocation failing would be (JUnit stops on a real one). */
    static final class SealFailed extends Error {
        private static final long serialVersionUID = 1L;

        SealFailed() {
            super("a seal that fails, for the test");
        }
    }
}
