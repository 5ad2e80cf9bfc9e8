package reclaim.offheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * The asymmetric barrier strategy frees no block a reader can still hold, under every scheme, checked with native
 * memory that reports a use after free.
 *
 * <h2>What it proves</h2>
 * Under {@link Options.Barrier#ASYMMETRIC} a reader announces (its epoch, hazard, era) with an ordinary store and
 * no fence, and the reclaimer's {@code membarrier} system call, run before it reads the announcements, is all that
 * stands between a reader that loaded a block and a reclaimer that frees it (docs/barriers.md). If that pairing
 * were broken anywhere (a reader's store left in its store buffer while a scan reads the old value, a scheme
 * path that forgot the heavy barrier, a nested guard whose close drops the outer's protection) a reader would
 * sooner or later read a block that the reclaimer had freed. Here, for every scheme, two readers read blocks
 * from a table of cells while two writers replace them and retire the old ones, 10<sup>7</sup> reads and
 * writes in all, and not one read may meet a freed block; afterwards every retired block has been freed
 * exactly once.
 *
 * <h2>Why checked mode sees a use after free</h2>
 * A {@code NativeMemory} in checked mode does not return a freed block to the C library: it marks the block's
 * header {@code FREED}, overwrites the payload with {@link NativeMemory#POISON}, and keeps it in a quarantine
 * (here 16 MiB, some 200,000 blocks of this test, far more than a reader can hold between its load and its
 * last read). Each read through {@link NativeMemory#getLong} first checks the header and throws
 * {@link UseAfterFreeException} on a freed block; a block freed between that check and the read shows the
 * poison, or a mix of poison and pattern, where the reader expects the pattern its writer wrote (every word
 * derived from the block's stamp). So a block freed before a read begins is reported every time, and one freed
 * during the read whenever a word read after the free shows the poison; neither depends on the C library
 * reusing the memory. Both count as uses after free. {@link #aBlockFreedUnderAReaderIsReportedAndARetiredOneIsNot}
 * shows that the check does report a block freed at once under a reader.
 *
 * <h2>The readers' shapes</h2>
 * Most reads are one guard per block (enter, a protected {@link NativeMemory#load(Guard, long, long, int)
 * load} of a cell, the eight words, close). One guard in 64 reads three cells with a guard nested inside the
 * outer one, then reads the outer's blocks again after the inner close. Reader 0 also opens, every 2<sup>16</sup>
 * iterations, a long guard of 8,192 reads that holds one block in a slot of its own throughout, retires it at
 * the start (it swaps a block of its own into the cell) and reads it again every 512 reads: under EBR and QSBR
 * the guard holds reclamation back for everyone, which resumes when it closes; under the others the held block
 * must outlive the scans that the writers' retires run meanwhile.
 *
 * <p>Threads start together from a latch and run by operation count: all keep going until their reads and writes
 * together reach 10<sup>7</sup> and each has reached a minimum of its own (2&times;10<sup>6</sup> reads per
 * reader, 5&times;10<sup>5</sup> writes per writer), so that the four run side by side to the end. On a machine
 * of two cores (this project's, and its CI's) four threads are also preempted inside their guards: the case
 * where {@code membarrier} relies on the context switch as the reader's barrier.
 */
class AsymmetricBarrierCheckedMemoryStressTest {
    /** Reads and writes, together, that each scheme must reach. */
    static final long OPS_PER_SCHEME = 10_000_000L;
    /** Reads each reader does at least (a read costs a third to a seventh of a write, depending on the scheme). */
    static final long READS_PER_READER = 2_000_000L;
    /** Writes each writer does at least. */
    static final long WRITES_PER_WRITER = 500_000L;
    /** A worker adds its operations to the shared total once per this many. */
    static final long REPORT_EVERY = 1024;
    static final int READERS = 2;
    static final int WRITERS = 2;
    /** Cells of the table: few, so that most reads meet a block that a writer is replacing. */
    static final int CELLS = 16;
    /** Bytes per block: one cache line, eight words. */
    static final long BLOCK = 64;
    static final int WORDS = (int) (BLOCK / 8);
    /** Quarantine of checked mode: ample for every reader's window, bounded for the run's memory. */
    static final long QUARANTINE_BYTES = 16L << 20;
    /** Reader 0 opens a long guard every this many iterations (a power of two). */
    static final int LONG_GUARD_EVERY = 1 << 16;
    /** Reads inside one long guard. */
    static final int LONG_GUARD_READS = 8192;
    /** One iteration in this many (a power of two) is a guard with three reads and a nested guard. */
    static final int NESTED_EVERY = 64;
    /**
     * A stamp: its author's tag above bit 40 (0 for the table's first blocks, 1 to {@link #WRITERS} for the
     * writers, then one per reader), a sequence number from 1 below.
     */
    static final int TAG_SHIFT = 40;
    static final long GOLDEN = 0x9E3779B97F4A7C15L;

    static Stream<String> schemes() {
        // every scheme that reclaims before close, and Crystalline-W, which availableSchemes() does not list
        Stream<String> listed = Reclaimer.availableSchemes().stream().filter(s -> !s.equals("none"));
        return Stream.concat(listed, Stream.of("crystalline-w"));
    }

    /** How a writer disposes of the block it swapped out. Only {@link #RETIRE} is correct. */
    enum Disposal {
        /** {@link NativeMemory#retire}: freed once no reader can hold it. */
        RETIRE,
        /** {@link NativeMemory#free}: freed at once, under readers that may hold it (the bug the check must see). */
        FREE_AT_ONCE
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void noReaderMeetsAFreedBlockAndEveryRetiredBlockIsFreedOnce(String scheme) throws Exception {
        Outcome o = run(scheme, Disposal.RETIRE, OPS_PER_SCHEME, READS_PER_READER, WRITES_PER_WRITER);
        System.out.println("[asymmetric checked stress] " + o);
        assertNull(o.failure, () -> "a thread failed: " + o);
        assertEquals(Options.Barrier.ASYMMETRIC, o.reclaimerStats.barrier(), "the reclaimer runs the asymmetric strategy");
        assertEquals(0, o.usesAfterFree, () -> "uses after free: " + o.firstUseAfterFree + "; " + o);
        assertEquals(0, o.garbled, () -> "garbled blocks: " + o.firstGarbled + "; " + o);
        assertEquals(0, o.memoryStats.useAfterFree(), () -> "the allocator counted uses after free: " + o);
        assertTrue(o.reads + o.writes + o.readerSwaps >= OPS_PER_SCHEME, () -> "too few operations: " + o);
        assertTrue(o.longGuards > 0 && o.nestedGuards > 0, () -> "a reader shape never ran: " + o);

        Stats rs = o.reclaimerStats;
        assertEquals(rs.retired(), rs.reclaimed(), () -> "retired != reclaimed after close: " + rs);
        assertEquals(0, rs.failed(), () -> "a retire action threw (a block freed twice, or in a wrong state): " + rs);
        NativeStats ms = o.memoryStats;
        long swaps = o.writes + o.readerSwaps;
        assertEquals(swaps + CELLS, ms.retiredBlocks(), () -> "one retire per swap, one per cell at the end: " + ms);
        assertEquals(ms.retiredBlocks(), rs.retired(), () -> "each block retired once to the reclaimer: " + ms + " " + rs);
        assertEquals(swaps + CELLS + 1, ms.allocatedBlocks(), () -> "the blocks and the table: " + ms);
        assertEquals(ms.allocatedBlocks(), ms.freedBlocks(), () -> "every block freed: " + ms);
        assertEquals(0, ms.pendingBlocks(), () -> "nothing pending after close: " + ms);
        assertEquals(0, ms.liveBytes(), () -> "nothing live after close: " + ms);
        assertEquals(0, ms.quarantinedBlocks(), () -> "the quarantine returned to the C library: " + ms);
    }

    /**
     * The check looks: a block that a writer frees at once, while a reader holds it under a guard, is reported
     * as a use after free by the same read that the stress test runs, and a poisoned or overwritten pattern is
     * reported as garbled; the same interleaving with {@code retire} reads the block intact.
     */
    @Test
    void aBlockFreedUnderAReaderIsReportedAndARetiredOneIsNot() throws Exception {
        for (Disposal d : Disposal.values()) {
            Reclaimer r = asymmetric("ebr");
            try {
                NativeMemory m = NativeMemory.builder(r).checked(true).quarantineBytes(QUARANTINE_BYTES).build();
                Table t = new Table(m, 1);
                CountDownLatch loaded = new CountDownLatch(1);
                CountDownLatch swapped = new CountDownLatch(1);
                AtomicReference<Object> seen = new AtomicReference<>();
                Thread reader = Thread.ofPlatform().name("control-reader").start(() -> {
                    try (Guard g = r.enter()) {
                        long b = t.load(g, 0, 0);
                        loaded.countDown();
                        if (!swapped.await(30, TimeUnit.SECONDS)) throw new AssertionError("the writer did not swap");
                        String wrong = t.read(b, new long[WORDS]);
                        seen.set(wrong == null ? "intact" : wrong);
                    } catch (Throwable e) {
                        seen.set(e);
                        loaded.countDown();
                    }
                });
                assertTrue(loaded.await(30, TimeUnit.SECONDS));
                long old = t.swap(0, t.newBlock(1, 1));
                if (d == Disposal.RETIRE) m.retire(old);
                else m.free(old);
                swapped.countDown();
                reader.join();
                if (d == Disposal.RETIRE) {
                    assertEquals("intact", seen.get(), "a retired block outlives the guard that read it");
                    assertEquals(0, m.stats().useAfterFree());
                } else {
                    assertTrue(seen.get() instanceof UseAfterFreeException, () -> "not reported: " + seen.get());
                    assertEquals(1, m.stats().useAfterFree());
                }
                // the second detector: a live block whose words are not its pattern
                long live = t.cell(0);
                long[] words = new long[WORDS];
                assertNull(t.read(live, words));
                m.setLong(live, 8L * (WORDS - 1), NativeMemory.POISON);
                String wrong = t.read(live, words);
                assertTrue(wrong != null && wrong.contains("word 7 poison"), wrong);
                m.setLong(live, 8, 12345);
                m.setLong(live, 0, NativeMemory.POISON);
                wrong = t.read(live, words);
                assertTrue(wrong != null && wrong.contains("poison in word 0"), wrong);
                t.retireAll();
                r.close();
                m.close();
                assertEquals(m.stats().allocatedBlocks(), m.stats().freedBlocks());
            } finally {
                r.close();
            }
        }
    }

    /** A reclaimer of {@code scheme} forced to the asymmetric strategy: refused, loudly, where it is unavailable. */
    static Reclaimer asymmetric(String scheme) {
        try {
            return Reclaimer.create(Scheme.named(scheme), Options.DEFAULT.withBarrier(Options.Barrier.ASYMMETRIC));
        } catch (IllegalArgumentException e) {
            throw new AssertionError("this test needs the asymmetric barrier strategy (Linux membarrier, and native "
                    + "access for reclaim.impl: see the surefire argLine in reclaim.offheap's pom): " + e.getMessage(), e);
        }
    }

    /**
     * Runs readers and writers over one reclaimer of {@code scheme} (asymmetric) and one checked allocator, until
     * they have done {@code ops} operations together, each reader has read {@code readsPerReader} blocks and each
     * writer swapped {@code writesPerWriter}; then retires what the table holds, closes the reclaimer and the
     * allocator, and returns what was counted.
     */
    static Outcome run(String scheme, Disposal disposal, long ops, long readsPerReader, long writesPerWriter)
            throws Exception {
        Reclaimer r = asymmetric(scheme);
        NativeMemory m = NativeMemory.builder(r).checked(true).quarantineBytes(QUARANTINE_BYTES).build();
        Table t = new Table(m, CELLS);
        Shared shared = new Shared(READERS + WRITERS, ops);
        List<Reader> readers = new ArrayList<>();
        List<Writer> writers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (int i = 0; i < READERS; i++) {
            Reader rd = new Reader(i, r, t, shared, readsPerReader);
            readers.add(rd);
            threads.add(Thread.ofPlatform().name("stress-reader-" + i).unstarted(() -> shared.body(start, rd::run)));
        }
        for (int i = 0; i < WRITERS; i++) {
            Writer w = new Writer(i + 1, r, t, shared, disposal, writesPerWriter);
            writers.add(w);
            threads.add(Thread.ofPlatform().name("stress-writer-" + i).unstarted(() -> shared.body(start, w::run)));
        }
        threads.forEach(Thread::start);
        start.countDown();
        for (Thread th : threads) {
            // a guard against a hang only (the surefire fork has its own limit); the run ends by operation count
            if (!th.join(Duration.ofMinutes(5))) {
                shared.abort(new AssertionError(th.getName() + " did not finish"));
                fail(th.getName() + " did not finish: " + shared.failure.get());
            }
        }
        t.retireAll();
        r.close();
        m.close();

        Outcome o = new Outcome(scheme, r.stats(), m.stats(), shared.failure.get());
        for (Reader rd : readers) {
            o.reads += rd.reads;
            o.usesAfterFree += rd.usesAfterFree;
            o.garbled += rd.garbled;
            o.longGuards += rd.longGuards;
            o.readerSwaps += rd.swaps;
            o.nestedGuards += rd.nestedGuards;
            if (o.firstUseAfterFree == null) o.firstUseAfterFree = rd.firstUseAfterFree;
            if (o.firstGarbled == null) o.firstGarbled = rd.firstGarbled;
        }
        for (Writer w : writers) o.writes += w.writes;
        return o;
    }

    /** What one run counted. Written by the test thread after every worker has been joined. */
    static final class Outcome {
        final String scheme;
        final Stats reclaimerStats;
        final NativeStats memoryStats;
        final Throwable failure;
        long reads;
        long writes;
        long usesAfterFree;
        long garbled;
        long longGuards;
        long readerSwaps;
        long nestedGuards;
        String firstUseAfterFree;
        String firstGarbled;

        Outcome(String scheme, Stats reclaimerStats, NativeStats memoryStats, Throwable failure) {
            this.scheme = scheme;
            this.reclaimerStats = reclaimerStats;
            this.memoryStats = memoryStats;
            this.failure = failure;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s: %,d reads + %,d writes (+ %d by long guards) = %,d ops; %d uses"
                    + " after free, %d garbled; %d long guards, %d nested; %s", scheme, reads, writes, readerSwaps,
                    reads + writes + readerSwaps, usesAfterFree, garbled, longGuards, nestedGuards, reclaimerStats);
        }
    }

    /**
     * What the workers share: the operations they reported, how many workers have not yet reached their own
     * minimum (the run ends when the total reaches the target and no worker is below its minimum, so that all
     * run side by side to the end), and the first unexpected failure, which stops every worker.
     */
    static final class Shared {
        final long target;
        /** Operations reported so far; volatile adds and reads. */
        final AtomicLong total = new AtomicLong();
        /** Workers below their minimum; volatile reads and decrements. */
        final AtomicInteger unfinished;
        /** Set (volatile) on an unexpected failure: every worker stops. */
        final AtomicBoolean aborted = new AtomicBoolean();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Shared(int workers, long target) {
            this.unfinished = new AtomicInteger(workers);
            this.target = target;
        }

        void abort(Throwable t) {
            failure.compareAndSet(null, t);
            aborted.set(true);
        }

        /** Runs a worker's body after the start signal; a failure aborts the run. */
        void body(CountDownLatch start, Runnable body) {
            try {
                start.await();
                body.run();
            } catch (Throwable t) {
                abort(t);
            }
        }
    }

    /**
     * The table of cells, a block of the allocator holding one block address per cell, and the blocks' pattern:
     * word {@code k} of a block stamped {@code s} is {@code s ^ (k * GOLDEN)}, so word 0 is the stamp.
     */
    static final class Table {
        final NativeMemory memory;
        final long table;
        final int cells;

        Table(NativeMemory memory, int cells) {
            this.memory = memory;
            this.cells = cells;
            this.table = memory.allocateAddress(8L * cells, 8);
            for (int i = 0; i < cells; i++) memory.setLongVolatile(table, 8L * i, newBlock(0, i + 1));
        }

        /** A new block, its pattern written with plain stores (published by the swap's CAS). */
        long newBlock(int tag, long seq) {
            long b = memory.allocateAddress(BLOCK, 8);
            long stamp = ((long) tag << TAG_SHIFT) | seq;
            for (int k = 0; k < WORDS; k++) memory.setLong(b, 8L * k, stamp ^ (k * GOLDEN));
            return b;
        }

        /** Loads cell {@code i} through the reclaimer's protection, in {@code slot} of {@code g}. */
        long load(Guard g, int i, int slot) {
            return memory.load(g, table, 8L * i, slot);
        }

        /** The block cell {@code i} holds now (volatile), unprotected: only the test thread dereferences it. */
        long cell(int i) {
            return memory.getLongVolatile(table, 8L * i);
        }

        /** Puts {@code fresh} into cell {@code i} (a CAS loop: writers may race on a cell); returns what it held. */
        long swap(int i, long fresh) {
            for (;;) {
                long old = memory.getLongVolatile(table, 8L * i);
                if (memory.compareAndSetLong(table, 8L * i, old, fresh)) return old; // volatile: publishes fresh
            }
        }

        /**
         * Reads the whole block into {@code words} and checks its pattern; returns null if it holds, else what is
         * wrong. Each word is read through the checked accessor, which throws {@link UseAfterFreeException} if the
         * block's header says it was freed.
         */
        String read(long b, long[] words) {
            for (int k = 0; k < WORDS; k++) words[k] = memory.getLong(b, 8L * k);
            long stamp = words[0];
            long tag = stamp >>> TAG_SHIFT;
            boolean ok = tag <= WRITERS + READERS && (stamp & ((1L << TAG_SHIFT) - 1)) != 0; // the poison fails here
            for (int k = 1; k < WORDS && ok; k++) ok = words[k] == (stamp ^ (k * GOLDEN));
            return ok ? null : describe(b, words);
        }

        /** What is wrong with the words read from block {@code b}. */
        static String describe(long b, long[] words) {
            StringBuilder s = new StringBuilder("block 0x").append(Long.toHexString(b)).append(':');
            long stamp = words[0];
            if (stamp == NativeMemory.POISON) s.append(" poison in word 0;");
            for (int k = 1; k < WORDS; k++) {
                if (words[k] != (stamp ^ (k * GOLDEN))) {
                    s.append(" word ").append(k).append(words[k] == NativeMemory.POISON ? " poison;" : " wrong;");
                }
            }
            return s.append(" stamp 0x").append(Long.toHexString(stamp)).toString();
        }

        /** Retires every block the table holds and frees the table: the test thread, after the workers. */
        void retireAll() {
            for (int i = 0; i < cells; i++) memory.retire(cell(i));
            memory.free(table);
        }
    }

    /** One worker's side of {@link Shared}: its minimum and what it has reported. Used by its worker only. */
    static final class Quota {
        final Shared shared;
        final long minimum;
        long reported;
        boolean reached;

        Quota(Shared shared, long minimum) {
            this.shared = shared;
            this.minimum = minimum;
        }

        /** Takes the worker's operation count so far; returns whether it should stop. */
        boolean stop(long ops) {
            if (ops - reported >= REPORT_EVERY) {
                shared.total.addAndGet(ops - reported);
                reported = ops;
            }
            if (!reached && ops >= minimum) {
                reached = true;
                shared.unfinished.decrementAndGet();
            }
            return shared.aborted.get()
                    || (reached && shared.unfinished.get() == 0 && shared.total.get() >= shared.target);
        }

        /** The worker ends (also when a failure aborted the run): the others no longer wait for its minimum. */
        void finish(long ops) {
            shared.total.addAndGet(ops - reported);
            if (!reached) shared.unfinished.decrementAndGet();
        }
    }

    /** A small xorshift generator per worker (no shared state). */
    static final class Rng {
        private long s;

        Rng(long seed) {
            s = seed * GOLDEN | 1;
        }

        int next(int bound) {
            s ^= s << 13;
            s ^= s >>> 7;
            s ^= s << 17;
            return (int) ((s >>> 33) % bound);
        }
    }

    /**
     * A reader: its counters are its own fields, read by the test thread after the join. A use after free or a
     * garbled block is counted and the reader goes on (its guard closes through try-with-resources).
     */
    static final class Reader {
        final int id;
        final Reclaimer r;
        final Table t;
        final Quota quota;
        final Rng rng;
        /** The words of the block being read. */
        final long[] words = new long[WORDS];
        long reads;
        long usesAfterFree;
        long garbled;
        long longGuards;
        long nestedGuards;
        /** Blocks this reader swapped out of the table (and retired) in its long guards. */
        long swaps;
        String firstUseAfterFree;
        String firstGarbled;

        Reader(int id, Reclaimer r, Table t, Shared shared, long minimum) {
            this.id = id;
            this.r = r;
            this.t = t;
            this.quota = new Quota(shared, minimum);
            this.rng = new Rng(100 + id);
        }

        void run() {
            try {
                for (long iteration = 1; !quota.stop(reads + swaps); iteration++) {
                    try {
                        if (id == 0 && (iteration & (LONG_GUARD_EVERY - 1)) == 0) {
                            longGuard();
                        } else if ((iteration & (NESTED_EVERY - 1)) == 0) {
                            nested();
                        } else {
                            try (Guard g = r.enter()) {
                                check(t.load(g, rng.next(CELLS), 0));
                            }
                        }
                    } catch (UseAfterFreeException e) {
                        usesAfterFree++;
                        if (firstUseAfterFree == null) firstUseAfterFree = e.getMessage();
                    }
                }
            } finally {
                quota.finish(reads + swaps);
            }
        }

        /** Reads and checks one block; a garbled one is counted. */
        void check(long b) {
            reads++;
            String wrong = t.read(b, words);
            if (wrong != null) {
                garbled++;
                if (firstGarbled == null) firstGarbled = wrong;
            }
        }

        /** Three cells, the third under a nested guard; the outer's blocks are read again after the inner close. */
        void nested() {
            nestedGuards++;
            try (Guard outer = r.enter()) {
                long a = t.load(outer, rng.next(CELLS), 0);
                check(a);
                long b = t.load(outer, rng.next(CELLS), 1);
                check(b);
                try (Guard inner = r.enter()) {
                    check(t.load(inner, rng.next(CELLS), 2));
                    check(a);
                }
                check(a);
                check(b);
            }
        }

        /**
         * A guard that stays open for 8,192 reads and holds one block throughout, retired at its start: the
         * reader swaps a block of its own into the held block's cell and retires what it swapped out (the held
         * block, or, if a writer swapped it out first, the block after it, while the writer retires the held
         * one). Writers retire meanwhile, and their scans must pass the held block by.
         */
        void longGuard() {
            longGuards++;
            try (Guard g = r.enter()) {
                int cell = rng.next(CELLS);
                long held = t.load(g, cell, 3);
                check(held);
                t.memory.retire(g, t.swap(cell, t.newBlock(1 + WRITERS + id, ++swaps)));
                for (int i = 1; i <= LONG_GUARD_READS; i++) {
                    check(t.load(g, rng.next(CELLS), 0));
                    if ((i & 511) == 0) check(held);
                }
                check(held);
            }
        }
    }

    /** A writer: swaps a new block into a random cell and disposes of the old one; every other swap in a guard. */
    static final class Writer {
        final int tag;
        final Reclaimer r;
        final Table t;
        final Disposal disposal;
        final Quota quota;
        final Rng rng;
        long writes;

        Writer(int tag, Reclaimer r, Table t, Shared shared, Disposal disposal, long minimum) {
            this.tag = tag;
            this.r = r;
            this.t = t;
            this.disposal = disposal;
            this.quota = new Quota(shared, minimum);
            this.rng = new Rng(200 + tag);
        }

        void run() {
            try {
                while (!quota.stop(writes)) {
                    long fresh = t.newBlock(tag, writes + 1);
                    int cell = rng.next(CELLS);
                    if ((writes & 1) == 0) {
                        try (Guard g = r.enter()) {
                            long old = t.swap(cell, fresh);
                            if (disposal == Disposal.RETIRE) t.memory.retire(g, old);
                            else t.memory.free(old);
                        }
                    } else {
                        long old = t.swap(cell, fresh);
                        if (disposal == Disposal.RETIRE) t.memory.retire(old);
                        else t.memory.free(old);
                    }
                    writes++;
                }
            } finally {
                quota.finish(writes);
            }
        }
    }
}
