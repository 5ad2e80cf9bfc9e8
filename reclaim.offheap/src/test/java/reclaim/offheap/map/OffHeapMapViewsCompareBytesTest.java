package reclaim.offheap.map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Reclaimer;

/**
 * The map compares keys and values as serialized bytes: the key set's and the values' {@code remove} agree with
 * their {@code contains} (which answer by bytes), also for {@link Serializer#bytes()}, whose arrays are equal only
 * to themselves; and they refuse null as the map does.
 */
class OffHeapMapViewsCompareBytesTest {

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    private static OffHeapMap<byte[], byte[]> byteMap(Reclaimer r) {
        return OffHeapMap.builder(r, Serializer.bytes(), Serializer.bytes()).segments(2).initialBuckets(2).build();
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void keySetRemoveRemovesTheKeyThatKeySetContainsReports(String scheme) {
        try (Reclaimer r = Reclaimer.create(scheme); OffHeapMap<byte[], byte[]> map = byteMap(r)) {
            map.put(new byte[] {1, 2}, new byte[] {9});
            byte[] sameBytes = {1, 2};
            assertTrue(map.keySet().contains(sameBytes), "contains answers by bytes");
            boolean removed = map.keySet().remove(sameBytes);
            assertAll(
                    () -> assertTrue(removed, "keySet().remove of a key that keySet().contains reports"),
                    () -> assertFalse(map.containsKey(new byte[] {1, 2}), "the key is still mapped"),
                    () -> assertEquals(0, map.size()));
        }
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void valuesRemoveRemovesTheValueThatValuesContainsReports(String scheme) {
        try (Reclaimer r = Reclaimer.create(scheme); OffHeapMap<byte[], byte[]> map = byteMap(r)) {
            map.put(new byte[] {1}, new byte[] {7, 7});
            map.put(new byte[] {2}, new byte[] {8});
            byte[] sameBytes = {7, 7};
            assertTrue(map.values().contains(sameBytes), "contains answers by bytes");
            boolean removed = map.values().remove(sameBytes);
            assertAll(
                    () -> assertTrue(removed, "values().remove of a value that values().contains reports"),
                    () -> assertFalse(map.containsKey(new byte[] {1}), "the entry of that value is still mapped"),
                    () -> assertTrue(map.containsKey(new byte[] {2}), "another entry was removed"),
                    () -> assertEquals(1, map.size()));
        }
    }

    /** The key set's and the values' {@code contains} and {@code remove} refuse null as the map does. */
    @ParameterizedTest
    @MethodSource("schemes")
    void theKeySetAndTheValuesRefuseNullAsTheMapDoes(String scheme) {
        try (Reclaimer r = Reclaimer.create(scheme); OffHeapMap<byte[], byte[]> map = byteMap(r)) {
            map.put(new byte[] {1}, new byte[] {7});
            assertAll(
                    () -> assertThrows(NullPointerException.class, () -> map.keySet().contains(null)),
                    () -> assertThrows(NullPointerException.class, () -> map.keySet().remove(null)),
                    () -> assertThrows(NullPointerException.class, () -> map.values().contains(null)),
                    () -> assertThrows(NullPointerException.class, () -> map.values().remove(null)),
                    () -> assertFalse(map.entrySet().contains(null), "no entry the map cannot hold"),
                    () -> assertEquals(1, map.size(), "nothing removed"));
        }
    }
}
