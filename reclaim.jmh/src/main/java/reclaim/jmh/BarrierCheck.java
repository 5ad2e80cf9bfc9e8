package reclaim.jmh;

import reclaim.api.Options;
import reclaim.api.Reclaimer;

/**
 * Refuses to measure a reclaimer that runs the fence strategy only because its fork lacks native access.
 *
 * <p>The benchmarks that take the default barrier ({@code auto}) enable native access in their {@code @Fork}'s
 * {@code jvmArgsAppend}, so that the asymmetric strategy is the one measured. JMH's command-line {@code -jvmArgsAppend}
 * <em>replaces</em> that list rather than adding to it: a run that passes, say, a collector there loses
 * {@code --enable-native-access} without a word, every reader fences again, and the figures silently measure the
 * other strategy (under hazard pointers, a fence per {@code protect}). Such a fork now fails at setup, naming the
 * cause. Not refused: a barrier asked for explicitly ({@code -Dreclaim.barrier=...}), and a fork with native access
 * where the platform itself has no asymmetric barrier (the reclaimer's {@code Stats} say which one runs).
 */
final class BarrierCheck {
    private BarrierCheck() {
    }

    /**
     * Returns {@code r}, or closes it and throws if it fell back to fences for want of native access.
     *
     * @param r a reclaimer created with the default barrier, or null (a GC baseline: nothing to check)
     * @return {@code r}
     * @throws IllegalStateException if {@code r} fences because this fork has no native access and no barrier was
     *     asked for
     */
    static Reclaimer checked(Reclaimer r) {
        if (r == null || System.getProperty(Options.BARRIER_PROPERTY) != null) return r;
        if (r.stats().barrier() == Options.Barrier.ASYMMETRIC) return r;
        if (BarrierCheck.class.getModule().isNativeAccessEnabled()) return r; // the platform's answer: fences
        r.close();
        throw new IllegalStateException("this fork has no native access, so its " + r.scheme().name() + " reclaimer"
                + " fell back to fences: JMH's -jvmArgsAppend on the command line replaces the benchmark's own, which"
                + " enables native access; pass extra JVM options with -jvmArgsPrepend, or add"
                + " --enable-native-access=ALL-UNNAMED, or -D" + Options.BARRIER_PROPERTY + "=fence to measure fences");
    }
}
