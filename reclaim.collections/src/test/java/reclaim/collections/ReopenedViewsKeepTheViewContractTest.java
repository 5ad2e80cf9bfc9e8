package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/** reopen() on the views keeps the view contract: nesting, protection, refusals while the reclaimer closes, the GC twins. */
class ReopenedViewsKeepTheViewContractTest {

    /** A view reopened inside a guard the caller opened after the view first closed: its operations keep that guard's slots. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void viewReopenedInsideACallersGuardKeepsWhatThatGuardProtected(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r, 1, 64);
        for (int i = 0; i < 8; i++) map.put(i, i);
        queue.offer(1);
        RecyclingQueue.Pinned<Integer> qv = queue.pin();
        RecyclingHashMap.Pinned<Integer, Integer> mv = map.pin();
        mv.close();
        qv.close();
        AtomicReference<Object> ref = new AtomicReference<>(new Object());
        AtomicBoolean reclaimed = new AtomicBoolean();
        boolean early;
        try (Guard g = r.enter()) {
            Object x = g.protect(ref, 0);
            try (var q = qv.reopen(); var m = mv.reopen()) {
                assertEquals(1, q.peek());
                assertEquals(7, m.get(7));
                q.offer(2);
                assertEquals(1, q.poll());
            }
            ref.set(null);
            onAnotherThread(() -> {
                r.retire(x, o -> reclaimed.set(true));
                for (int i = 0; i < 4; i++) r.flush();
            });
            early = reclaimed.get();
        }
        Schemes.closeAndCheck(r);
        assertFalse(early, scheme + ": an object the caller's guard protected in slot 0 was reclaimed while that guard"
                + " was open, after views reopened inside it ran and closed");
    }

    /** A reopened view's own guard keeps a queue node it protected until the view closes (all schemes). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void reopenedQueueViewKeepsANodeItProtectedUntilItCloses(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        for (int i = 0; i < 3; i++) queue.offer(i);
        RecyclingQueue.Pinned<Integer> view = queue.pin();
        view.close();
        for (int round = 0; round < 3; round++) {
            try (RecyclingQueue.Pinned<Integer> v = view.reopen()) {
                Node<Integer> node = queue.firstNode(v.guard());
                assertNotNull(node);
                int generation = node.generationVolatile();
                onAnotherThread(() -> {
                    for (int i = 0; i < 200; i++) {
                        queue.offer(i);
                        queue.poll();
                        if ((i & 15) == 0) r.flush();
                    }
                    r.flush();
                });
                assertEquals(generation, node.generationVolatile(), scheme + ": a node protected by a reopened view was recycled");
            }
        }
        Schemes.closeAndCheck(r);
    }

    /** Reopened inside another open view of the same reclaimer, closed first: the outer view still works and still holds back reclamation. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void viewReopenedInsideAnotherViewLeavesTheOuterOneOpenAndProtecting(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<String, String> map = new RecyclingHashMap<>(r);
        RecyclingListSet<Integer> set = new RecyclingListSet<>(r);
        map.put("k", "v");
        RecyclingListSet.Pinned<Integer> inner = set.pin();
        inner.close();
        try (RecyclingHashMap.Pinned<String, String> outer = map.pin()) {
            ListNode<String, String> node = map.findNode(outer.guard(), "k");
            int generation = node.generationVolatile();
            for (int i = 0; i < 50; i++) {
                try (var s = inner.reopen()) {
                    assertTrue(s.add(i));
                    assertTrue(s.remove(i));
                }
            }
            assertEquals("v", outer.get("k"));
            onAnotherThread(() -> {
                for (int i = 0; i < 100; i++) {
                    map.remove("k");
                    r.flush();
                    map.put("k", "v" + i);
                }
                r.flush();
            });
            assertEquals(generation, node.generationVolatile(), scheme + ": the outer view's node was recycled after an inner view was reopened and closed in it");
            assertEquals("k", node.keyPlain());
        }
        Schemes.closeAndCheck(r);
    }

    /**
     * A reopen() refused because the reclaimer is closing (a close() that found a guard open on another thread)
     * leaves no guard open on this thread: once the other guard closes, close() completes.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ebr", "hp", "crystalline"})
    void reopenRefusedWhileTheReclaimerIsClosingLeavesNothingOpen(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        queue.offer(1);
        RecyclingQueue.Pinned<Integer> view = queue.pin();
        view.close();
        CountDownLatch in = new CountDownLatch(1);
        CountDownLatch out = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().start(() -> {
            try (Guard g = r.enter()) {
                assertNotNull(g);
                in.countDown();
                out.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        in.await();
        assertThrows(IllegalStateException.class, r::close, "close() with a guard open elsewhere is refused");
        assertThrows(IllegalStateException.class, view::reopen, "reopen() while the reclaimer is closing");
        assertThrows(IllegalStateException.class, view::peek, "the view stays closed");
        out.countDown();
        holder.join();
        r.close(); // would refuse again if the refused reopen had left this thread's guard open
        assertTrue(r.isClosed());
    }

    /** The GC twins' views refuse to reopen once the twin is closed, and stay closed (they reopen as the schemes' do: PinnedTest). */
    @Test
    void gcTwinViewsAreRefusedReopenOnceTheTwinCloses() {
        RecyclingQueue<Integer> queue = RecyclingQueue.gcTwin();
        RecyclingHashMap<Integer, Integer> map = RecyclingHashMap.gcTwin(16);
        RecyclingListSet<Integer> set = RecyclingListSet.gcTwin();
        RecyclingQueue.Pinned<Integer> q = queue.pin();
        RecyclingHashMap.Pinned<Integer, Integer> m = map.pin();
        RecyclingListSet.Pinned<Integer> s = set.pin();
        q.close();
        m.close();
        s.close();
        queue.reclaimer().close();
        map.reclaimer().close();
        set.reclaimer().close();
        assertThrows(IllegalStateException.class, q::reopen);
        assertThrows(IllegalStateException.class, m::reopen);
        assertThrows(IllegalStateException.class, s::reopen);
        assertThrows(IllegalStateException.class, () -> q.offer(1));
        assertThrows(IllegalStateException.class, q::close, "a refused reopen leaves the view closed");
    }

    /**
     * A twin view open when its twin closes: the view's operations throw as the twin's own do ("Each operation behaves
     * exactly as the queue's method of the same name (... exceptions)").
     */
    @Test
    void gcTwinViewOperationsThrowOnceTheTwinClosesAsTheTwinsOwnDo() {
        RecyclingQueue<Integer> queue = RecyclingQueue.gcTwin();
        RecyclingHashMap<Integer, Integer> map = RecyclingHashMap.gcTwin(16);
        try (var q = queue.pin(); var m = map.pin()) {
            queue.reclaimer().close();
            map.reclaimer().close();
            assertThrows(IllegalStateException.class, () -> queue.offer(1));
            assertThrows(IllegalStateException.class, () -> q.offer(1));
            assertThrows(IllegalStateException.class, () -> m.put(1, 1));
        }
    }

    private static void onAnotherThread(Runnable task) {
        Schemes.onAnotherThread(() -> {
            task.run();
            return null;
        });
    }
}
