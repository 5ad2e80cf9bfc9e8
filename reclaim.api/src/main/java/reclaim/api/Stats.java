package reclaim.api;

/**
 * A snapshot of a reclaimer's counters.
 *
 * <p>While threads run the figures are read without stopping them, so they are approximate (each counter is
 * exact at some instant, not all at the same one); once the reclaimer is quiescent or closed they are exact.
 * After {@link Reclaimer#close()}: {@code retired() == reclaimed()} and {@code pending() == 0}.
 *
 * @param scheme the scheme's short name ({@link Scheme#name()})
 * @param retired objects handed to {@code retire} so far
 * @param reclaimed objects whose reclaim action has run (including actions that threw)
 * @param failed reclaim actions that threw; each is also counted in {@code reclaimed}
 * @param stalled threads currently inside a guard that hold back reclamation for longer than the scheme's
 *     stall threshold (schemes that cannot bound garbage, EBR, QSBR and Hyaline's non-robust variant, detect and
 *     report stalls here; Hyaline's threshold is 100 ms)
 * @param participants thread records (or slots) the scheme holds, used or free
 * @param barrier the barrier strategy the reclaimer runs: {@link Options.Barrier#FENCE} or
 *     {@link Options.Barrier#ASYMMETRIC}, never {@code AUTO} (see {@link Options#barrier()})
 */
public record Stats(String scheme, long retired, long reclaimed, long failed, int stalled, int participants,
                    Options.Barrier barrier) {

    /**
     * Creates stats of a reclaimer whose readers fence ({@link Options.Barrier#FENCE}).
     *
     * @param scheme the scheme's short name
     * @param retired objects retired so far
     * @param reclaimed objects reclaimed so far
     * @param failed reclaim actions that threw
     * @param stalled threads that hold back reclamation past the stall threshold
     * @param participants thread records the scheme holds
     */
    public Stats(String scheme, long retired, long reclaimed, long failed, int stalled, int participants) {
        this(scheme, retired, reclaimed, failed, stalled, participants, Options.Barrier.FENCE);
    }

    /**
     * Checks the arguments.
     *
     * @throws NullPointerException if {@code scheme} or {@code barrier} is null
     * @throws IllegalArgumentException if a count is negative, or {@code barrier} is {@code AUTO}
     */
    public Stats {
        if (scheme == null) throw new NullPointerException("scheme");
        if (barrier == null) throw new NullPointerException("barrier");
        if (barrier == Options.Barrier.AUTO) throw new IllegalArgumentException("stats name the barrier strategy in use, not AUTO");
        if (retired < 0 || reclaimed < 0 || failed < 0 || stalled < 0 || participants < 0) {
            throw new IllegalArgumentException("negative count in stats: retired=" + retired + ", reclaimed="
                    + reclaimed + ", failed=" + failed + ", stalled=" + stalled + ", participants=" + participants);
        }
    }

    /**
     * Returns the objects retired and not yet reclaimed.
     *
     * @return {@code retired() - reclaimed()}, never negative
     */
    public long pending() {
        return Math.max(0, retired - reclaimed);
    }

    /**
     * Returns the figures, {@link #pending()} included, e.g.
     * {@code Stats[scheme=ebr, retired=10, reclaimed=8, pending=2, failed=0, stalled=0, participants=3, barrier=fence]}.
     *
     * @return the figures
     */
    @Override
    public String toString() {
        return "Stats[scheme=" + scheme + ", retired=" + retired + ", reclaimed=" + reclaimed + ", pending="
                + pending() + ", failed=" + failed + ", stalled=" + stalled + ", participants=" + participants
                + ", barrier=" + barrier.name().toLowerCase(java.util.Locale.ROOT) + "]";
    }
}
