package reclaim.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.ThreadParams;

import reclaim.api.Reclaimer;

/**
 * Samples {@code Stats.pending()} (retired, not yet reclaimed) during a measurement: the benchmark thread
 * of index 0 reads the reclaimer's stats every {@value #EVERY} operations, so the other threads run
 * undisturbed. JMH reports the three counters per iteration as secondary results ({@code pendingSum},
 * {@code pendingSamples}, {@code pendingPeak}; only thread 0's are non-zero, so their sum over threads is
 * thread 0's): mean = sum / samples, peak = the largest per-iteration peak. The showcase reads them from the
 * raw JSON.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class PendingSampler {
    /**
     * Operations between two samples: rare enough that the sample's own allocation ({@code stats()} builds a record)
     * stays under 0.01 B per operation in {@code -prof gc}, often enough for hundreds of samples per iteration.
     */
    static final int EVERY = 16_384;

    /** Sum of the samples in this iteration. */
    public long pendingSum;
    /** Samples taken in this iteration. */
    public long pendingSamples;
    /** The largest sample in this iteration. */
    public long pendingPeak;

    private boolean sampler;
    private int countdown = EVERY;

    /** Creates the state. */
    public PendingSampler() {}

    /**
     * Resets the counters and decides whether this thread samples.
     *
     * @param params the thread's JMH parameters
     */
    @Setup(Level.Iteration)
    public void reset(ThreadParams params) {
        pendingSum = 0;
        pendingSamples = 0;
        pendingPeak = 0;
        sampler = params.getThreadIndex() == 0;
        countdown = EVERY;
    }

    /**
     * Counts one operation and samples every {@value #EVERY}.
     *
     * @param r the reclaimer, or null for the GC baseline (nothing pending)
     */
    void tick(Reclaimer r) {
        if (!sampler || --countdown > 0) return;
        countdown = EVERY;
        long p = r == null ? 0 : r.stats().pending();
        pendingSum += p;
        pendingSamples++;
        if (p > pendingPeak) pendingPeak = p;
    }
}
