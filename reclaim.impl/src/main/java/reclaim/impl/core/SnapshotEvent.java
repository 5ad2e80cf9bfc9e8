package reclaim.impl.core;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Percentage;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/**
 * The periodic JFR event {@value #NAME}: one per open reclaimer and period (one second by default), and a last
 * one when it closes, with the figures of its {@code Stats} and what the other events follow. Registered per
 * reclaimer with {@code FlightRecorder.addPeriodicEvent} once the flight recorder is initialized, removed at
 * close. Loaded only where {@link Jfr#AVAILABLE}.
 */
@Name(SnapshotEvent.NAME)
@Label("Reclaimer Snapshot")
@Category({"Reclaim"})
@Description("A reclaimer's figures: retired, reclaimed, pending and its high-water mark, failed actions, stalled"
        + " readers, participants, the share of reclamation done for other threads; also emitted once at close")
@Period("1 s")
@StackTrace(false)
final class SnapshotEvent extends Event {
    /** The event's name. */
    static final String NAME = "reclaim.Snapshot";

    @Label("Reclaimer")
    @Description("The reclaimer: scheme#number")
    String reclaimer;

    @Label("Scheme")
    String scheme;

    @Label("Closed")
    @Description("Whether this is the snapshot taken when the reclaimer closed")
    boolean closed;

    @Label("Retired")
    long retired;

    @Label("Reclaimed")
    @Description("Reclaim actions run (thrown or not)")
    long reclaimed;

    @Label("Pending")
    @Description("Retired, not yet reclaimed")
    long pending;

    @Label("Pending High-Water Mark")
    @Description("The most objects seen pending at once while a recording observed this reclaimer")
    long pendingHighWater;

    @Label("Pending Bound")
    @Description("Reclaimer.pendingBound(), the bound a robust scheme keeps on pending objects; -1: none (EBR, QSBR)")
    long pendingBound;

    @Label("Failed")
    @Description("Reclaim actions that threw")
    long failed;

    @Label("Stalled")
    @Description("Readers holding reclamation back past the stall threshold (EBR, QSBR)")
    int stalled;

    @Label("Participants")
    int participants;

    @Label("Balanced Share")
    @Description("Of the objects reclaimed, the share whose batch another thread than the reclaiming one sealed")
    @Percentage
    double balancedShare;

    @Label("Era")
    @Description("The reclaimer's era (epoch, grace period or era, by scheme)")
    long era;

    SnapshotEvent() {
    }
}
