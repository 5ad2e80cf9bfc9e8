package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A view used inside a guard that the caller opened after the view ("views nest with each other and with guards as
 * guards do"; each view operation "behaves exactly as the map's method of the same name"): the view's operation
 * must not release what the caller's inner guard protects, as the per-operation method, which nests a guard of its
 * own, does not. Two orders: the view's operation before the object is retired (a hazard overwritten: hazard
 * pointers), and after it was retired and the era moved (a reservation renewed, its list walked: Crystalline).
 */
class PinnedViewInsideAnInnerGuardTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void perOperationCallKeepsWhatTheCallersGuardProtected(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        queue.offer(1);
        try (RecyclingQueue.Pinned<Integer> view = queue.pin()) {
            view.peek();
            assertFalse(reclaimedWhileProtected(r, g -> queue.peek()), scheme + ": queue.peek() in the caller's guard");
        }
        Schemes.closeAndCheck(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void queueViewKeepsWhatAnInnerGuardProtected(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        queue.offer(1);
        boolean early;
        try (RecyclingQueue.Pinned<Integer> view = queue.pin()) {
            early = reclaimedWhileProtected(r, g -> view.peek());
        }
        Schemes.closeAndCheck(r);
        assertFalse(early, scheme + ": an object protected in slot 0 of a guard opened after the view was reclaimed"
                + " while that guard was open, after view.peek() ran inside it");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void mapViewKeepsWhatAnInnerGuardProtected(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r, 1, 64); // one bucket: get walks a chain
        for (int i = 0; i < 8; i++) map.put(i, i);
        boolean early;
        try (RecyclingHashMap.Pinned<Integer, Integer> view = map.pin()) {
            early = reclaimedWhileProtected(r, g -> view.get(7));
        }
        Schemes.closeAndCheck(r);
        assertFalse(early, scheme + ": an object protected in slot 0 of a guard opened after the view was reclaimed"
                + " while that guard was open, after view.get(k) ran inside it");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void queueViewKeepsWhatAnInnerGuardProtectedWhenItWasRetiredBeforeTheOperation(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingQueue<Integer> queue = new RecyclingQueue<>(r);
        queue.offer(1);
        boolean early;
        try (RecyclingQueue.Pinned<Integer> view = queue.pin()) {
            early = reclaimedWhileProtectedRetiredFirst(r, g -> view.peek());
        }
        Schemes.closeAndCheck(r);
        assertFalse(early, scheme + ": an object protected in slot 0 of a guard opened after the view, then retired,"
                + " was reclaimed while that guard was open, after view.peek() ran inside it");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reclaim.collections.Schemes#names")
    void mapViewKeepsWhatAnInnerGuardProtectedWhenItWasRetiredBeforeTheOperation(String scheme) throws Exception {
        Reclaimer r = Reclaimer.create(scheme);
        RecyclingHashMap<Integer, Integer> map = new RecyclingHashMap<>(r, 1, 64);
        for (int i = 0; i < 8; i++) map.put(i, i);
        boolean early;
        try (RecyclingHashMap.Pinned<Integer, Integer> view = map.pin()) {
            early = reclaimedWhileProtectedRetiredFirst(r, g -> view.get(7));
        }
        Schemes.closeAndCheck(r);
        assertFalse(early, scheme + ": an object protected in slot 0 of a guard opened after the view, then retired,"
                + " was reclaimed while that guard was open, after view.get(k) ran inside it");
    }

    /**
     * Opens a guard, protects an object in slot 0, unlinks it and has another thread retire it and flush (the era
     * moves with every seal), runs {@code op} in the guard, then flushes again on another thread; returns whether the
     * object's action ran while the guard was still open.
     */
    private static boolean reclaimedWhileProtectedRetiredFirst(Reclaimer r, Consumer<Guard> op) throws InterruptedException {
        AtomicReference<Object> ref = new AtomicReference<>(new Object());
        AtomicBoolean reclaimed = new AtomicBoolean();
        boolean early;
        try (Guard g = r.enter()) {
            Object x = g.protect(ref, 0);
            ref.set(null);
            Thread t = new Thread(() -> {
                r.retire(x, o -> reclaimed.set(true));
                for (int i = 0; i < 4; i++) r.flush();
            }, "retirer");
            t.start();
            t.join();
            op.accept(g);
            Thread f = new Thread(() -> {
                for (int i = 0; i < 4; i++) r.flush();
            }, "flusher");
            f.start();
            f.join();
            early = reclaimed.get();
        }
        return early;
    }

    /**
     * Opens a guard, protects an object in slot 0, runs {@code op} in that guard, then unlinks and retires the object
     * on another thread and flushes there; returns whether its action ran while the guard was still open.
     */
    private static boolean reclaimedWhileProtected(Reclaimer r, Consumer<Guard> op) throws InterruptedException {
        AtomicReference<Object> ref = new AtomicReference<>(new Object());
        AtomicBoolean reclaimed = new AtomicBoolean();
        boolean early;
        try (Guard g = r.enter()) {
            Object x = g.protect(ref, 0);
            op.accept(g);
            ref.set(null); // unlinked: only our guard can still hold it
            Thread t = new Thread(() -> {
                r.retire(x, o -> reclaimed.set(true));
                for (int i = 0; i < 4; i++) r.flush();
            }, "retirer");
            t.start();
            t.join();
            early = reclaimed.get();
        }
        return early;
    }
}
