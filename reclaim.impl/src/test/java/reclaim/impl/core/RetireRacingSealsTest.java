package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
import reclaim.api.Scheme;

/**
 * A thread's retire adds to the bag of its own participant while other threads take that bag: a flush sealing idle
 * threads' bags, {@code close()} sealing every bag. Under the asymmetric barrier the retire claims the bag through its
 * bag word instead of a CAS ({@code Core.claimBag}), and a thread that takes the participant from its idle state
 * must leave the bag alone while the word is set ({@code Core.bagInUse}); under fences the retire CASes. Either way
 * nothing retired is lost or reclaimed twice.
 */
class RetireRacingSealsTest {

    private static Reclaimer create(String scheme, Options.Barrier barrier) {
        return Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier));
    }

    /** Whether a retire outside a guard on the calling thread claims its bag through the bag word. */
    private static boolean claimsThroughBagWord(Core core, ThreadGuard g) {
        return core.barrier.asymmetric() && g.registered() != null && (core.sticky || g.stickyParticipant());
    }

    /**
     * The taker's side, made deterministic: a thread that retired an object (it sits in the thread's bag) sets its
     * bag word as a retire in progress does. Another thread's flush must then leave that bag alone, and its
     * {@code close()} must wait for it and refuse; once the word is clear, a flush reclaims the object, and a close
     * completes with every action run once. Under fences the word means nothing (retires CAS): the flush reclaims it.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("reclaim.impl.core.GuardShortPathTest#schemes")
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a seal that corrupts the bags may loop
    void aBagWhoseOwnerIsAddingToItIsLeftAloneByOtherThreadsSeals(String scheme, Options.Barrier barrier) throws Exception {
        Reclaimer r = create(scheme, barrier);
        Core core = ReclaimerHandle.coreOf(r);
        AtomicInteger runsX = new AtomicInteger();
        AtomicInteger runsY = new AtomicInteger();
        CountDownLatch wordSet = new CountDownLatch(1);
        CountDownLatch clearWord = new CountDownLatch(1);
        CountDownLatch wordCleared = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicBoolean light = new AtomicBoolean();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Thread owner = new Thread(() -> {
            try {
                r.retire(new Object(), o -> runsX.incrementAndGet()); // takes the thread's participant
                r.retire(new Object(), o -> runsY.incrementAndGet()); // on its own bag, outside a guard
                ThreadGuard g = ((ReclaimerHandle) r).guard();
                light.set(claimsThroughBagWord(core, g));
                g.setBagOpaque(1); // as claimBag leaves it while the retire adds
                wordSet.countDown();
                DeferredSweepCloseTest.await(clearWord);
                g.setBagRelease(0);
                wordCleared.countDown();
                DeferredSweepCloseTest.await(finish);
            } catch (Throwable t) {
                failures.add(t);
                wordSet.countDown();
                wordCleared.countDown();
            }
        }, "owner");
        owner.start();
        try {
            DeferredSweepCloseTest.await(wordSet);
            assertTrue(failures.isEmpty(), () -> "owner failed: " + failures);
            r.flush();
            if (light.get()) {
                assertEquals(0, runsX.get() + runsY.get(), "a flush sealed a bag whose owner was adding to it");
                assertThrows(IllegalStateException.class, r::close, "close() completed past a bag in use");
                assertEquals(0, runsX.get() + runsY.get(), "a refused close() sealed a bag in use");
            } else {
                assertEquals(1, runsX.get(), "flush, fence strategy or no bag word");
                assertEquals(1, runsY.get(), "flush, fence strategy or no bag word");
            }
            clearWord.countDown();
            DeferredSweepCloseTest.await(wordCleared);
            if (!r.isClosed()) {
                try {
                    r.flush();
                    assertEquals(1, runsX.get(), "the flush after the word cleared");
                } catch (IllegalStateException closing) {
                    assertTrue(light.get(), "only a refused close() leaves the reclaimer closing here");
                }
            }
            r.close();
            assertEquals(1, runsX.get(), "x ran exactly once");
            assertEquals(1, runsY.get(), "y ran exactly once");
            assertEquals(0, r.stats().pending());
        } finally {
            clearWord.countDown();
            finish.countDown();
            owner.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertTrue(failures.isEmpty(), () -> "owner failed: " + failures);
    }

    /**
     * A thread retires objects outside and inside guards while another flushes without pause; then the reclaimer
     * closes. Every action ran exactly once.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("reclaim.impl.core.GuardShortPathTest#schemes")
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a seal that corrupts the bags may loop
    void retiresRacingAnotherThreadsFlushesAreEachReclaimedOnce(String scheme, Options.Barrier barrier) throws Exception {
        Reclaimer r = create(scheme, barrier);
        int n = 200_000;
        AtomicIntegerArray runs = new AtomicIntegerArray(n);
        Consumer<int[]> count = o -> runs.incrementAndGet(o[0]);
        AtomicBoolean done = new AtomicBoolean();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Thread retirer = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    if (i % 3 == 0) {
                        try (Guard g = r.enter()) {
                            g.retire(new int[] {i}, count);
                        }
                    } else {
                        r.retire(new int[] {i}, count);
                    }
                }
            } catch (Throwable t) {
                failures.add(t);
            } finally {
                done.set(true);
            }
        }, "retirer");
        Thread flusher = new Thread(() -> {
            try {
                while (!done.get()) r.flush();
            } catch (Throwable t) {
                failures.add(t);
            }
        }, "flusher");
        retirer.start();
        flusher.start();
        retirer.join(TimeUnit.MINUTES.toMillis(2));
        flusher.join(TimeUnit.MINUTES.toMillis(2));
        assertTrue(failures.isEmpty(), () -> "a worker failed: " + failures);
        r.close();
        for (int i = 0; i < n; i++) {
            if (runs.get(i) != 1) throw new AssertionError("object " + i + " ran " + runs.get(i) + " times");
        }
    }

    /**
     * Rounds of one thread retiring outside any guard until refused while another closes the reclaimer: every
     * accepted object ran exactly once when close() completed, and no refused one ran.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("reclaim.impl.core.GuardShortPathTest#schemes")
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a seal that corrupts the bags may loop
    void retiresRacingCloseAreReclaimedOnceOrRefused(String scheme, Options.Barrier barrier) throws Exception {
        for (int round = 0; round < 200; round++) {
            Reclaimer r = create(scheme, barrier);
            int max = 1 << 14;
            AtomicIntegerArray runs = new AtomicIntegerArray(max);
            Consumer<int[]> count = o -> runs.incrementAndGet(o[0]);
            AtomicInteger accepted = new AtomicInteger();
            CountDownLatch started = new CountDownLatch(1);
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            Thread retirer = new Thread(() -> {
                int i = 0;
                try {
                    for (; i < max; i++) {
                        r.retire(new int[] {i}, count);
                        if (i == 64) started.countDown();
                    }
                } catch (IllegalStateException refused) {
                    // closing: this object and the later ones are not retired
                } catch (Throwable t) {
                    failures.add(t);
                } finally {
                    accepted.set(i);
                    started.countDown();
                }
            }, "retirer");
            retirer.start();
            DeferredSweepCloseTest.await(started);
            for (int spin = ThreadLocalRandom.current().nextInt(5_000); spin > 0; spin--) Thread.onSpinWait();
            while (!r.isClosed()) {
                try {
                    r.close();
                } catch (IllegalStateException refused) {
                    Thread.onSpinWait(); // the retirer held its bag past close()'s wait: it refuses soon
                }
            }
            retirer.join(TimeUnit.MINUTES.toMillis(1));
            assertTrue(failures.isEmpty(), () -> "the retirer failed: " + failures);
            int a = accepted.get();
            for (int i = 0; i < max; i++) {
                int expected = i < a ? 1 : 0;
                if (runs.get(i) != expected) {
                    throw new AssertionError("round " + round + ": object " + i + " (accepted " + a + ") ran "
                            + runs.get(i) + " times");
                }
            }
        }
    }
}
