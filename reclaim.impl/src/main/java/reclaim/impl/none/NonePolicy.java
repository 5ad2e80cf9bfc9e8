package reclaim.impl.none;

import java.util.concurrent.atomic.AtomicLong;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.impl.core.Capabilities;
import reclaim.impl.core.ClockPolicy;
import reclaim.impl.core.ReclaimerHandle;
import reclaim.impl.core.ThreadGuard;

/**
 * The leak baseline of the benchmarks: the same guards as EBR (a lease CAS per outermost guard, a volatile
 * load per protect), but nothing retired is reclaimed before {@code close()}, which runs every action. It
 * measures what reclamation itself costs. Memory grows without bound: never use it outside benchmarks.
 *
 * <p>Progress: as the core's; no bound on unreclaimed objects (by design).
 */
public final class NonePolicy extends ClockPolicy {
    /** A counter that only {@link #era()} and flush move, so that Born objects still get monotone eras. */
    private final AtomicLong clock = new AtomicLong(1);

    private NonePolicy() {}

    /**
     * Creates the leak baseline.
     *
     * @param scheme the scheme record
     * @return a new reclaimer
     */
    public static Reclaimer create(Scheme.None scheme) {
        return create(scheme, Options.fromSystemProperties());
    }

    /**
     * Creates a reclaimer of this scheme with {@code options}.
     *
     * @param scheme the scheme's tuning
     * @param options the settings for any scheme
     * @return the reclaimer
     */
    public static Reclaimer create(Scheme.None scheme, Options options) {
        return ReclaimerHandle.create(scheme, new NonePolicy(), options);
    }

    @Override
    protected Capabilities capabilities() {
        Scheme.Ebr ebr = new Scheme.Ebr();
        return new Capabilities(false, false, Integer.MAX_VALUE, ebr.batchSize(), ebr.stallThresholdNanos());
    }

    /**
     * A platform thread keeps its participant and announces its epoch in its open word, under either barrier (as
     * crossbeam's pin: a store, then a fence that the asymmetric barrier moves to the collector).
     */
    @Override
    protected boolean announcesInOpenWord(boolean asymmetric) {
        return true;
    }

    @Override
    protected long stampNow() {
        return clock.get();
    }

    @Override
    protected long reclaimableBelow() {
        return Long.MIN_VALUE; // nothing before close()
    }

    @Override
    protected void beforeFlush(ThreadGuard g) {
        clock.incrementAndGet();
    }

    @Override
    protected long era() {
        return clock.get();
    }
}
