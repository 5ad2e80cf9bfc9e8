package reclaim.impl.none;

import java.util.concurrent.atomic.AtomicLong;

import reclaim.api.Scheme;
import reclaim.impl.common.AnnouncingGuard;
import reclaim.impl.common.AnnouncingReclaimer;

/**
 * The leak baseline of the benchmarks: the same guards as EBR (a lease CAS per outermost guard, a volatile
 * load per protect), but nothing retired is reclaimed before {@link #close()}, which runs every action. It
 * measures what reclamation itself costs. Memory grows without bound: never use it outside benchmarks.
 *
 * <p>Progress: as {@link AnnouncingReclaimer}; no bound on unreclaimed objects (by design).
 */
public final class NoneReclaimer extends AnnouncingReclaimer {
    /** A counter that only {@link #era()} reads, so that Born objects still get monotone eras. */
    private final AtomicLong clock = new AtomicLong(1);

    private NoneReclaimer(Scheme.None scheme) {
        super(scheme, new Scheme.Ebr().batchSize(), Integer.MAX_VALUE, new Scheme.Ebr().stallThresholdNanos());
    }

    /**
     * Creates the leak baseline.
     *
     * @param scheme the scheme record
     * @return a new reclaimer
     */
    public static NoneReclaimer create(Scheme.None scheme) {
        return new NoneReclaimer(scheme);
    }

    @Override
    protected long announcement() {
        return 1;
    }

    @Override
    protected long tagNow() {
        return clock.get();
    }

    @Override
    protected long reclaimableBelow() {
        return Long.MIN_VALUE; // nothing before close()
    }

    @Override
    protected void advanceForFlush(AnnouncingGuard g) {
        clock.incrementAndGet();
    }

    @Override
    protected boolean holdsBack(long state, long clock) {
        return false; // nothing is ever held back: nothing is reclaimed before close()
    }

    @Override
    protected long clock() {
        return clock.get();
    }

    @Override
    public long era() {
        return clock.get();
    }
}
