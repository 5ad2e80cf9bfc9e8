package reclaim.impl.crystalline;

import reclaim.impl.core.Participant;
import reclaim.impl.core.ThreadRef;

/**
 * A participant of Crystalline-L: its reservation indices ({@link Reservations}), created with the participant
 * (the registry's volatile publication carries them to scanners) and never replaced.
 */
final class CrystallineParticipant extends Participant {
    /** The reservation indices: a list head and a reserved era per index. */
    final Reservations reservations;

    CrystallineParticipant(long state, ThreadRef holder, int batchSize, int indices) {
        super(state, holder, batchSize);
        this.reservations = new Reservations(indices);
    }
}
