package reclaim.offheap;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/**
 * The periodic JFR event {@value #NAME}: one per open {@link NativeMemory} and period, carrying the figures of
 * {@link NativeStats}. Registered by {@link NativeMemory} with {@code FlightRecorder.addPeriodicEvent} and
 * removed at {@code close()}; enable it in a recording ({@code -XX:StartFlightRecording} with a settings file,
 * or {@code recording.enable("reclaim.NativeMemory")}).
 */
@Name(NativeMemoryEvent.NAME)
@Label("Native Memory")
@Category({"Reclaim"})
@Description("Accounting of a reclaim.offheap.NativeMemory: blocks and bytes allocated, pending, freed, quarantined")
@Period("1 s")
@StackTrace(false)
final class NativeMemoryEvent extends Event {
    /** The event's name. */
    static final String NAME = "reclaim.NativeMemory";

    @Label("Allocator")
    @Description("The allocator's name: NativeMemory#id (scheme)")
    String allocator;

    @Label("Scheme")
    String scheme;

    @Label("Checked")
    boolean checked;

    @Label("Allocated Blocks")
    long allocatedBlocks;

    @Label("Allocated Bytes")
    @DataAmount
    long allocatedBytes;

    @Label("Retired Blocks")
    long retiredBlocks;

    @Label("Retired Bytes")
    @DataAmount
    long retiredBytes;

    @Label("Freed Blocks")
    long freedBlocks;

    @Label("Freed Bytes")
    @DataAmount
    long freedBytes;

    @Label("Pending Blocks")
    @Description("Retired, not yet freed")
    long pendingBlocks;

    @Label("Pending Bytes")
    @DataAmount
    long pendingBytes;

    @Label("Live Blocks")
    @Description("Allocated, not yet freed")
    long liveBlocks;

    @Label("Live Bytes")
    @DataAmount
    long liveBytes;

    @Label("Quarantined Blocks")
    long quarantinedBlocks;

    @Label("Quarantined Bytes")
    @DataAmount
    long quarantinedBytes;

    @Label("Use After Free")
    @Description("Use-after-free and double retire/free detections")
    long useAfterFree;

    NativeMemoryEvent() {
    }

    /** Copies a snapshot into the event's fields. */
    void set(String allocatorName, NativeStats s) {
        allocator = allocatorName;
        scheme = s.scheme();
        checked = s.checked();
        allocatedBlocks = s.allocatedBlocks();
        allocatedBytes = s.allocatedBytes();
        retiredBlocks = s.retiredBlocks();
        retiredBytes = s.retiredBytes();
        freedBlocks = s.freedBlocks();
        freedBytes = s.freedBytes();
        pendingBlocks = s.pendingBlocks();
        pendingBytes = s.pendingBytes();
        liveBlocks = s.liveBlocks();
        liveBytes = s.liveBytes();
        quarantinedBlocks = s.quarantinedBlocks();
        quarantinedBytes = s.quarantinedBytes();
        useAfterFree = s.useAfterFree();
    }
}
