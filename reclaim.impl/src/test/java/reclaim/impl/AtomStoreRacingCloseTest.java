package reclaim.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reclaim.api.Atom;
import reclaim.api.Reclaimer;

/**
 * {@link Atom}: "After close() the current value is retired and the cell refuses further use", and every value that
 * is replaced is retired once. A store() racing the cell's close() either comes first (its value is then the one
 * close() retires) or is refused: no value stored without an exception may stay unreclaimed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AtomStoreRacingCloseTest {

    /** A resource that counts its reclaim actions. */
    static final class Res {
        final AtomicInteger closes = new AtomicInteger();

        void close() {
            closes.incrementAndGet();
        }
    }

    /**
     * Many rounds of one store() against one close() of a fresh cell; afterwards every value the cell ever held was
     * reclaimed exactly once.
     *
     * @throws Exception if a thread of the test fails
     */
    @Test
    void aStoreRacingTheCellsCloseIsNeverLost() throws Exception {
        int rounds = 200_000; // the window is a few instructions: one or two rounds in 200,000 hit it on 2 cores
        List<Res> accepted = new ArrayList<>();
        AtomicReference<Atom<Res>> cell = new AtomicReference<>();
        CyclicBarrier start = new CyclicBarrier(2);
        CyclicBarrier end = new CyclicBarrier(2);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (Reclaimer r = Reclaimer.create("ebr")) {
            Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        start.await();
                        cell.get().close();
                        end.await();
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            for (int i = 0; i < rounds; i++) {
                Res first = new Res();
                accepted.add(first);
                cell.set(new Atom<>(r, first, Res::close));
                Res next = new Res();
                start.await(30, TimeUnit.SECONDS);
                try {
                    cell.get().store(next);
                    accepted.add(next);
                } catch (IllegalStateException refused) {
                    assertTrue(refused.getMessage().contains("closed"), refused.getMessage()); // refused: never in the cell
                }
                end.await(30, TimeUnit.SECONDS);
            }
            closer.join();
        }
        assertEquals(null, failure.get());
        int lost = 0;
        for (Res x : accepted) {
            assertTrue(x.closes.get() <= 1, "a value reclaimed twice");
            if (x.closes.get() == 0) lost++;
        }
        assertEquals(0, lost, lost + " of " + accepted.size() + " values the cell accepted were never reclaimed"
                + " (a store() that passed the closed check just before close() emptied the cell)");
    }
}
