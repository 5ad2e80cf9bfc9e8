package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;

import org.junit.jupiter.api.Test;

/** The registry's wait-free append: every record appears once, at its index, across chunk boundaries. */
class RegistryTest {

    @Test
    void appendsAcrossChunksKeepIndexOrder() {
        Registry reg = new Registry();
        List<Participant> added = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            Participant r = new Participant(Participant.FREE, null, 4);
            assertEquals(i, reg.append(r));
            added.add(r);
            if (i % 997 == 0 || i == 31 || i == 32 || i == 95 || i == 96) {
                Participant[] snap = reg.snapshot();
                assertEquals(i + 1, snap.length);
                for (int j = 0; j <= i; j++) assertSame(added.get(j), snap[j], "index " + j);
            }
        }
        Participant[] snap = reg.snapshot();
        assertSame(snap, reg.snapshot(), "a complete snapshot is cached while the count stays");
        assertEquals(5_000, snap.length);
    }

    @Test
    void concurrentAppendsLoseNothing() throws Exception {
        Registry reg = new Registry();
        int threads = 4;
        int each = 3_000;
        Set<Participant> all = Collections.newSetFromMap(Collections.synchronizedMap(new IdentityHashMap<>()));
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        Participant r = new Participant(Participant.FREE, null, 4);
                        all.add(r);
                        reg.append(r);
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }));
        }
        start.await();
        int seenWhileAppending = 0;
        while (ts.stream().anyMatch(Thread::isAlive)) {
            Participant[] snap = reg.snapshot();
            Set<Participant> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Participant r : snap) assertTrue(distinct.add(r), "a record twice in a snapshot");
            assertTrue(snap.length >= seenWhileAppending, "snapshots only grow");
            seenWhileAppending = snap.length;
        }
        for (Thread t : ts) t.join();
        Participant[] snap = reg.snapshot();
        assertEquals(threads * each, snap.length);
        Set<Participant> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Participant r : snap) {
            assertTrue(all.contains(r));
            assertTrue(distinct.add(r));
        }
    }
}
