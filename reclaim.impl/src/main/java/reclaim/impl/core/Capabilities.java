package reclaim.impl.core;

/**
 * What a scheme asks of the core, fixed when the core is built.
 *
 * @param stickyParticipants whether guards publish nothing on enter (hazard pointers, Crystalline: a guard's
 *     protects publish what it holds). Then a platform thread keeps a participant HELD from its first guard until
 *     it ends (entering touches no shared word; the owner writes its open flag only), the owner takes its own
 *     participant (CAS to BUSY) to touch its bag, so that a flush sealing idle participants' bags never shares the
 *     bag with it; virtual threads still lease a participant per outermost guard.
 * @param sealPerParticipant whether a sealed bag stays on its participant's stack (pushed by the holder,
 *     wait-free) instead of the shared stack (a lock-free CAS loop), and a retirer that finds its own participant
 *     held for a moment by a flush hands its object over aside instead of waiting: what Crystalline-W needs for a
 *     wait-free retire. Collectors then take bags from every participant.
 * @param collectInterval guards opened on a participant between two collections that enter starts
 *     ({@code Integer.MAX_VALUE}: enter never collects on a count; see {@link Policy#collectDue})
 * @param batchSize objects per bag
 * @param stallThresholdNanos how long a participant may hold reclamation back before it counts as stalled
 */
public record Capabilities(boolean stickyParticipants, boolean sealPerParticipant, int collectInterval, int batchSize,
        long stallThresholdNanos) {
    /** Checks the values. */
    public Capabilities {
        if (sealPerParticipant && !stickyParticipants) {
            throw new IllegalArgumentException("per-participant sealing needs sticky participants");
        }
        if (collectInterval < 1) throw new IllegalArgumentException("collectInterval < 1: " + collectInterval);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize < 1: " + batchSize);
    }
}
