package reclaim.impl.common;

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
        List<AnnouncementRecord> added = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            AnnouncementRecord r = new AnnouncementRecord(AnnouncementRecord.FREE, null, 4);
            assertEquals(i, reg.append(r));
            added.add(r);
            if (i % 997 == 0 || i == 31 || i == 32 || i == 95 || i == 96) {
                AnnouncementRecord[] snap = reg.snapshot();
                assertEquals(i + 1, snap.length);
                for (int j = 0; j <= i; j++) assertSame(added.get(j), snap[j], "index " + j);
            }
        }
        AnnouncementRecord[] snap = reg.snapshot();
        assertSame(snap, reg.snapshot(), "a complete snapshot is cached while the count stays");
        assertEquals(5_000, snap.length);
    }

    @Test
    void concurrentAppendsLoseNothing() throws Exception {
        Registry reg = new Registry();
        int threads = 4;
        int each = 3_000;
        Set<AnnouncementRecord> all = Collections.newSetFromMap(Collections.synchronizedMap(new IdentityHashMap<>()));
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        AnnouncementRecord r = new AnnouncementRecord(AnnouncementRecord.FREE, null, 4);
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
            AnnouncementRecord[] snap = reg.snapshot();
            Set<AnnouncementRecord> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
            for (AnnouncementRecord r : snap) assertTrue(distinct.add(r), "a record twice in a snapshot");
            assertTrue(snap.length >= seenWhileAppending, "snapshots only grow");
            seenWhileAppending = snap.length;
        }
        for (Thread t : ts) t.join();
        AnnouncementRecord[] snap = reg.snapshot();
        assertEquals(threads * each, snap.length);
        Set<AnnouncementRecord> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        for (AnnouncementRecord r : snap) {
            assertTrue(all.contains(r));
            assertTrue(distinct.add(r));
        }
    }
}
