package reclaim.offheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * An off-heap Treiber stack (nodes are native blocks {@code [next][value]}, the head a native word) hammered by
 * several threads under checked mode, for every scheme: no use after free, every block freed exactly once,
 * values conserved.
 */
class OffHeapTreiberStackTest {
    private static final int THREADS = 4;
    private static final int OPS = 20_000;

    static Stream<String> schemes() {
        return Reclaimer.availableSchemes().stream();
    }

    /** The stack: nodes {@code [NEXT][VALUE]}, head a word in a native block of its own. */
    static final class Stack {
        static final long NEXT = 0;
        static final long VALUE = 8;
        static final long EMPTY = Long.MIN_VALUE;

        final NativeMemory memory;
        final MemorySegment headBlock;
        final long head;

        Stack(NativeMemory memory) {
            this.memory = memory;
            this.headBlock = memory.allocateZeroed(8, 8);
            this.head = headBlock.address();
        }

        void push(long value) {
            long node = memory.allocate(16, 8).address();
            memory.setLong(node, VALUE, value);            // plain: published by the CAS below
            for (;;) {
                long h = memory.getLongVolatile(head, 0);
                memory.setLong(node, NEXT, h);
                if (memory.compareAndSetLong(head, 0, h, node)) return; // linearization point of push
            }
        }

        long pop(Reclaimer reclaimer) {
            try (Guard guard = reclaimer.enter()) {
                for (;;) {
                    long top = memory.load(guard, head, 0, 0);     // top reserved in slot 0
                    if (top == 0) return EMPTY;
                    long next = memory.load(guard, top, NEXT, 1);  // top's fields are safe to read: reserved
                    if (memory.compareAndSetLong(head, 0, top, next)) { // linearization point of pop
                        long v = memory.getLong(top, VALUE);
                        memory.retire(guard, memory.segment(top));
                        return v;
                    }
                }
            }
        }
    }

    /**
     * The harness is looking: a pop that frees its node at once (instead of retiring it) while another thread
     * holds that node is caught by checked mode, deterministically (the interleaving is forced with latches);
     * the same interleaving with {@code retire} is safe.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void checkedModeCatchesAPopThatFreesInsteadOfRetiring(String scheme) throws Exception {
        for (boolean broken : new boolean[] {false, true}) {
            try (Reclaimer reclaimer = Reclaimer.create(scheme);
                 NativeMemory memory = NativeMemory.builder(reclaimer).checked(true).build()) {
                Stack stack = new Stack(memory);
                stack.push(1);
                stack.push(2);
                CountDownLatch read = new CountDownLatch(1);
                CountDownLatch popped = new CountDownLatch(1);
                AtomicReference<Throwable> readerFailure = new AtomicReference<>();
                long[] next = new long[1];
                Thread reader = Thread.ofPlatform().start(() -> {
                    try (Guard guard = reclaimer.enter()) {
                        long top = memory.load(guard, stack.head, 0, 0);
                        read.countDown();
                        popped.await();
                        next[0] = memory.load(guard, top, Stack.NEXT, 1); // the slow reader's next step
                    } catch (Throwable e) {
                        readerFailure.set(e);
                    }
                });
                assertTrue(read.await(30, TimeUnit.SECONDS));
                long top = memory.getLongVolatile(stack.head, 0);
                long second = memory.getLong(top, Stack.NEXT);
                assertTrue(memory.compareAndSetLong(stack.head, 0, top, second));
                if (broken) memory.free(memory.segment(top));   // the bug: a reader may still hold top
                else memory.retire(memory.segment(top));
                if (!scheme.equals("none")) reclaimer.flush();
                popped.countDown();
                reader.join();
                if (broken) {
                    UseAfterFreeException e = assertInstanceOf(UseAfterFreeException.class, readerFailure.get());
                    assertEquals(top, e.address());
                    assertEquals(1, memory.stats().useAfterFree());
                } else {
                    if (readerFailure.get() != null) throw new AssertionError(readerFailure.get());
                    assertEquals(second, next[0]);
                    assertEquals(0, memory.stats().useAfterFree());
                }
                while (stack.pop(reclaimer) != Stack.EMPTY) { }
                memory.free(stack.headBlock);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void concurrentPushPopUnderCheckedMode(String scheme) throws Exception {
        Reclaimer reclaimer = Reclaimer.create(scheme);
        // a small quarantine: blocks really go back to malloc (and get reused) during the run
        NativeMemory memory = NativeMemory.builder(reclaimer).checked(true).quarantineBytes(64 << 10).build();
        Stack stack = new Stack(memory);
        CyclicBarrier start = new CyclicBarrier(THREADS);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[][] popped = new long[THREADS][];
        int[] pushed = new int[THREADS];
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().name("treiber-" + scheme + "-" + t).start(() -> {
                long[] mine = new long[OPS];
                int n = 0;
                int counter = 0;
                SplittableRandom rnd = new SplittableRandom(id * 31L + scheme.hashCode());
                try {
                    start.await();
                    for (int i = 0; i < OPS; i++) {
                        if (rnd.nextBoolean()) {
                            stack.push(((long) id << 32) | counter++);
                        } else {
                            long v = stack.pop(reclaimer);
                            if (v != Stack.EMPTY) mine[n++] = v;
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
                popped[id] = Arrays.copyOf(mine, n);
                pushed[id] = counter;
            }));
        }
        for (Thread t : threads) t.join();
        if (failure.get() != null) throw new AssertionError("a worker failed under " + scheme, failure.get());

        // drain what is left, then check every value pushed came out exactly once
        List<Long> rest = new ArrayList<>();
        for (long v; (v = stack.pop(reclaimer)) != Stack.EMPTY; ) rest.add(v);
        long totalPushed = 0;
        for (int p : pushed) totalPushed += p;
        long[] all = Stream.concat(Arrays.stream(popped).flatMapToLong(Arrays::stream).boxed(), rest.stream())
                .mapToLong(Long::longValue).sorted().toArray();
        assertEquals(totalPushed, all.length, "values popped or left = values pushed");
        for (int i = 1; i < all.length; i++) {
            assertTrue(all[i] != all[i - 1], "value popped twice: " + Long.toHexString(all[i]));
        }
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            long mine = Arrays.stream(all).filter(v -> (v >>> 32) == id).count();
            assertEquals(pushed[t], mine, "thread " + t + "'s values");
        }

        memory.free(stack.headBlock);
        reclaimer.close();
        NativeStats s = memory.stats();
        assertEquals(0, s.useAfterFree(), "use-after-free detections under " + scheme);
        assertEquals(totalPushed + 1, s.allocatedBlocks(), "nodes and the head");
        assertEquals(s.allocatedBlocks(), s.freedBlocks(), "every block freed exactly once: " + s);
        assertEquals(totalPushed, s.retiredBlocks());
        assertEquals(0, s.pendingBlocks());
        assertEquals(0, s.liveBytes());
        memory.close();
        assertEquals(0, memory.stats().quarantinedBlocks());
        assertEquals(0, memory.stats().quarantinedBytes());
    }
}
