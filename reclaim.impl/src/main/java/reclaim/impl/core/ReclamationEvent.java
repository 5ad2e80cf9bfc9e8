package reclaim.impl.core;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.SettingDefinition;

/**
 * The JFR event {@value #NAME}: the reclaim actions of one batch ran (for hazard pointers: those of one scan, for
 * the objects it found unprotected). The event's thread is the thread that ran them and its duration is the time
 * they took. At most {@value RateControl#DEFAULT} by default (a busy reclaimer reclaims many batches a second); a
 * recording may lift it with {@code reclaim.Reclamation#rate=off} ({@link RateControl}). Loaded only where
 * {@link Jfr#AVAILABLE}.
 */
@Name(ReclamationEvent.NAME)
@Label("Reclamation")
@Category({"Reclaim"})
@Description("The reclaim actions of one batch (a hazard-pointer scan: of the objects it found unprotected) ran on"
        + " the event's thread, for the event's duration")
@StackTrace(false)
final class ReclamationEvent extends Event {
    /** The event's name. */
    static final String NAME = "reclaim.Reclamation";

    @Label("Reclaimer")
    @Description("The reclaimer: scheme#number")
    String reclaimer;

    @Label("Scheme")
    String scheme;

    @Label("Objects")
    @Description("Reclaim actions run")
    long objects;

    @Label("Failed")
    @Description("Reclaim actions that threw (contained, counted and logged)")
    long failed;

    @Label("Sealing Thread")
    @Description("The thread that sealed the batch (null for a hazard-pointer scan, which reclaims from several)")
    Thread sealingThread;

    @Label("Objects of Other Threads")
    @Description("Objects in batches sealed by another thread than the reclaiming one: work shared out (balanced"
            + " reclamation in Hyaline and Crystalline; a collector that helps in EBR and QSBR)")
    long othersObjects;

    ReclamationEvent() {
    }

    /**
     * The {@code rate} setting: whether this event passes the rate limit.
     *
     * @param control the setting's control
     * @return whether to commit
     */
    @SettingDefinition
    @Name("rate")
    @Label("Rate")
    @Description("At most this many events a second (\"100/s\"), or \"off\" for every one")
    boolean rate(RateControl control) {
        return control.allow();
    }
}
