package reclaim.collections;

import java.util.stream.Stream;
import reclaim.api.Reclaimer;

/**
 * The builds of the set and the map that their tests run against: one per scheme present (nodes recycled
 * through it) and {@code gc}, the GC-allocating twin.
 */
final class Impls {
    static final String GC = "gc";

    private Impls() {
    }

    /** Every scheme present, then the GC twin. */
    static Stream<String> names() {
        return Stream.concat(Schemes.names(), Stream.of(GC));
    }

    static Reclaimer reclaimer(String impl) {
        return impl.equals(GC) ? null : Reclaimer.create(impl);
    }

    static <K, V> RecyclingHashMap<K, V> map(String impl, Reclaimer r, int expectedSize) {
        return r == null ? RecyclingHashMap.gcTwin(expectedSize)
                : new RecyclingHashMap<>(r, expectedSize, RecyclingHashMap.DEFAULT_POOL_CAPACITY);
    }

    static <E> RecyclingListSet<E> set(String impl, Reclaimer r) {
        return r == null ? RecyclingListSet.gcTwin() : new RecyclingListSet<>(r);
    }

    /** Closes and checks a scheme's reclaimer (retired == reclaimed); nothing for the twin. */
    static void closeAndCheck(Reclaimer r) {
        if (r != null) Schemes.closeAndCheck(r);
    }
}
