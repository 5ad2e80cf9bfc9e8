package reclaim.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class SchemeTest {

    @Test
    void namedParsesEveryShortNameToItsRecordWithDefaults() {
        assertInstanceOf(Scheme.Qsbr.class, Scheme.named("qsbr"));
        assertEquals(new Scheme.Ebr(), Scheme.named("ebr"));
        assertEquals(new Scheme.HazardPointers(), Scheme.named("hp"));
        assertEquals(new Scheme.Hyaline(), Scheme.named("hyaline"));
        assertEquals(new Scheme.Crystalline(), Scheme.named("crystalline"));
        assertEquals(new Scheme.None(), Scheme.named("none"));
        for (String name : Scheme.NAMES) assertEquals(name, Scheme.named(name).name());
    }

    @Test
    void namedIgnoresCaseAndBlanks() {
        assertEquals(new Scheme.Ebr(), Scheme.named("  EBR "));
        assertEquals(new Scheme.HazardPointers(), Scheme.named("Hazard-Pointers"));
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scheme.named("rcu"));
        assertTrue(e.getMessage().contains("'rcu'"), e.getMessage());
        for (String name : Scheme.NAMES) assertTrue(e.getMessage().contains(name), e.getMessage());
        NullPointerException npe = assertThrows(NullPointerException.class, () -> Scheme.named(null));
        assertEquals("name", npe.getMessage());
    }

    @Test
    void tuningIsValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Scheme.Ebr(0, 128, 1));
        assertTrue(e.getMessage().contains("batchSize"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Scheme.Ebr(64, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Scheme.Ebr(64, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Scheme.HazardPointers(Guard.MIN_SLOTS - 1, 2));
        assertThrows(IllegalArgumentException.class, () -> new Scheme.Crystalline(64, 1));
        assertThrows(IllegalArgumentException.class, () -> new Scheme.Crystalline(64, Scheme.Crystalline.MAX_SLOTS + 1));
        assertThrows(IllegalArgumentException.class, () -> new Scheme.HazardPointers(Scheme.HazardPointers.MAX_SLOTS + 1, 2));
        assertThrows(IllegalArgumentException.class, () -> new Scheme.Hyaline(0, true));
        assertThrows(IllegalArgumentException.class, () -> new Scheme.Qsbr(64, -1, 1));
    }

    @Test
    void aBatchSizeAboveTheMaximumIsRefusedByEveryScheme() {
        int over = Scheme.MAX_BATCH_SIZE + 1;
        for (Executable e : List.<Executable>of(
                () -> new Scheme.Ebr(over, 128, 1), () -> new Scheme.Qsbr(over, 0, 1), () -> new Scheme.Hyaline(over, true),
                () -> new Scheme.Crystalline(over, 8), () -> new Scheme.Crystalline(Integer.MAX_VALUE, 8, true))) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
            assertTrue(x.getMessage().contains("batchSize") && x.getMessage().contains(String.valueOf(Scheme.MAX_BATCH_SIZE)),
                    x.getMessage());
        }
        int max = Scheme.MAX_BATCH_SIZE;
        assertEquals(max, new Scheme.Ebr(max, 128, 1).batchSize());
        assertEquals(max, new Scheme.Qsbr(max, 0, 1).batchSize());
        assertEquals(max, new Scheme.Hyaline(max, false).batchSize());
        assertEquals(max, new Scheme.Crystalline(max, 8, true).batchSize());
    }

    @Test
    void statsDerivesPendingAndRejectsNegativeCounts() {
        Stats s = new Stats("ebr", 10, 7, 1, 0, 2);
        assertEquals(3, s.pending());
        assertThrows(IllegalArgumentException.class, () -> new Stats("ebr", -1, 0, 0, 0, 0));
        assertThrows(NullPointerException.class, () -> new Stats(null, 0, 0, 0, 0, 0));
    }
}
