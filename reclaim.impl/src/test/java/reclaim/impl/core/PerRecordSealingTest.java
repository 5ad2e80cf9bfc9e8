package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

import reclaim.api.Guard;
import reclaim.api.Scheme;
import reclaim.api.Reclaimer;

/**
 * Per-record sealing (Crystalline-W) reclaims every retired object exactly once: bags pushed on record
 * stacks, the aside retire while a flush holds the owner's sticky record BUSY, records of ended threads
 * swept, and close() draining the stacks. Every retired object's action must run exactly once by the end of
 * close().
 */
class PerRecordSealingTest {

    @Test
    void asideRetiresAndRecordStacksReclaimExactlyOnceThroughFlushSweepAndClose() throws Exception {
        Reclaimer r = Reclaimer.create(new Scheme.Crystalline(4, 4, true));
        int threads = 6;
        int per = 20_000;
        AtomicIntegerArray runs = new AtomicIntegerArray(threads * per);
        AtomicBoolean done = new AtomicBoolean();
        // A flusher that keeps taking the retirers' sticky records BUSY (sealIdle): retirers go aside.
        Thread flusher = new Thread(() -> {
            while (!done.get()) r.flush();
        });
        flusher.start();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t * per;
            Thread th = new Thread(() -> {
                for (int i = 0; i < per; i++) {
                    int id = base + i;
                    if ((i & 1) == 0) {
                        r.retire(id, x -> runs.incrementAndGet(x));
                    } else {
                        try (Guard g = r.enter()) {
                            g.retire(id, x -> runs.incrementAndGet(x));
                        }
                    }
                }
                // ends with a partly full bag and, perhaps, sealed bags on its record's stack
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) th.join();
        done.set(true);
        flusher.join();
        r.close();
        for (int i = 0; i < threads * per; i++) {
            assertEquals(1, runs.get(i), "object " + i + " reclaimed " + runs.get(i) + " times");
        }
        assertTrue(r.isClosed());
    }
}
