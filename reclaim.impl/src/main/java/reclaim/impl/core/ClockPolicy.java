package reclaim.impl.core;

/**
 * A policy whose readers announce a clock value and whose bags are judged by the clock read when they were
 * sealed: EBR's epoch, QSBR's grace-period counter, the leak baseline's counter. A bag is stamped at sealing
 * (after the seal's full fence) and reclaimed once every announcement has moved past its stamp.
 */
public abstract class ClockPolicy extends Policy {
    /** Creates the policy. */
    protected ClockPolicy() {}

    /**
     * Returns the stamp of a bag sealed now; called after a full fence that follows the retires.
     *
     * @return the stamp (read with volatile semantics)
     */
    protected abstract long stampNow();

    /**
     * Advances the clock if the scheme can, and returns the bound below which stamps are safe: a bag with
     * {@code stamp < bound} is reclaimed. Scans {@link Core#participants()}, sweeping with
     * {@link Core#sweepIfDead}.
     *
     * @return the bound; {@code Long.MIN_VALUE} if nothing is safe
     */
    protected abstract long reclaimableBelow();

    @Override
    protected final void sealing(Batch bag) {
        bag.tag(stampNow());
    }

    @Override
    protected void collect(int limit) {
        SealedBags store = core.sealed;
        // Nothing sealed, nothing to judge: no clock advance, and no scan (under the asymmetric barrier a scan
        // costs a membarrier, an interrupt of every CPU running a thread of the process). Stalls still show in
        // stats(), and flush() advances the clock itself.
        if (store.peek() == null) return;
        long bound = reclaimableBelow();
        for (int n = 0; n < limit; n++) {
            // A hint: the peeked bag may be taken, reclaimed and recycled by another collector meanwhile (Batch), so
            // its tag may be a later seal's; only the bag polled below is judged.
            Batch b = store.peek();
            if (b == null || b.tag() >= bound) return;
            b = store.poll();
            if (b == null) return;
            if (b.tag() >= bound) { // a racing collector took the old one; this one is too young
                store.add(b);
                return;
            }
            core.reclamation().run(b);
        }
    }
}
