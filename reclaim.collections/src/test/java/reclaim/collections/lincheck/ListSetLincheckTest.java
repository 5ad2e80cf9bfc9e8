package reclaim.collections.lincheck;

import java.util.HashSet;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Tag;
import reclaim.collections.RecyclingListSet;

/**
 * {@link RecyclingListSet} is linearizable under every scheme, with its nodes recycled (see {@link Lincheck}),
 * through its per-operation API and through {@link RecyclingListSet.Pinned} views. Elements 1..4, whose
 * removals and re-insertions make the list unlink, retire and reuse nodes in the middle of traversals.
 */
@Tag("lincheck")
class ListSetLincheckTest extends EverySchemeLincheck {

    ListSetLincheckTest() {
        super(Tested.class, Spec.class);
    }

    /** The set over a fresh reclaimer, as Lincheck drives it. */
    @Param(name = "element", gen = IntGen.class, conf = "1:4")
    public static final class Tested extends Lincheck.Reclaimed {
        private final RecyclingListSet<Integer> set = new RecyclingListSet<>(reclaimer, Lincheck.POOL);

        /** Creates the set. */
        public Tested() {
        }

        @Operation
        public boolean add(@Param(name = "element") int e) {
            return set.add(e);
        }

        @Operation
        public boolean remove(@Param(name = "element") int e) {
            return set.remove(e);
        }

        @Operation
        public boolean contains(@Param(name = "element") int e) {
            return set.contains(e);
        }

        /** An insertion through a view, after a read in the same view (see {@link Lincheck}). */
        @Operation
        public boolean pinnedAdd(@Param(name = "element") int e) {
            try (RecyclingListSet.Pinned<Integer> s = set.pin()) {
                s.contains(e);
                return s.add(e);
            }
        }

        /** A removal through a view, after a read in the same view. */
        @Operation
        public boolean pinnedRemove(@Param(name = "element") int e) {
            try (RecyclingListSet.Pinned<Integer> s = set.pin()) {
                s.contains(e + 1);
                return s.remove(e);
            }
        }
    }

    /** The sequential specification. */
    public static final class Spec extends Lincheck.Sequential {
        private final HashSet<Integer> set = new HashSet<>();

        /** Creates an empty set. */
        public Spec() {
        }

        public boolean add(int e) {
            return set.add(e);
        }

        public boolean remove(int e) {
            return set.remove(e);
        }

        public boolean contains(int e) {
            return set.contains(e);
        }

        public boolean pinnedAdd(int e) {
            return add(e);
        }

        public boolean pinnedRemove(int e) {
            return remove(e);
        }
    }
}
