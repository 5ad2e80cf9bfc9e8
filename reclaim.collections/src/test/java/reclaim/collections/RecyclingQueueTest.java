package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Queue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/** Single-thread semantics of {@link RecyclingQueue} through the {@link Queue} interface, under every scheme. */
class RecyclingQueueTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void pollsInFifoOrder(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Queue<Integer> q = new RecyclingQueue<>(r);
        for (int i = 1; i <= 100; i++) assertTrue(q.offer(i));
        assertEquals(100, q.size());
        for (int i = 1; i <= 100; i++) {
            assertEquals(i, q.peek());
            assertEquals(i, q.poll());
            assertEquals(100 - i, q.size());
        }
        assertNull(q.poll());
        Stats st = Schemes.closeAndCheck(r);
        assertEquals(100, st.retired(), "one retired dummy per poll");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void emptyQueue(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Queue<String> q = new RecyclingQueue<>(r);
        assertTrue(q.isEmpty());
        assertEquals(0, q.size());
        assertNull(q.peek());
        assertNull(q.poll());
        assertThrows(NoSuchElementException.class, q::remove);
        assertThrows(NoSuchElementException.class, q::element);
        assertFalse(q.iterator().hasNext());
        assertThrows(NoSuchElementException.class, () -> q.iterator().next());
        assertEquals("[]", q.toString());
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void rejectsNulls(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Queue<String> q = new RecyclingQueue<>(r);
        assertThrows(NullPointerException.class, () -> q.offer(null));
        assertThrows(NullPointerException.class, () -> q.add(null));
        assertThrows(NullPointerException.class, () -> q.addAll(Arrays.asList("a", null)));
        assertThrows(NullPointerException.class, () -> new RecyclingQueue<String>(null));
        assertThrows(IllegalArgumentException.class, () -> new RecyclingQueue<String>(r, -1));
        assertEquals(List.of("a"), new ArrayList<>(q), "addAll added the elements before the null");
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void queueContract(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Queue<Integer> q = new RecyclingQueue<>(r);
        assertTrue(q.add(1));
        assertTrue(q.addAll(List.of(2, 3, 4)));
        assertThrows(IllegalArgumentException.class, () -> q.addAll(q));
        assertEquals(1, q.element());
        assertEquals(4, q.size());
        assertTrue(q.contains(3));
        assertFalse(q.contains(5));
        assertTrue(q.containsAll(List.of(1, 4)));
        assertArrayEquals(new Object[] {1, 2, 3, 4}, q.toArray());
        assertArrayEquals(new Integer[] {1, 2, 3, 4}, q.toArray(new Integer[0]));
        assertEquals("[1, 2, 3, 4]", q.toString());
        assertEquals(1, q.remove());
        assertEquals(2, q.poll());
        q.clear();
        assertTrue(q.isEmpty());
        assertEquals(0, q.size());
        assertNull(q.peek());
        Stats st = Schemes.closeAndCheck(r);
        assertEquals(4, st.retired());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void interiorRemovalIsUnsupported(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Queue<Integer> q = new RecyclingQueue<>(r);
        q.addAll(List.of(1, 2, 3));
        assertThrows(UnsupportedOperationException.class, () -> q.remove((Object) 2));
        assertThrows(UnsupportedOperationException.class, () -> q.remove((Object) 9));
        assertThrows(UnsupportedOperationException.class, () -> q.removeAll(List.of(2)));
        assertThrows(UnsupportedOperationException.class, () -> q.retainAll(List.of(2)));
        assertThrows(UnsupportedOperationException.class, () -> q.removeIf(x -> x == 2));
        Iterator<Integer> it = q.iterator();
        it.next();
        assertThrows(UnsupportedOperationException.class, it::remove);
        assertEquals(List.of(1, 2, 3), new ArrayList<>(q), "nothing was removed");
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void iteratorIsASnapshotInFifoOrder(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Queue<Integer> q = new RecyclingQueue<>(r);
        for (int i = 0; i < 50; i++) q.offer(i);
        for (int i = 0; i < 10; i++) q.poll();
        Iterator<Integer> it = q.iterator();
        q.offer(1000); // after the snapshot: not seen
        q.poll();
        List<Integer> seen = new ArrayList<>();
        it.forEachRemaining(seen::add);
        List<Integer> expected = new ArrayList<>();
        for (int i = 10; i < 50; i++) expected.add(i);
        assertEquals(expected, seen);
        assertFalse(it.hasNext());
        assertThrows(NoSuchElementException.class, it::next);
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void sizeFollowsInterleavedOffersAndPolls(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> q = new RecyclingQueue<>(r);
        int expected = 0;
        for (int i = 0; i < 10_000; i++) {
            if (i % 3 == 2) {
                if (q.poll() != null) expected--;
            } else {
                q.offer(i);
                expected++;
            }
            if (i % 97 == 0) {
                assertEquals(expected, q.size());
                assertEquals(expected == 0, q.isEmpty());
            }
        }
        assertEquals(expected, q.size());
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void refusesUseAfterTheReclaimerIsClosed(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> q = new RecyclingQueue<>(r);
        q.offer(1);
        Schemes.closeAndCheck(r);
        assertThrows(IllegalStateException.class, () -> q.offer(2));
        assertThrows(IllegalStateException.class, q::poll);
    }
}
