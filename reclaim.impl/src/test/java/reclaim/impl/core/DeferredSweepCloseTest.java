package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * What a lease detaches by sweeping the participant of a thread that ended inside its guard is kept in
 * {@code ThreadGuard.deferred} until the leaser runs {@code runDeferred}. Between the two it is counted nowhere:
 * not in the sealed store, not on any participant, not in the {@link Lifecycle} count of work in flight. In
 * {@code register()} the leaser holds its participant only HELD meanwhile (idle, open flag 0), so a concurrent
 * {@code close()} closes that participant, sees nothing in flight, drains and returns, with the swept batch not
 * reclaimed; its action runs later, on the registering thread, after close() returned.
 *
 * <p>The policy here is Hyaline's shape reduced to what the interleaving needs (a guard holds the batches
 * collected while it is open; leaving and sweeping detach them; {@code left} runs them). Its
 * {@code registered()} hook blocks, standing in for the registering thread being preempted between
 * {@code Participants.lease} and {@code runDeferred}: with the real Hyaline policy that hook is empty and the window
 * is a few instructions wide, but nothing closes it. Sticky participants (Crystalline) have the same window in
 * {@code pinSlow} between the lease (HELD) and {@code openSticky}; and if the lease sweeps and then throws
 * (its {@code append} sees the core closing), the detached batches stay in {@code g.deferred} for good.
 */
class DeferredSweepCloseTest {

    /** A participant that keeps the batches collected while its guard is open. */
    static final class HoldingParticipant extends Participant {
        final List<Batch> held = new ArrayList<>(); // guarded by itself

        HoldingParticipant(long state, ThreadRef holder, int batchSize) {
            super(state, holder, batchSize);
        }

        Object detach() {
            synchronized (held) {
                if (held.isEmpty()) return null;
                List<Batch> out = new ArrayList<>(held);
                held.clear();
                return out;
            }
        }
    }

    /** Hyaline reduced: a sealed bag goes to a guard open now (it may hold its objects) or is reclaimed. */
    static final class HoldingPolicy extends Policy {
        volatile CountDownLatch inRegistered;
        volatile CountDownLatch mayLeaveRegistered;

        @Override
        protected Capabilities capabilities() {
            return new Capabilities(false, false, Integer.MAX_VALUE, 1, Long.MAX_VALUE);
        }

        @Override
        protected Participant newParticipant(long state, ThreadRef holder, int batchSize) {
            return new HoldingParticipant(state, holder, batchSize);
        }

        @Override
        protected Object leaving(ThreadGuard g) {
            return ((HoldingParticipant) g.record()).detach();
        }

        @Override
        protected Object swept(Participant p) {
            return ((HoldingParticipant) p).detach();
        }

        @Override
        @SuppressWarnings("unchecked")
        protected void left(Object detached) {
            for (Batch b : (List<Batch>) detached) core.reclamation().run(b);
        }

        @Override
        protected void collect(int limit) {
            for (Batch b = core.sealed.takeAll(), next; b != null; b = next) {
                next = b.next();
                b.link(null);
                HoldingParticipant in = null;
                for (Participant p : core.participants()) {
                    if (p.stateVolatile() > 0) in = (HoldingParticipant) p;
                }
                if (in == null) {
                    core.reclamation().run(b);
                } else {
                    synchronized (in.held) {
                        in.held.add(b);
                    }
                }
            }
        }

        @Override
        protected void registered(ThreadGuard g) {
            CountDownLatch in = inRegistered;
            if (in == null) return;
            in.countDown();
            await(mayLeaveRegistered);
        }

        @Override
        protected long era() {
            return 1;
        }
    }

    @Test
    void closeDoesNotReturnWhileARegisteringThreadHoldsWhatItsLeaseSwept() throws Exception {
        HoldingPolicy policy = new HoldingPolicy();
        Reclaimer r = ReclaimerHandle.create(new Scheme.Hyaline(1, false), policy, reclaim.api.Options.DEFAULT);
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();

        // A thread retires inside its guard (the bag is held by that guard) and ends without closing it.
        Thread ends = new Thread(() -> {
            Guard g = r.enter();
            g.retire(new Object(), o -> ran.incrementAndGet());
        }, "ends-inside-a-guard");
        ends.start();
        ends.join();
        assertEquals(1, r.stats().retired());
        assertEquals(0, r.stats().reclaimed(), "the open guard of the ended thread holds the object");

        // A thread registers: its lease sweeps the ended thread's participant (detaching the held bag into its
        // deferred list) and takes it HELD; it is preempted before runDeferred (here: inside registered()).
        policy.inRegistered = new CountDownLatch(1);
        policy.mayLeaveRegistered = new CountDownLatch(1);
        Thread registers = new Thread(() -> {
            try {
                Registration reg = r.register();
                try {
                    reg.close();
                } catch (IllegalStateException closed) {
                    // the reclaimer closed meanwhile
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, "registers");
        registers.start();
        await(policy.inRegistered);

        Stats atReturn;
        try {
            r.close(); // may refuse (the swept work is in flight): then a later close() completes
            atReturn = r.stats();
        } catch (IllegalStateException refused) {
            atReturn = null;
        } finally {
            policy.mayLeaveRegistered.countDown();
            registers.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertFalse(registers.isAlive(), "the registering thread hung");
        if (failure.get() != null) throw new AssertionError(failure.get());
        if (atReturn != null) {
            assertEquals(atReturn.retired(), atReturn.reclaimed(),
                    "close() returned while the swept batch was still to be walked by the registering thread: "
                            + atReturn + " (the action ran " + ran.get() + " time(s) since, after close returned)");
        } else {
            r.close();
        }
        assertEquals(1, ran.get());
    }

    static void await(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) fail("timed out waiting");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
