package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;


import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Stats;

/**
 * The guard-scoped views ({@code pin()}) of the map, the set and the queue, under every scheme: each
 * operation of a view gives what the per-operation API gives, the view keeps what it protected until it
 * closes, and misuse (another thread, after close, closed twice) throws {@link IllegalStateException}
 * naming the problem.
 */
class PinnedTest {

    private static final int OPS = 20_000;

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void mapViewAnswersAsThePerOperationApiDoes(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> viaViews = new RecyclingHashMap<>(r, 16, 8);
        RecyclingHashMap<Integer, Integer> perOp = new RecyclingHashMap<>(r, 16, 8);
        Map<Integer, Integer> model = new HashMap<>();
        Random rnd = new Random(7);
        int done = 0;
        while (done < OPS) {
            int batch = 1 + rnd.nextInt(16);
            try (RecyclingHashMap.Pinned<Integer, Integer> m = viaViews.pin()) {
                for (int i = 0; i < batch; i++, done++) {
                    Integer k = rnd.nextInt(64);
                    Integer v = rnd.nextInt(3);
                    int op = rnd.nextInt(8);
                    String what = "op " + op + " on key " + k + " value " + v + " at " + done;
                    switch (op) {
                        case 0 -> assertAllEqual(what, model.get(k), perOp.get(k), m.get(k));
                        case 1 -> assertAllEqual(what, model.containsKey(k), perOp.containsKey(k), m.containsKey(k));
                        case 2 -> assertAllEqual(what, model.put(k, v), perOp.put(k, v), m.put(k, v));
                        case 3 -> assertAllEqual(what, model.putIfAbsent(k, v), perOp.putIfAbsent(k, v), m.putIfAbsent(k, v));
                        case 4 -> assertAllEqual(what, model.remove(k), perOp.remove(k), m.remove(k));
                        case 5 -> assertAllEqual(what, model.remove(k, v), perOp.remove(k, v), m.remove(k, v));
                        case 6 -> assertAllEqual(what, model.replace(k, v), perOp.replace(k, v), m.replace(k, v));
                        default -> assertAllEqual(what, model.replace(k, v, v + 1), perOp.replace(k, v, v + 1),
                                m.replace(k, v, v + 1));
                    }
                }
            }
        }
        assertEquals(model, perOp);
        assertEquals(model, viaViews);
        assertEquals(model.size(), viaViews.size());
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void setViewAnswersAsThePerOperationApiDoes(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingListSet<Integer> viaViews = new RecyclingListSet<>(r, 8);
        RecyclingListSet<Integer> perOp = new RecyclingListSet<>(r, 8);
        Set<Integer> model = new HashSet<>();
        Random rnd = new Random(11);
        int done = 0;
        while (done < OPS) {
            int batch = 1 + rnd.nextInt(16);
            try (RecyclingListSet.Pinned<Integer> s = viaViews.pin()) {
                for (int i = 0; i < batch; i++, done++) {
                    Integer e = rnd.nextInt(32);
                    String what = "element " + e + " at " + done;
                    switch (rnd.nextInt(3)) {
                        case 0 -> assertAllEqual("add " + what, model.add(e), perOp.add(e), s.add(e));
                        case 1 -> assertAllEqual("remove " + what, model.remove(e), perOp.remove(e), s.remove(e));
                        default -> assertAllEqual("contains " + what, model.contains(e), perOp.contains(e), s.contains(e));
                    }
                }
            }
        }
        assertEquals(model, perOp);
        assertEquals(model, viaViews);
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void queueViewAnswersAsThePerOperationApiDoes(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> viaViews = new RecyclingQueue<>(r, 8);
        RecyclingQueue<Integer> perOp = new RecyclingQueue<>(r, 8);
        ArrayDeque<Integer> model = new ArrayDeque<>();
        Random rnd = new Random(13);
        int done = 0;
        while (done < OPS) {
            int batch = 1 + rnd.nextInt(16);
            try (RecyclingQueue.Pinned<Integer> q = viaViews.pin()) {
                for (int i = 0; i < batch; i++, done++) {
                    Integer e = done;
                    String what = "at " + done;
                    switch (rnd.nextInt(5)) {
                        case 0, 1 -> assertAllEqual("offer " + what, model.offer(e), perOp.offer(e), q.offer(e));
                        case 2 -> assertAllEqual("poll " + what, model.poll(), perOp.poll(), q.poll());
                        case 3 -> assertAllEqual("peek " + what, model.peek(), perOp.peek(), q.peek());
                        default -> {
                            assertAllEqual("size " + what, model.size(), perOp.size(), q.size());
                            assertAllEqual("isEmpty " + what, model.isEmpty(), perOp.isEmpty(), q.isEmpty());
                        }
                    }
                }
            }
        }
        assertEquals(List.copyOf(model), List.copyOf(perOp));
        assertEquals(List.copyOf(model), List.copyOf(viaViews));
        Schemes.closeAndCheck(r);
    }

    private static void assertAllEqual(String what, Object expected, Object perOp, Object pinned) {
        assertEquals(expected, perOp, () -> "per-operation API, " + what);
        assertEquals(expected, pinned, () -> "view, " + what);
    }

    /**
     * A node the view protected is not recycled while the view is open, however often another thread
     * removes its key and flushes; once the view closes it is reclaimed.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void viewKeepsWhatItProtectedUntilItCloses(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<String, String> map = new RecyclingHashMap<>(r);
        assertAViewKeepsWhatItProtected(r, map, map::pin);
        Stats s = Schemes.closeAndCheck(r);
        assertTrue(s.retired() >= 100, () -> "the removals retired their entries: " + s);
    }

    /**
     * Puts "k", opens a view with {@code open}, finds k's node in the view's guard (as its operations protect) while
     * another thread removes and re-puts k 100 times with a flush after each removal: the node keeps its generation
     * and key until the view closes.
     */
    private static void assertAViewKeepsWhatItProtected(Reclaimer r, RecyclingHashMap<String, String> map,
            Supplier<RecyclingHashMap.Pinned<String, String>> open) throws Exception {
        map.put("k", "v");
        try (RecyclingHashMap.Pinned<String, String> m = open.get()) {
            ListNode<String, String> node = map.findNode(m.guard(), "k");
            assertNotNull(node);
            int generation = node.generationVolatile();
            runOnAnotherThread(() -> {
                for (int i = 0; i < 100; i++) {
                    map.remove("k");
                    r.flush();
                    map.put("k", "v" + i);
                }
                map.remove("k");
                r.flush();
            });
            assertEquals(generation, node.generationVolatile(), "a node protected by an open view was recycled");
            assertEquals("k", node.keyPlain(), "the protected node was cleared or reused");
        }
    }

    /**
     * Under EBR and QSBR an open view holds back what other threads retire, as its documentation says, and
     * the next flush after it closes reclaims it.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("epochSchemes")
    void openViewHoldsBackOtherThreadsRetiresUnderEpochSchemes(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        try (RecyclingQueue.Pinned<Integer> q = queue.pin()) {
            q.isEmpty();
            runOnAnotherThread(() -> {
                for (int i = 0; i < 200; i++) {
                    queue.offer(i);
                    queue.poll();
                }
                r.flush();
            });
            Stats held = r.stats();
            assertTrue(held.pending() >= 200, () -> "an open view let other threads' retires be reclaimed: " + held);
        }
        r.flush();
        Stats after = r.stats();
        assertEquals(0, after.pending(), () -> "the flush after the view closed left retires pending: " + after);
        Schemes.closeAndCheck(r);
    }

    static Stream<String> epochSchemes() {
        return Schemes.names().filter(s -> s.equals("ebr") || s.equals("qsbr"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void mapViewMisuseThrowsIllegalStateException(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r);
        assertMisuseIsRejected(map::pin, m -> m.put(1, 1));
        assertEquals(1, map.get(1), "the view's put before the misuse took effect");
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void setViewMisuseThrowsIllegalStateException(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingListSet<Integer> set = new RecyclingListSet<>(r);
        assertMisuseIsRejected(set::pin, s -> s.add(1));
        assertTrue(set.contains(1));
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void queueViewMisuseThrowsIllegalStateException(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        assertMisuseIsRejected(queue::pin, q -> q.offer(1));
        assertEquals(1, queue.poll());
        Schemes.closeAndCheck(r);
    }

    /**
     * Opens a view, runs {@code op} in it, then: {@code op} and {@code close()} from another thread throw
     * (and leave the view usable), {@code op} after close throws, a second {@code close()} throws.
     */
    private static <V extends PinnedView> void assertMisuseIsRejected(Supplier<V> pin, Consumer<V> op) throws Exception {
        V view = pin.get();
        op.accept(view);
        IllegalStateException fromOther =
                Schemes.onAnotherThread(() -> assertThrows(IllegalStateException.class, () -> op.accept(view)));
        assertTrue(fromOther.getMessage().contains("used from thread") && fromOther.getMessage().contains("belongs to thread"),
                fromOther::getMessage);
        IllegalStateException closeFromOther =
                Schemes.onAnotherThread(() -> assertThrows(IllegalStateException.class, view::close));
        assertTrue(closeFromOther.getMessage().contains("closed from thread"), closeFromOther::getMessage);
        op.accept(view); // still open, still usable by its owner
        view.close();
        IllegalStateException afterClose = assertThrows(IllegalStateException.class, () -> op.accept(view));
        assertTrue(afterClose.getMessage().contains("used after close()"), afterClose::getMessage);
        IllegalStateException twice = assertThrows(IllegalStateException.class, view::close);
        assertTrue(twice.getMessage().contains("closed twice"), twice::getMessage);
    }

    /** Views nest in guards and in each other; closing the inner ones leaves the outer ones usable. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void viewsNestInGuardsAndInEachOther(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        try (Guard g = r.enter()) {
            try (RecyclingHashMap.Pinned<Integer, Integer> m = map.pin()) {
                m.put(1, 1);
                try (RecyclingQueue.Pinned<Integer> q = queue.pin()) {
                    q.offer(m.get(1));
                    map.put(2, 2); // the per-operation API nests its own guard inside the views
                }
                assertEquals(2, m.get(2));
                assertEquals(1, m.remove(1));
            }
            assertNotNull(g.protect(new java.util.concurrent.atomic.AtomicReference<>("still open")));
        }
        assertEquals(1, queue.poll());
        Schemes.closeAndCheck(r);
    }

    /**
     * A closed view reopened by its owner works as a new one, as often as it is reopened, and refuses use once closed;
     * under every scheme and for the GC twins.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Impls#names")
    void reopenedViewsAnswerAsNewViewsDo(String impl) {
        Reclaimer r = Impls.reclaimer(impl);
        RecyclingQueue<Integer> queue = r == null ? RecyclingQueue.gcTwin() : new RecyclingQueue<>(r);
        RecyclingHashMap<Integer, Integer> map = Impls.map(impl, r, 16);
        RecyclingListSet<Integer> set = Impls.set(impl, r);
        RecyclingQueue.Pinned<Integer> q = queue.pin();
        RecyclingHashMap.Pinned<Integer, Integer> m = map.pin();
        RecyclingListSet.Pinned<Integer> s = set.pin();
        q.close();
        m.close();
        s.close();
        for (int round = 0; round < 100; round++) {
            try (RecyclingQueue.Pinned<Integer> q2 = q.reopen();
                    RecyclingHashMap.Pinned<Integer, Integer> m2 = m.reopen();
                    RecyclingListSet.Pinned<Integer> s2 = s.reopen()) {
                assertTrue(q2 == q && m2 == m && s2 == s, "reopen() returns the view itself");
                q.offer(round);
                assertEquals(round, q.poll());
                assertEquals(null, m.put(round, round));
                assertEquals(round, m.remove(round));
                assertTrue(s.add(round));
                assertTrue(s.remove(round));
            }
        }
        IllegalStateException afterClose = assertThrows(IllegalStateException.class, () -> q.offer(1));
        assertTrue(afterClose.getMessage().contains("used after close()"), afterClose::getMessage);
        assertEquals(0, queue.size());
        assertEquals(0, map.size());
        assertEquals(0, set.size());
        if (r != null) {
            Stats st = Schemes.closeAndCheck(r);
            assertTrue(st.retired() >= 300, () -> "the reopened views' removals retired their nodes: " + st);
        }
    }

    /**
     * reopen() is refused while the view is open, from a thread other than its owner, and once the reclaimer is
     * closed; each refusal names the problem and leaves the view as it was.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void reopenIsRefusedWhileOpenFromAnotherThreadAndAfterTheReclaimerCloses(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r);
        RecyclingHashMap.Pinned<Integer, Integer> m = map.pin();
        IllegalStateException whileOpen = assertThrows(IllegalStateException.class, m::reopen);
        assertTrue(whileOpen.getMessage().contains("reopened while open"), whileOpen::getMessage);
        m.put(1, 1); // still open
        m.close();
        IllegalStateException fromOther = Schemes.onAnotherThread(() -> assertThrows(IllegalStateException.class, m::reopen));
        assertTrue(fromOther.getMessage().contains("reopened from thread")
                && fromOther.getMessage().contains("belongs to thread"), fromOther::getMessage);
        IllegalStateException stillClosed = assertThrows(IllegalStateException.class, () -> m.get(1));
        assertTrue(stillClosed.getMessage().contains("used after close()"), stillClosed::getMessage);
        Schemes.closeAndCheck(r);
        assertThrows(IllegalStateException.class, m::reopen, "reopen() after the reclaimer closed");
        IllegalStateException closedStill = assertThrows(IllegalStateException.class, () -> m.get(1));
        assertTrue(closedStill.getMessage().contains("used after close()"),
                () -> "a refused reopen() left the view open: " + closedStill.getMessage());
        IllegalStateException twice = assertThrows(IllegalStateException.class, m::close);
        assertTrue(twice.getMessage().contains("closed twice"), twice::getMessage);
    }

    /**
     * A reopened view keeps what its operations protect until it closes again: a node found in the reopened view's
     * guard is not recycled while another thread removes its key and flushes.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void reopenedViewKeepsWhatItProtectedUntilItCloses(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<String, String> map = new RecyclingHashMap<>(r);
        RecyclingHashMap.Pinned<String, String> view = map.pin();
        view.close();
        assertAViewKeepsWhatItProtected(r, map, view::reopen);
        Schemes.closeAndCheck(r);
    }

    private static void runOnAnotherThread(Runnable task) throws Exception {
        Schemes.onAnotherThread(() -> {
            task.run();
            return null;
        });
    }
}
