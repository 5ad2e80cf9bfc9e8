package reclaim.impl.crystalline;

import reclaim.impl.core.Participant;
import reclaim.impl.core.ThreadRef;

/**
 * A participant of Crystalline-W: its reservation indices ({@link WaitFreeReservations}), created with the
 * participant (the registry's volatile publication carries them to scanners) and never replaced.
 */
final class CrystallineWParticipant extends Participant {
    /** The reservation indices: a list head, a reserved era and a helping request per index. */
    final WaitFreeReservations reservations;

    CrystallineWParticipant(long state, ThreadRef holder, int batchSize, int indices) {
        super(state, holder, batchSize);
        this.reservations = new WaitFreeReservations(indices);
    }
}
