package reclaim.jmh.offheap;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * The writer's sampler of native memory in {@link NativeFreeBenchmark}: every {@value #EVERY} writes it reads
 * the bytes of 64-byte blocks allocated and not yet freed (live and pending) and keeps the peak.
 *
 * <p>JMH sums {@code EVENTS} counters over the measurement iterations (and over threads: only the writer
 * takes this state). So that the sum is the peak, each iteration reports how much it <em>raised</em> the peak
 * of the measurement phase (the peak starts at 0 with the first measurement iteration): the score of
 * {@code free:peakBytes} is the peak over all measurement iterations, and {@code free:peakRatio} that peak
 * divided by the live set ({@code cells × 64} bytes). A single iteration's raw value is only its increment.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class NativePeak {
    /** Writes between two samples. */
    static final int EVERY = 1024;

    /** What this iteration added to the measurement phase's peak of native bytes. */
    public long peakBytes;
    /** {@code peakBytes} divided by the live set. */
    public double peakRatio;

    /** The peak so far in this phase. */
    private long peak;
    private IterationType phase;
    private int countdown = EVERY;

    /** Creates the state. */
    public NativePeak() {}

    /**
     * Clears the counters; restarts the peak when the measurement phase begins.
     *
     * @param iteration the iteration's JMH parameters
     */
    @Setup(Level.Iteration)
    public void reset(IterationParams iteration) {
        if (iteration.getType() != phase) {
            phase = iteration.getType();
            peak = 0;
        }
        peakBytes = 0;
        peakRatio = 0;
        countdown = EVERY;
    }

    /**
     * Counts one write and samples every {@value #EVERY}.
     *
     * @param b the benchmark state
     */
    void tick(NativeFreeBenchmark b) {
        if (--countdown > 0) return;
        countdown = EVERY;
        long live = b.nativeBytes();
        b.trialPeak(live);
        if (live > peak) {
            peakBytes += live - peak;
            peakRatio = (double) peakBytes / b.liveSet();
            peak = live;
        }
    }
}
