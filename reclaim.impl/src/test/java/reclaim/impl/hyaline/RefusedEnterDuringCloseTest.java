package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static reclaim.impl.hyaline.HyalineSlots.core;
import static reclaim.impl.hyaline.HyalineSlots.create;
import static reclaim.impl.hyaline.HyalineSlots.policy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.impl.core.CountedBatches.Link;
import reclaim.impl.core.ThreadGuard;

/**
 * An enter that {@code close()} races: it began its session ({@code HyalinePolicy.opening}, before it reads the core's
 * state) and is then refused. If its slot held a list that an earlier leave missed (an insertion that raced that
 * leave), {@code close()}'s pass must take it although the session looks active: the refused enter never leaves, and
 * nothing tidies after {@code close()}. The enter is played step by step on the test thread (its open word is not
 * stored: in the interleaving, {@code close()} read that word before the enter stored it).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RefusedEnterDuringCloseTest {
    private static final int OBJECTS = 8;

    @ParameterizedTest(name = "{0}, robust={1}")
    @CsvSource({"FENCE, true", "FENCE, false", "ASYMMETRIC, true", "ASYMMETRIC, false"})
    void closeReclaimsTheListOfASlotWhoseEnterIsBeingRefused(String barrier, boolean robust) throws Exception {
        Reclaimer r = create(barrier, robust);
        AtomicInteger ran = new AtomicInteger();
        Consumer<Object> count = o -> ran.incrementAndGet();
        ThreadGuard tg;
        HyalineParticipant slot;
        Object list;
        try (Guard g = r.enter()) {
            tg = (ThreadGuard) g;
            slot = (HyalineParticipant) tg.registered();
            for (int i = 0; i < OBJECTS; i++) r.retire(new Object(), count);
            r.flush(); // inserted into our own active slot
            assertEquals(0, ran.get());
            list = slot.takeList(); // as if the insertion raced our leave: the leave finds the head null
            assertTrue(list instanceof Link, "the batches did not join our slot");
        }
        assertTrue(slot.casHead(null, list)); // ... and the late CAS lands after the leave looked
        HyalinePolicy pol = policy(core(r));

        pol.opening(tg, !tg.asymmetric()); // our next enter: its session begins; preempted before it reads the state

        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().name("closer").start(() -> {
            try {
                r.close();
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        closer.join();
        assertNull(failed.get(), "close() failed");
        assertTrue(r.isClosed());

        pol.openingRefused(tg); // we resume, read a closed state, and end the session

        assertEquals(OBJECTS, ran.get(), "close() returned with no guard open, yet batches were not reclaimed");
        assertNull(slot.headVolatile(), "the slot still holds a list after close()");
    }
}
