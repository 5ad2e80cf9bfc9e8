package reclaim.offheap.slots;

import reclaim.api.Born;
import reclaim.api.Keyed;

/**
 * One slot's ticket, retired to the reclaimer when the slot is freed; its reclaim action puts the slot back on
 * the free list. Its key is what readers reserve ({@code index + 1}, never 0). A manager preallocates one per
 * slot and reuses it every generation: a slot's ticket is retired at most once at a time (it comes back only
 * through its own reclaim action), so a free allocates nothing.
 */
final class Ticket implements Keyed, Born {
    final int index;
    /**
     * The era in which the slot's current generation was published: written plainly by store before the
     * generation's release store, read by the reclaimer at retire, after free's CAS that read that release.
     */
    long birthEra;

    Ticket(int index) {
        this.index = index;
    }

    @Override
    public long key() {
        return index + 1L;
    }

    @Override
    public long birthEra() {
        return birthEra;
    }
}
