package reclaim.collections.lincheck;

import java.util.HashMap;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Tag;
import reclaim.collections.RecyclingHashMap;

/**
 * {@link RecyclingHashMap} is linearizable under every scheme, with its nodes recycled (see {@link Lincheck}),
 * through its per-operation API and through {@link RecyclingHashMap.Pinned} views. Two buckets and keys
 * 1..4, so that every bucket list holds several entries; values 1..2, so that the conditional updates both
 * match and miss.
 */
@Tag("lincheck")
class HashMapLincheckTest extends EverySchemeLincheck {

    HashMapLincheckTest() {
        super(Tested.class, Spec.class);
    }

    /** The map over a fresh reclaimer, as Lincheck drives it. */
    @Param(name = "key", gen = IntGen.class, conf = "1:4")
    @Param(name = "value", gen = IntGen.class, conf = "1:2")
    public static final class Tested extends Lincheck.Reclaimed {
        private final RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(reclaimer, 2, Lincheck.POOL);

        /** Creates the map. */
        public Tested() {
        }

        @Operation
        public Integer get(@Param(name = "key") int k) {
            return map.get(k);
        }

        @Operation
        public Integer put(@Param(name = "key") int k, @Param(name = "value") int v) {
            return map.put(k, v);
        }

        @Operation
        public Integer putIfAbsent(@Param(name = "key") int k, @Param(name = "value") int v) {
            return map.putIfAbsent(k, v);
        }

        @Operation
        public Integer remove(@Param(name = "key") int k) {
            return map.remove(k);
        }

        @Operation
        public boolean removeIfMapsTo(@Param(name = "key") int k, @Param(name = "value") int v) {
            return map.remove(k, v);
        }

        @Operation
        public boolean replaceIfMapsTo(@Param(name = "key") int k, @Param(name = "value") int v) {
            return map.replace(k, v, v + 1);
        }

        /** A put through a view, after a read in the same view (see {@link Lincheck}). */
        @Operation
        public Integer pinnedPut(@Param(name = "key") int k, @Param(name = "value") int v) {
            try (RecyclingHashMap.Pinned<Integer, Integer> m = map.pin()) {
                m.get(k + 1);
                return m.put(k, v);
            }
        }

        /** A removal through a view, after a read in the same view. */
        @Operation
        public Integer pinnedRemove(@Param(name = "key") int k) {
            try (RecyclingHashMap.Pinned<Integer, Integer> m = map.pin()) {
                m.containsKey(k);
                return m.remove(k);
            }
        }
    }

    /** The sequential specification. */
    public static final class Spec extends Lincheck.Sequential {
        private final HashMap<Integer, Integer> map = new HashMap<>();

        /** Creates an empty map. */
        public Spec() {
        }

        public Integer get(int k) {
            return map.get(k);
        }

        public Integer put(int k, int v) {
            return map.put(k, v);
        }

        public Integer putIfAbsent(int k, int v) {
            return map.putIfAbsent(k, v);
        }

        public Integer remove(int k) {
            return map.remove(k);
        }

        public boolean removeIfMapsTo(int k, int v) {
            return map.remove(k, v);
        }

        public boolean replaceIfMapsTo(int k, int v) {
            return map.replace(k, v, v + 1);
        }

        public Integer pinnedPut(int k, int v) {
            return put(k, v);
        }

        public Integer pinnedRemove(int k) {
            return remove(k);
        }
    }
}
