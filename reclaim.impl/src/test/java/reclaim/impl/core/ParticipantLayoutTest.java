package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.ClassLayout;
import org.openjdk.jol.info.FieldLayout;

/**
 * The record's hot words (the announcement and the holder, read by every advancer) sit alone between
 * 128 bytes of padding on each side, so that neither the owner's plain fields nor a neighbouring object share
 * their cache line (or the adjacent-line prefetch pair). Checked on the running VM's actual field layout.
 */
class ParticipantLayoutTest {
    private static final int PAD = 128;
    /** The words other threads read on every scan: the state, the holder and the owner. */
    private static final java.util.Set<String> HOT = java.util.Set.of("state", "holder", "owner");

    @Test
    void hotWordsArePaddedOnBothSides() {
        ClassLayout layout = ClassLayout.parseClass(Participant.class);
        Map<String, Long> offsets = new TreeMap<>();
        long hotEnd = 0;
        for (FieldLayout f : layout.fields()) {
            offsets.put(f.name(), f.offset());
            if (HOT.contains(f.name())) hotEnd = Math.max(hotEnd, f.offset() + f.size());
        }
        long hotStart = HOT.stream().mapToLong(offsets::get).min().orElseThrow();
        String dump = offsets.entrySet().stream().map(e -> e.getKey() + "@" + e.getValue()).collect(Collectors.joining(", "));
        assertTrue(hotStart >= PAD, "hot words start at " + hotStart + ": " + dump);
        for (Map.Entry<String, Long> e : offsets.entrySet()) {
            String name = e.getKey();
            long at = e.getValue();
            if (HOT.contains(name)) continue;
            if (name.matches("p\\d\\d")) {
                assertTrue(at < hotStart, name + " should precede the hot words: " + dump);
            } else {
                assertTrue(at >= hotEnd, name + " should follow the hot words: " + dump);
                if (!name.matches("q\\d\\d")) {
                    assertTrue(at >= hotEnd + PAD - 8, name + " is within " + PAD + " bytes of the hot words: " + dump);
                }
            }
        }
    }
}
