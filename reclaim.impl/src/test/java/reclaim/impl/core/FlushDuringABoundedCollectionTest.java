package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * A flush that runs while a bounded collection of EBR or QSBR, outside every guard (a retire with none open), holds the
 * bags it took: the collection runs at most its cap and puts the others back (old ones past the cap, and ones too
 * young for its bound but old enough for the flush's), so a flush that found the store empty and returned left them
 * reclaimed by neither (18,432 to 19,967 of some 20,000 objects retired before the flush, in every case here). The
 * flush now waits for the collection's put-back and looks again: every object retired before it is reclaimed when
 * both have returned, and the flush does not return while the collection holds the bags.
 */
class FlushDuringABoundedCollectionTest {
    @ParameterizedTest
    @MethodSource("reclaim.impl.core.BacklogDrainTest#schemesAndBarriers") // EBR and QSBR under each barrier
    @SuppressWarnings("try") // the holder's guard is open for the block; the block does not use it
    void aFlushDuringACollectionsSplitReclaimsWhatWasRetiredBeforeIt(String scheme, Options.Barrier barrier) throws Exception {
        int backlog = 20_000;
        int most = backlog + 100_000;
        AtomicIntegerArray ran = new AtomicIntegerArray(most);
        AtomicInteger next = new AtomicInteger();
        try (Reclaimer r = Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(barrier))) {
            Core core = ReclaimerHandle.coreOf(r);
            try (GuardHolder holder = GuardHolder.open(r)) { // holds the backlog back: old bags, more than a cap
                for (int i = 0; i < backlog; i++) {
                    int id = next.getAndIncrement();
                    r.retire(new Object(), x -> ran.incrementAndGet(id));
                }
            }
            AtomicBoolean fired = new AtomicBoolean();
            AtomicInteger retiredBeforeFlush = new AtomicInteger();
            AtomicBoolean flushReturnedInWindow = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch flushed = new CountDownLatch(1);
            Thread flusher = Thread.ofPlatform().name("flusher").unstarted(() -> {
                try {
                    r.flush();
                } catch (Throwable t) {
                    failure.set(t);
                } finally {
                    flushed.countDown();
                }
            });
            AtomicReference<Thread> collector = new AtomicReference<>();
            ((ClockPolicy) core.policy()).splitHookForTest = () -> {
                if (Thread.currentThread() != collector.get() || !fired.compareAndSet(false, true)) return;
                retiredBeforeFlush.set(next.get()); // every id below was retired before the flush begins
                flusher.start();
                try {
                    // Not a synchronization: the flush must not return while this collection holds the bags, so this
                    // wait is expected to run out; on the old code the flush returned within it.
                    flushReturnedInWindow.set(flushed.await(500, TimeUnit.MILLISECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            Thread a = Thread.ofPlatform().name("collector").unstarted(() -> {
                try {
                    while (!fired.get() && next.get() < most) { // retires with no guard open until one collects
                        int id = next.getAndIncrement();
                        r.retire(new Object(), x -> ran.incrementAndGet(id));
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            collector.set(a);
            a.start();
            a.join();
            flusher.join();
            assertNull(failure.get());
            assertTrue(fired.get(), "no bounded collection split the store");
            assertFalse(flushReturnedInWindow.get(), scheme + " under " + barrier
                    + ": the flush returned while a collection held the bags it took");
            int missing = 0;
            for (int i = 0; i < retiredBeforeFlush.get(); i++) if (ran.get(i) != 1) missing++;
            assertEquals(0, missing, scheme + " under " + barrier + ": " + missing + " of " + retiredBeforeFlush.get()
                    + " objects retired before the flush were not reclaimed when it and the collection had returned");
        }
    }
}
