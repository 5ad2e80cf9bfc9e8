package reclaim.impl.qsbr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;

/**
 * A thread's own QSBR participant across its kinds: a platform thread's sticky one (announced in the open word), the
 * registration it becomes, and the sticky one a thread takes again after it deregistered. Each step checks both
 * sides: a guard open on it holds reclamation back, and the thread outside its guards (or offline) holds nobody back.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QsbrOwnParticipantTest {
    /** One step of the other thread: run it there, wait until it is done. */
    private static final class Worker implements AutoCloseable {
        private final java.util.concurrent.SynchronousQueue<Runnable> tasks = new java.util.concurrent.SynchronousQueue<>();
        private final java.util.concurrent.SynchronousQueue<Object> done = new java.util.concurrent.SynchronousQueue<>();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Thread thread = Thread.ofPlatform().start(() -> {
            try {
                while (true) {
                    Runnable t = tasks.take();
                    if (t == STOP) return;
                    try {
                        t.run();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                    done.put(this);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        private static final Runnable STOP = () -> {};

        void run(Runnable step) throws InterruptedException {
            tasks.put(step);
            assertTrue(done.poll(20, TimeUnit.SECONDS) != null, "the worker did not finish its step");
            assertEquals(null, failure.get());
        }

        @Override
        public void close() {
            try {
                tasks.put(STOP);
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while stopping the worker", e);
            }
        }
    }

    /** Retires an object from the test thread, flushes, and says whether it was reclaimed. */
    private static boolean reclaimedAtOnce(Reclaimer r) {
        QsbrReclaimerTest.Obj o = new QsbrReclaimerTest.Obj();
        r.retire(o, x -> x.reclaimed = true);
        r.flush();
        r.flush();
        return o.reclaimed;
    }

    /**
     * Sticky, then registered, then deregistered, then sticky again: a guard open at each stage holds reclamation
     * back, and the thread between its guards holds nobody back (once registered: once offline or quiescent).
     */
    @Test
    void aGuardHoldsBackOnEveryKindOfOwnParticipant() throws Exception {
        try (Reclaimer r = QsbrReclaimerTest.qsbr(); Worker w = new Worker()) {
            AtomicReference<Guard> open = new AtomicReference<>();
            AtomicReference<Registration> reg = new AtomicReference<>();
            // 1. sticky (never registered)
            w.run(() -> open.set(r.enter()));
            assertFalse(reclaimedAtOnce(r), "reclaimed past an open guard on a sticky participant");
            w.run(() -> open.get().close());
            assertTrue(reclaimedAtOnce(r), "a sticky participant outside its guards held reclamation back");
            // 2. the sticky participant becomes the registration: online until quiescent
            w.run(() -> reg.set(r.register()));
            assertFalse(reclaimedAtOnce(r), "reclaimed past an executor online since its registration");
            w.run(() -> reg.get().quiescent());
            w.run(() -> open.set(reg.get().enter()));
            assertFalse(reclaimedAtOnce(r), "reclaimed past an open guard of a registered executor");
            w.run(() -> {
                open.get().close();
                reg.get().offline();
            });
            assertTrue(reclaimedAtOnce(r), "an offline executor held reclamation back");
            // 3. deregistered: the next guard takes a sticky participant again
            w.run(() -> reg.get().close());
            assertTrue(reclaimedAtOnce(r), "a deregistered thread held reclamation back");
            w.run(() -> open.set(r.enter()));
            assertFalse(reclaimedAtOnce(r), "reclaimed past an open guard of a thread that deregistered before");
            w.run(() -> open.get().close());
            assertTrue(reclaimedAtOnce(r), "a thread that deregistered held reclamation back after its guard");
            // 4. registered again (its sticky participant again), then a flush of its own while online keeps it online
            w.run(() -> reg.set(r.register()));
            w.run(() -> {
                reg.get().quiescent();
                r.flush();
            });
            assertFalse(reclaimedAtOnce(r), "an online executor's own flush() left it holding nobody back");
            w.run(() -> reg.get().close());
            assertTrue(reclaimedAtOnce(r));
        }
    }

    /**
     * An executor that went offline and then retires outside its guards (nothing to protect: no guard is open) is
     * still offline afterwards: it must not hold reclamation back while it blocks, as {@code offline()} promised.
     */
    @Test
    void anOfflineExecutorThatRetiresOutsideItsGuardsStaysOffline() throws Exception {
        try (Reclaimer r = QsbrReclaimerTest.qsbr(); Worker w = new Worker()) {
            AtomicReference<Registration> reg = new AtomicReference<>();
            w.run(() -> {
                reg.set(r.register());
                reg.get().offline();
            });
            assertTrue(reclaimedAtOnce(r), "an offline executor held reclamation back");
            QsbrReclaimerTest.Obj mine = new QsbrReclaimerTest.Obj();
            w.run(() -> r.retire(mine, x -> x.reclaimed = true)); // offline, outside every guard
            assertTrue(reclaimedAtOnce(r), "an offline executor that retired outside its guards came back online");
            w.run(() -> reg.get().close());
        }
    }

    /** A sticky participant's retire outside a guard neither announces nor leaves the participant taken. */
    @Test
    void aRetireOutsideAGuardOnAStickyParticipantHoldsNobodyBack() throws Exception {
        try (Reclaimer r = QsbrReclaimerTest.qsbr(); Worker w = new Worker()) {
            CountDownLatch retired = new CountDownLatch(1);
            w.run(() -> {
                try (Guard g = r.enter()) {
                    g.protect(new AtomicReference<>("first"));
                }
                for (int i = 0; i < 20; i++) r.retire(new QsbrReclaimerTest.Obj(), x -> x.reclaimed = true); // seals on the way
                retired.countDown();
            });
            assertTrue(retired.await(10, TimeUnit.SECONDS));
            assertTrue(reclaimedAtOnce(r), "a sticky participant's retires left it holding reclamation back");
            assertEquals(r.stats().retired(), r.stats().reclaimed(), "a sticky participant's bag was not handed on");
        }
    }
}
