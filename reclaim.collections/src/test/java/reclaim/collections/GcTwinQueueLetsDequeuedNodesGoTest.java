package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.ref.WeakReference;
import org.junit.jupiter.api.Test;
import reclaim.api.Guard;

/**
 * The GC twin of {@link RecyclingQueue} drops the nodes it dequeues: a dequeued node that something still holds
 * (a reader, or the old generation, where a dead object's references keep young ones alive through the next young
 * collection) must not keep the nodes after it reachable, or one promoted node makes every later node survive.
 */
class GcTwinQueueLetsDequeuedNodesGoTest {

    @Test
    void aDequeuedNodeHeldByAReaderDoesNotKeepItsSuccessorReachable() {
        RecyclingQueue<Integer> q = RecyclingQueue.gcTwin();
        for (int i = 1; i <= 3; i++) q.offer(i);
        Node<Integer> first;
        WeakReference<Node<Integer>> second;
        try (Guard g = q.reclaimer().enter()) {
            first = q.firstNode(g); // holds 1
            second = new WeakReference<>(first.nextVolatile()); // holds 2
        }
        assertEquals(1, q.poll());
        assertEquals(2, q.poll()); // first was the dummy, now dequeued; second is the dummy
        assertEquals(3, q.poll()); // second dequeued too
        for (int i = 0; i < 20 && second.get() != null; i++) System.gc();
        assertNull(second.get(), "a dequeued node the test still holds kept its successor reachable");
        assertSame(first, first.nextVolatile(), "a dequeued node of the twin links to itself");
    }
}
