package reclaim.impl.core;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The JFR event {@value #NAME}: a reader has held reclamation back for longer than the scheme's stall threshold
 * (EBR, QSBR: a guard that stays open, a registered thread that stays online without a quiescent state). Emitted
 * once per stall, by the thread that detected it (a collector's scan, {@code stats()} or the periodic snapshot).
 * Loaded only where {@link Jfr#AVAILABLE}.
 */
@Name(StallEvent.NAME)
@Label("Reclamation Stall")
@Category({"Reclaim"})
@Description("A reader held reclamation back for longer than the scheme's stall threshold; reported once per stall")
@StackTrace(false)
final class StallEvent extends Event {
    /** The event's name. */
    static final String NAME = "reclaim.Stall";

    @Label("Reclaimer")
    @Description("The reclaimer: scheme#number")
    String reclaimer;

    @Label("Scheme")
    String scheme;

    @Label("Stalled Thread")
    @Description("The thread whose guard or online registration holds reclamation back, where known")
    Thread stalledThread;

    @Label("Held Back For")
    @Description("How long the reader had held reclamation back when the stall was detected")
    @Timespan(Timespan.NANOSECONDS)
    long heldBackFor;

    @Label("Stall Threshold")
    @Timespan(Timespan.NANOSECONDS)
    long threshold;

    @Label("Announcement")
    @Description("The epoch (EBR) or grace period (QSBR) the reader announced")
    long announcement;

    @Label("Pending")
    @Description("Objects retired and not yet reclaimed, when the stall was detected")
    long pending;

    StallEvent() {
    }
}
