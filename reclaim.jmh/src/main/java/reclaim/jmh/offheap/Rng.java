package reclaim.jmh.offheap;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** A benchmark thread's random source (xorshift), a distinct seed per thread, allocation-free. */
@State(Scope.Thread)
public class Rng {
    private static final AtomicLong SEEDS = new AtomicLong();

    private long x = new SplittableRandom(SEEDS.incrementAndGet()).nextLong() | 1;

    /** Creates the state. */
    public Rng() {}

    /**
     * Returns the next number in {@code [0, bound)}.
     *
     * @param bound the bound, positive
     * @return the number
     */
    public int next(int bound) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        return (int) ((x >>> 33) % bound);
    }
}
