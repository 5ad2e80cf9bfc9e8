package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Spliterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Reclaimer;

/**
 * Streams over the collections while they change. The map is a {@code ConcurrentMap}, the set and the queue are
 * concurrent collections with weakly consistent iterators that "never throw ConcurrentModificationException"; the
 * stream package exempts exactly such sources from non-interference ("streams whose sources are concurrent
 * collections, which are specifically designed to handle concurrent modification"). So a stream over one must not
 * fail because the collection changed during the traversal, as streams over {@link ConcurrentHashMap} do not (their
 * spliterators report {@link Spliterator#CONCURRENT}, not {@link Spliterator#SIZED}). A spliterator that reports
 * {@code SIZED} with the size read once makes {@code toArray()} and {@code toList()} throw
 * {@link IllegalStateException} when the traversal meets more or fewer elements.
 */
class StreamsOverConcurrentUpdatesTest {

    /** The control: the same pipelines over ConcurrentHashMap complete. */
    @Test
    void concurrentHashMapStreamsTolerateUpdatesDuringTheTraversal() {
        Map<Integer, Integer> m = new ConcurrentHashMap<>();
        for (int i = 0; i < 16; i++) m.put(i, i);
        Object[] keys = m.keySet().stream().peek(k -> { if (k == 0) m.remove(15); }).toArray();
        assertDistinct(List.of(keys));
        List<Integer> values = m.values().stream().peek(v -> { if (v == 0) m.put(15, 15); }).toList();
        assertDistinct(values);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void mapKeyStreamToleratesARemovalDuringTheTraversal(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Integer, Integer> m = Impls.map(impl, r, 16); // one key per bucket, in key order
        for (int i = 0; i < 16; i++) m.put(i, i);
        // the first key's visit removes the last key, which the iterator has not reached yet
        Object[] keys = m.keySet().stream().peek(k -> { if (k == 0) m.remove(15); }).toArray();
        assertDistinct(List.of(keys));
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void mapValueStreamToleratesAnInsertionDuringTheTraversal(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingHashMap<Integer, Integer> m = Impls.map(impl, r, 16);
        for (int i = 0; i < 15; i++) m.put(i, i);
        List<Integer> values = m.values().stream().peek(v -> { if (v == 0) m.put(15, 15); }).toList();
        assertDistinct(values);
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void setStreamToleratesConcurrentUpdates(String impl) throws Exception {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingListSet<Integer> s = Impls.set(impl, r);
        for (int i = 0; i < 32; i++) s.add(i);
        streamWhileAnotherThreadUpdates(s, j -> {
            s.add(100 + j % 8);
            s.remove(100 + (j + 4) % 8);
        });
        Impls.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void queueStreamToleratesConcurrentUpdates(String impl) throws Exception {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingQueue<Integer> q = r == null ? RecyclingQueue.gcTwin() : new RecyclingQueue<>(r);
        for (int i = 0; i < 32; i++) q.offer(i);
        streamWhileAnotherThreadUpdates(q, j -> {
            if ((j & 1) == 0) q.offer(100 + j % 8);
            else q.poll();
        });
        Impls.closeAndCheck(r);
    }

    interface Update {
        void apply(int j);
    }

    /**
     * Runs {@code stream().toArray()} on this thread up to 20 000 times (or for 5 s) while another thread keeps
     * updating the collection; fails with the first exception a stream threw.
     */
    private static void streamWhileAnotherThreadUpdates(Collection<Integer> c, Update update) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> streamFailure = new AtomicReference<>();
        Schemes.runConcurrently(Duration.ofSeconds(60), List.of(
                () -> {
                    for (int j = 0; !stop.get(); j++) update.apply(j);
                },
                () -> {
                    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                    try {
                        for (int i = 0; i < 20_000 && System.nanoTime() < deadline; i++) {
                            assertDistinctIfASet(c, c.stream().toArray());
                        }
                    } catch (IllegalStateException e) {
                        streamFailure.set(e);
                    } finally {
                        stop.set(true);
                    }
                }));
        assertNull(streamFailure.get(), () -> "a stream over the collection threw while another thread updated it: "
                + streamFailure.get());
    }

    private static void assertDistinctIfASet(Collection<Integer> c, Object[] a) {
        if (c instanceof java.util.Set<?>) assertDistinct(List.of(a));
    }

    private static void assertDistinct(List<?> elements) {
        assertEquals(elements.size(), new HashSet<>(elements).size(), () -> "an element twice: " + elements);
        assertTrue(elements.size() >= 15, () -> "elements missing: " + elements);
    }
}
