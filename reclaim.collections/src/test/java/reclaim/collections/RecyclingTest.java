package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.function.IntConsumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Born;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/**
 * The node pool: the steady state allocates (almost) no node, the pool is bounded, recycled nodes are
 * cleared, and birth eras are stamped when a node is published into the pool.
 */
class RecyclingTest {

    private static final int PAIRS = 1_000_000;
    private static final int ROUND = 1_000;
    /** At most 1% of the operations may allocate a node. */
    private static final long ALLOWED = PAIRS / 100;

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void stackSteadyStateAllocatesNoNodesWithFlushBetweenRounds(String scheme) {
        assumeTrue(Schemes.reclaimsEarly(scheme), "the none baseline reclaims nothing before close");
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<Integer> s = new RecyclingStack<>(r);
        Integer x = 42;
        inRounds(r, i -> s.push(x), i -> s.pop());
        long allocated = s.pool().allocatedNodes();
        assertTrue(allocated <= ALLOWED, () -> allocated + " nodes allocated for " + PAIRS + " push/pop pairs");
        Stats st = Schemes.closeAndCheck(r);
        assertEquals(PAIRS, st.retired());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void queueSteadyStateAllocatesNoNodesWithFlushBetweenRounds(String scheme) {
        assumeTrue(Schemes.reclaimsEarly(scheme), "the none baseline reclaims nothing before close");
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> q = new RecyclingQueue<>(r);
        Integer x = 42;
        inRounds(r, i -> q.offer(x), i -> q.poll());
        long allocated = q.pool().allocatedNodes();
        assertTrue(allocated <= ALLOWED, () -> allocated + " nodes allocated for " + PAIRS + " offer/poll pairs");
        Stats st = Schemes.closeAndCheck(r);
        assertEquals(PAIRS, st.retired());
    }

    /** ROUND insertions, ROUND removals, flush; PAIRS / ROUND times. */
    private static void inRounds(Reclaimer r, IntConsumer insert, IntConsumer remove) {
        for (int round = 0; round < PAIRS / ROUND; round++) {
            for (int i = 0; i < ROUND; i++) insert.accept(i);
            for (int i = 0; i < ROUND; i++) remove.accept(i);
            r.flush();
        }
    }

    /** Without flush, the progress guarantee alone must keep recycling going. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void steadyStateAllocatesNoNodesWithoutFlush(String scheme) {
        assumeTrue(Schemes.reclaimsEarly(scheme), "the none baseline reclaims nothing before close");
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<Integer> s = new RecyclingStack<>(r);
        RecyclingQueue<Integer> q = new RecyclingQueue<>(r);
        Integer x = 7;
        for (int i = 0; i < PAIRS; i++) {
            s.push(x);
            s.pop();
            q.offer(x);
            q.poll();
        }
        long stackAllocated = s.pool().allocatedNodes();
        long queueAllocated = q.pool().allocatedNodes();
        assertTrue(stackAllocated <= ALLOWED, () -> "stack: " + stackAllocated + " nodes for " + PAIRS + " pairs");
        assertTrue(queueAllocated <= ALLOWED, () -> "queue: " + queueAllocated + " nodes for " + PAIRS + " pairs");
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void poolIsBoundedAndRecycledNodesAreCleared(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        int capacity = 16;
        RecyclingStack<Object> s = new RecyclingStack<>(r, capacity);
        for (int i = 0; i < 1_000; i++) s.push(new Object());
        for (int i = 0; i < 1_000; i++) s.pop();
        Schemes.closeAndCheck(r); // every popped node has been recycled or dropped now
        NodePool<Object> pool = s.pool();
        assertEquals(1_000, pool.allocatedNodes());
        int free = 0;
        for (Node<Object> n = pool.peekFreeForTest(); n != null; n = n.nextVolatile()) {
            free++;
            assertNull(n.itemVolatile(), "a pooled node keeps its element");
            assertEquals(1, n.generationVolatile(), "a node in the pool was recycled once");
        }
        assertEquals(capacity, free, "single-threaded recycling fills the pool exactly to its capacity");
        assertEquals(capacity, pool.freeNodes());
    }

    /**
     * The pool's size is carried by its free nodes (each holds the count from it down): takes and returns, one thread,
     * keep that count equal to the nodes on the free list, and the capacity still caps what is kept.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void poolCountFollowsTakesAndReturns(String scheme) {
        assumeTrue(Schemes.reclaimsEarly(scheme), "the none baseline reclaims nothing before close");
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<Object> s = new RecyclingStack<>(r, 64);
        NodePool<Object> pool = s.pool();
        IntConsumer pushPop = n -> {
            for (int i = 0; i < n; i++) s.push(new Object());
            for (int i = 0; i < n; i++) s.pop();
            r.flush(); // no guard open: every popped node is back in the pool (or left to the GC) now
        };
        pushPop.accept(40);
        assertPoolHolds(pool, 40);
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 15; i++) s.push(new Object()); // 15 nodes from the pool
            assertPoolHolds(pool, 25);
            for (int i = 0; i < 15; i++) s.pop();
            r.flush();
            assertPoolHolds(pool, 40);
        }
        pushPop.accept(100); // 40 from the pool, 60 new; 100 back, of which the pool keeps its capacity
        assertPoolHolds(pool, 64);
        assertEquals(100, pool.allocatedNodes());
        Schemes.closeAndCheck(r);
    }

    private static void assertPoolHolds(NodePool<Object> pool, int expected) {
        int onList = 0;
        for (Node<Object> n = pool.peekFreeForTest(); n != null; n = n.nextVolatile()) onList++;
        assertEquals(expected, onList, "nodes on the free list");
        assertEquals(expected, pool.freeNodes(), "the count the pool's head carries");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void zeroCapacityRecyclesNothing(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> q = new RecyclingQueue<>(r, 0);
        for (int i = 0; i < 100; i++) {
            q.offer(i);
            q.poll();
            r.flush();
        }
        assertEquals(101, q.pool().allocatedNodes(), "100 nodes and the first dummy");
        assertNull(q.pool().peekFreeForTest());
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void birthEraIsStampedAtAllocationAndAgainWhenPublishedIntoThePool(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingStack<Integer> s = new RecyclingStack<>(r);
        long before = r.era();
        s.push(1);
        Node<Integer> fresh;
        try (var g = r.enter()) {
            fresh = s.topNode(g);
        }
        Born born = fresh; // what retire sees
        assertTrue(born.birthEra() >= before && born.birthEra() <= r.era(),
                () -> "birth era " + born.birthEra() + " not the era at allocation [" + before + ", " + r.era() + "]");
        for (int i = 2; i <= 100; i++) s.push(i);
        for (int i = 0; i < 3; i++) r.flush(); // lets an era-advancing scheme move on: nothing is pending yet
        long beforeRecycle = r.era(); // no node can be recycled before this: none has been retired
        for (int i = 0; i < 100; i++) s.pop();
        if (Schemes.reclaimsEarly(scheme)) r.flush();
        else r.close(); // none: close runs the actions
        int pooled = 0;
        for (Node<Integer> n = s.pool().peekFreeForTest(); n != null; n = n.nextVolatile()) {
            pooled++;
            long era = n.birthEra();
            assertTrue(era >= beforeRecycle,
                    () -> "a recycled node's birth era " + era + " predates its publication into the pool ("
                            + beforeRecycle + " or later)");
        }
        assertEquals(100, pooled);
        Schemes.closeAndCheck(r);
    }
}
