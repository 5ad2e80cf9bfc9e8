package reclaim.collections.lincheck;

import java.util.ArrayDeque;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Tag;
import reclaim.collections.NodeLives;
import reclaim.collections.RecyclingStack;

/** {@link RecyclingStack} is linearizable under every scheme, with its nodes recycled (see {@link Lincheck}). */
@Tag("lincheck")
class StackLincheckTest extends EverySchemeLincheck {

    StackLincheckTest() {
        super(Tested.class, Spec.class);
    }

    /** The stack over a fresh reclaimer, as Lincheck drives it. */
    @Param(name = "element", gen = IntGen.class, conf = "1:3")
    public static final class Tested extends Lincheck.Reclaimed {
        private final RecyclingStack<Integer> stack = new RecyclingStack<>(reclaimer, Lincheck.POOL);

        /** Creates the stack. */
        public Tested() {
        }

        @Operation
        public void push(@Param(name = "element") int e) {
            stack.push(e);
        }

        @Operation
        public Integer pop() {
            return stack.pop();
        }

        @Operation
        public Integer peek() {
            return stack.peek();
        }

        @Operation
        public int size() {
            return stack.size();
        }

        @Operation
        public boolean isEmpty() {
            return stack.isEmpty();
        }

        /** Reads the top node in a guard and checks that it keeps its life until the guard closes (always true). */
        @Operation
        public boolean topKeepsItsLife() {
            return NodeLives.stackTopKeepsItsLife(stack);
        }
    }

    /** The sequential specification. */
    public static final class Spec extends Lincheck.Sequential {
        private final ArrayDeque<Integer> stack = new ArrayDeque<>();

        /** Creates an empty stack. */
        public Spec() {
        }

        public void push(int e) {
            stack.push(e);
        }

        public Integer pop() {
            return stack.poll();
        }

        public Integer peek() {
            return stack.peek();
        }

        public int size() {
            return stack.size();
        }

        public boolean isEmpty() {
            return stack.isEmpty();
        }

        public boolean topKeepsItsLife() {
            return true;
        }
    }
}
