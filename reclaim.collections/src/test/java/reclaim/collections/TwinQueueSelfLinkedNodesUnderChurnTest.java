package reclaim.collections;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reclaim.api.Reclaimer;

/**
 * The GC twin links each dequeued node to itself; every reader of next (iterator's snapshot, isEmpty,
 * size, peek, the views' operations) must cope. One producer offers 0, 1, 2, ... and one consumer polls (FIFO: the
 * removed elements are always a prefix), keeping the queue short so that readers meet self-linked nodes often; a
 * watcher checks, against the counters read around each call, that each answer is one the queue had during the call
 * and that each snapshot keeps the class javadoc's promise (FIFO, each at most once, nothing removed before it began,
 * everything present at its creation and not removed meanwhile). A reader that loops on a self-link fails the
 * latch's timeout.
 */
class TwinQueueSelfLinkedNodesUnderChurnTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gc-twin", "gc-twin-view", "ebr", "hp", "hp-view"})
    void readersOfNextAnswerWhatTheQueueWasAndSnapshotsKeepTheirPromise(String kind) throws Exception {
        boolean viaView = kind.endsWith("-view");
        String base = viaView ? kind.substring(0, kind.length() - 5) : kind;
        RecyclingQueue<Long> q = base.equals("gc-twin") ? RecyclingQueue.gcTwin() : new RecyclingQueue<>(Reclaimer.create(base));
        AtomicLong offered = new AtomicLong(); // offers completed (elements 0 .. offered-1 were offered)
        AtomicLong polled = new AtomicLong(); // polls completed (elements 0 .. polled-1 were removed)
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(3);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
        Thread producer = Thread.ofPlatform().name("producer").start(() -> run(done, failure, () -> {
            for (long i = 0; !stop.get(); ) {
                if (i - polled.get() > 8) { Thread.onSpinWait(); continue; }
                q.offer(i);
                offered.set(++i);
            }
        }));
        Thread consumer = Thread.ofPlatform().name("consumer").start(() -> run(done, failure, () -> {
            long expect = 0;
            while (!stop.get()) {
                Long e = q.poll();
                if (e == null) continue;
                if (e != expect) throw new AssertionError("poll returned " + e + ", expected " + expect);
                polled.set(++expect);
            }
        }));
        AtomicLong checks = new AtomicLong();
        Thread watcher = Thread.ofPlatform().name("watcher").start(() -> run(done, failure, () -> {
            RecyclingQueue.Pinned<Long> view = null;
            if (viaView) {
                view = q.pin();
                view.close();
            }
            while (System.nanoTime() < deadline && failure.get() == null) {
                long ob = offered.get(), pb = polled.get();
                List<Long> snap = new ArrayList<>();
                for (Long e : q) snap.add(e);
                boolean empty;
                int size;
                Long peek;
                if (viaView) {
                    try (var v = view.reopen()) {
                        empty = v.isEmpty();
                        size = v.size();
                        peek = v.peek();
                    }
                } else {
                    empty = q.isEmpty();
                    size = q.size();
                    peek = q.peek();
                }
                long oa = offered.get(), pa = polled.get();
                // elements removed after the call: at most pa + 1 (one poll may be between its CAS and its count)
                long prev = -1;
                for (Long e : snap) {
                    if (e <= prev) throw new AssertionError("snapshot not FIFO or repeats: " + snap);
                    if (e < pb) throw new AssertionError("snapshot holds " + e + ", removed before it began (polled " + pb + "): " + snap);
                    if (e > oa) throw new AssertionError("snapshot holds " + e + ", never offered by its end: " + snap);
                    prev = e;
                }
                for (long e = pa + 1; e < ob; e++) {
                    if (!snap.contains(e)) {
                        throw new AssertionError("snapshot misses " + e + ", present at its creation (offered " + ob
                                + ") and not removed by its end (polled " + pa + "): " + snap);
                    }
                }
                if (empty && ob > pa + 1) throw new AssertionError("isEmpty() true, but never empty during the call: offered>=" + ob + ", polled<=" + (pa + 1));
                long min = ob - (pa + 1), max = oa + 1 - pb;
                if (size < min || size > max) throw new AssertionError("size() " + size + " outside [" + min + ", " + max + "]");
                if (peek != null && (peek < pb || peek > oa)) throw new AssertionError("peek() " + peek + " outside [" + pb + ", " + oa + "]");
                checks.incrementAndGet();
            }
            stop.set(true);
        }));
        boolean finished = done.await(30, TimeUnit.SECONDS);
        stop.set(true);
        if (!finished) {
            StringBuilder sb = new StringBuilder();
            for (Thread t : List.of(producer, consumer, watcher)) {
                sb.append('\n').append(t.getName()).append(' ').append(t.getState());
                for (StackTraceElement s : t.getStackTrace()) sb.append("\n  at ").append(s);
            }
            throw new AssertionError("a thread did not finish (a loop on a self-link?):" + sb);
        }
        if (failure.get() != null) throw new AssertionError(kind + ": " + failure.get().getMessage(), failure.get());
        assertTrue(checks.get() > 100, "too few checks: " + checks.get());
        q.reclaimer().close();
    }

    private static void run(CountDownLatch done, AtomicReference<Throwable> failure, Runnable body) {
        try {
            body.run();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            done.countDown();
        }
    }
}
