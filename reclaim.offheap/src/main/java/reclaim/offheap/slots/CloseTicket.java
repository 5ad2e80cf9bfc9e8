package reclaim.offheap.slots;

import reclaim.api.Keyed;

/**
 * One slot's share of the slab when a {@link SlotMemory} closes: keyed like the slot's {@link Ticket}, so a
 * reader's reservation of the slot holds it, and the slab is freed by the action of the last one reclaimed.
 */
final class CloseTicket implements Keyed {
    final int index;

    CloseTicket(int index) {
        this.index = index;
    }

    @Override
    public long key() {
        return index + 1L;
    }
}
