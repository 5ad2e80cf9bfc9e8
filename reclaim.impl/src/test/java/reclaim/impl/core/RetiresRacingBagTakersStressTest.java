package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Consumer;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;

/**
 * Every way a thread's bag can be taken from it, at once, against retires into it: a thread's retire adds to its own
 * participant's bag (through the bag word under the asymmetric barrier, by CAS under fences) while a flusher seals
 * idle bags without pause, short-lived threads end with a partly filled bag for a sweep to take, a thread has its
 * thread locals reset every 50 retires (its guard must be found again through its participant), threads register and
 * deregister (one of them virtual), and one in five reclaim actions retires again and one in 97 flushes, so that
 * actions run by a seal's collection, a flush or {@code close()} re-enter the retire path. Then {@code close()}: every
 * object, and every object an action retired, ran its action exactly once.
 */
class RetiresRacingBagTakersStressTest {
    private static final int OBJECTS = 60_000;
    /** Room for the objects that actions retire (one in five, and theirs do not retire again). */
    private static final int RETIRED_BY_ACTIONS = OBJECTS;
    /** Added to a retire-by-an-action's count when close() refused it: it must then never run. */
    private static final int REFUSED = 1000;

    static java.util.stream.Stream<Object[]> schemes() {
        return GuardShortPathTest.schemes();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("schemes")
    @Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void everyObjectRunsOnceWhileFlushesSweepsResetsAndRegistrationsTakeBags(String scheme, Options.Barrier barrier)
            throws Exception {
        Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier));
        Work w = new Work(r);
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Runnable inAndOutOfGuards = () -> {
            for (int k = 0; ; k++) {
                if (k % 3 == 0) {
                    try (Guard g = r.enter()) {
                        if (!w.retireNext(g) || !w.retireNext(g)) return;
                    }
                } else if (!w.retireNext(null)) {
                    return;
                }
            }
        };
        Runnable resetEvery50 = () -> {
            for (int k = 1; w.retireNext(null); k++) {
                if (k % 50 != 0) continue;
                ThreadGuard before = ((ReclaimerHandle) r).guard();
                forgetCallingThread(r);
                ThreadGuard after = ((ReclaimerHandle) r).guard();
                // A thread that keeps a participant finds the same guard through it; one that leases gets a new one.
                if (before.registered() != null) assertSame(before, after, "the guard found again through the participant");
            }
        };
        Runnable registering = () -> {
            while (true) {
                try (Registration reg = r.register()) {
                    for (int j = 0; j < 40; j++) {
                        if (!w.retireNext(null)) return;
                        if (j % 10 == 0) {
                            try (Guard g = reg.enter()) {
                                if (!w.retireNext(g)) return;
                            }
                        }
                        reg.quiescent();
                    }
                }
            }
        };
        Runnable endingWithABag = () -> {
            while (w.next.get() < OBJECTS) {
                Thread t = new Thread(() -> {
                    for (int j = 0; j < 7; j++) w.retireNext(null); // then ends holding its participant and bag
                });
                t.start();
                BarrierTest.join(t);
            }
        };
        AtomicBoolean done = new AtomicBoolean();
        Thread flusher = new Thread(failing(failures, () -> {
            while (!done.get()) r.flush();
        }), "flusher");
        Thread[] workers = {
            new Thread(failing(failures, inAndOutOfGuards), "in-and-out-of-guards"),
            new Thread(failing(failures, resetEvery50), "reset-every-50"),
            new Thread(failing(failures, registering), "registering"),
            new Thread(failing(failures, endingWithABag), "ending-with-a-bag"),
            Thread.ofVirtual().name("registering-virtual").unstarted(failing(failures, registering))
        };
        flusher.start();
        for (Thread t : workers) t.start();
        for (Thread t : workers) t.join();
        done.set(true);
        flusher.join();
        assertTrue(failures.isEmpty(), () -> "a thread failed: " + failures);
        r.close();
        for (int i = 0; i < OBJECTS; i++) {
            int ran = w.runs.get(i);
            if (ran != 1) throw new AssertionError(scheme + ": object " + i + " ran " + ran + " times");
        }
        for (int i = 0, n = w.nextByAction.get(); i < n; i++) {
            int ran = w.runsByAction.get(i);
            if (ran != 1 && ran != REFUSED) {
                throw new AssertionError(scheme + ": object " + i + " retired by an action ran " + ran % REFUSED
                        + " times" + (ran >= REFUSED ? " after its retire was refused" : ""));
            }
        }
    }

    /** The objects and their counts. An object is an {@code int[]} holding its index. */
    private static final class Work {
        final Reclaimer r;
        final AtomicInteger next = new AtomicInteger();
        final AtomicIntegerArray runs = new AtomicIntegerArray(OBJECTS);
        final AtomicInteger nextByAction = new AtomicInteger();
        final AtomicIntegerArray runsByAction = new AtomicIntegerArray(RETIRED_BY_ACTIONS);
        final Consumer<int[]> byActionRan = o -> runsByAction.incrementAndGet(o[0]);
        final Consumer<int[]> ran;

        Work(Reclaimer r) {
            this.r = r;
            this.ran = o -> {
                int i = o[0];
                runs.incrementAndGet(i);
                if (i % 5 == 0) { // a retire from an action: run by a seal's collection, a flush or close()
                    int c = nextByAction.getAndIncrement();
                    try {
                        r.retire(new int[] {c}, byActionRan);
                    } catch (IllegalStateException refused) { // close() began: it must not run
                        runsByAction.addAndGet(c, REFUSED);
                    }
                }
                if (i % 97 == 0) {
                    try {
                        r.flush();
                    } catch (IllegalStateException refusedInsideCloseOrAGuard) {
                        // an action run by close(), or by a guard's close, may not flush: not what is tested here
                    }
                }
            };
        }

        /** Retires the next object (in {@code g} if not null); false once all were handed out. */
        boolean retireNext(Guard g) {
            int i = next.getAndIncrement();
            if (i >= OBJECTS) return false;
            if (g != null) g.retire(new int[] {i}, ran);
            else r.retire(new int[] {i}, ran);
            return true;
        }
    }

    /** What a pool's reset of a worker's thread locals does to the reclaimer's view of the calling thread. */
    private static void forgetCallingThread(Reclaimer r) {
        try {
            Field f = GuardLookup.class.getDeclaredField("guards");
            f.setAccessible(true);
            ((ThreadLocal<?>) f.get(r)).remove();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
        ((GuardLookup) r).evict(Thread.currentThread().threadId());
    }

    private static Runnable failing(Queue<Throwable> failures, Runnable body) {
        return () -> {
            try {
                body.run();
            } catch (Throwable t) {
                failures.add(t);
            }
        };
    }
}
