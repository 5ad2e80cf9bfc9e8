package reclaim.jmh;

import java.util.concurrent.atomic.AtomicLong;

import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** A benchmark thread's random source: a distinct seed per thread, shared by the workload benchmarks. */
@State(Scope.Thread)
public class ThreadRng {
    private static final AtomicLong SEEDS = new AtomicLong();

    final Mix.Rng rnd = new Mix.Rng(SEEDS.incrementAndGet());

    /** Creates the state. */
    public ThreadRng() {}
}
