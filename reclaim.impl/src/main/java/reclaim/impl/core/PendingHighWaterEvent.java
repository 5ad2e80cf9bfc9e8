package reclaim.impl.core;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The JFR event {@value #NAME}: the objects a reclaimer holds retired and not yet reclaimed reached a new mark,
 * at least one batch and twice the previous mark, so a reclaimer whose garbage grows without bound reports a
 * logarithmic number of them. Observed when a bag is sealed and at every snapshot, while a recording enables it.
 * Loaded only where {@link Jfr#AVAILABLE}.
 */
@Name(PendingHighWaterEvent.NAME)
@Label("Pending High-Water Mark")
@Category({"Reclaim"})
@Description("Objects retired and not yet reclaimed reached a new mark (at least a batch, and twice the previous"
        + " mark)")
@StackTrace(false)
final class PendingHighWaterEvent extends Event {
    /** The event's name. */
    static final String NAME = "reclaim.PendingHighWater";

    @Label("Reclaimer")
    @Description("The reclaimer: scheme#number")
    String reclaimer;

    @Label("Scheme")
    String scheme;

    @Label("Pending")
    @Description("Objects retired and not yet reclaimed")
    long pending;

    @Label("Previous Mark")
    @Description("The mark reported before (0: none)")
    long previousMark;

    @Label("Stalled")
    @Description("Readers stalled when the mark was reached (EBR, QSBR)")
    int stalled;

    PendingHighWaterEvent() {
    }
}
