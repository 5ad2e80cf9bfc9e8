package reclaim.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * The latency of a reader's {@code Guard.close()} when reclaim actions run inline and when they run on the action
 * thread ({@code Options.withActionThread()}). Under Hyaline and Crystalline the reader that drops the last
 * reference to a batch runs the batch's actions in its {@code close()}: with batches of 64 and actions that cost
 * something (a {@code free}, an {@code munmap}, a callback), that is the reader's tail latency. With the action thread
 * the reader hands the batch off instead.
 *
 * <p>Group {@code close}: two readers, whose measured operation is {@code close()} alone (the guard is opened, a
 * node protected and {@code readerWork} tokens burnt inside it in a per-invocation setup, which JMH does not time),
 * and one writer that swaps a node in and retires
 * the old one, paced by {@code writerWork} so that the action thread keeps up with it (an executor that falls behind
 * refuses work, and the handing threads run it: see {@code Options.actionThread()}). Each action burns
 * {@code actionWork} tokens of {@link Blackhole#consumeCPU}. Mode {@code SampleTime}: read the {@code p0.999} line of
 * {@code close:readerClose}.
 *
 * <p>Run: {@code ./reclaim bench ActionExecutorBenchmark} (the machine should be quiet, with at least four cores:
 * two readers, the writer and the action thread).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Group)
public class ActionExecutorBenchmark {

    /** A scheme whose readers run the actions of the batches they release. */
    @Param({"hyaline", "crystalline"})
    public String scheme;

    /** {@code inline}: actions run where they become due; {@code action-thread}: on the shared action thread. */
    @Param({"inline", "action-thread"})
    public String actions;

    /** Blackhole tokens each reclaim action burns. */
    @Param({"200"})
    public int actionWork;

    /** Blackhole tokens the writer burns per retire (above {@code actionWork}, so the action thread keeps up). */
    @Param({"400"})
    public int writerWork;

    /**
     * Blackhole tokens a reader burns inside its guard before the measured close (not timed): a reader that reads for
     * a while, so that its slot is active when batches are inserted and it is often the one that drops the last
     * reference.
     */
    @Param({"2000"})
    public int readerWork;

    private Reclaimer reclaimer;
    private final AtomicReference<Node> cell = new AtomicReference<>();
    private long written;

    /** A retired node; its reclaim action burns {@code work} tokens. */
    static final class Node {
        final long value;
        final int work;

        Node(long value, int work) {
            this.value = value;
            this.work = work;
        }

        void free() {
            Blackhole.consumeCPU(work);
        }
    }

    /** Creates the state. */
    public ActionExecutorBenchmark() {}

    /** Creates the reclaimer, with or without the action thread, and the first node. */
    @Setup(Level.Trial)
    public void setUp() {
        Options o = Options.fromSystemProperties();
        if (actions.equals("action-thread")) {
            o = o.withActionThread();
        } else if (!actions.equals("inline")) {
            throw new IllegalArgumentException("actions must be inline or action-thread, was " + actions);
        }
        reclaimer = Reclaimer.create(Scheme.named(scheme), o);
        cell.set(new Node(0, actionWork));
    }

    /** Retires the last node and closes the reclaimer (every action has run when it returns). */
    @TearDown(Level.Trial)
    public void tearDown() {
        reclaimer.retire(cell.getAndSet(null), Node::free);
        reclaimer.close();
    }

    /** A reader's guard, opened (and a node protected through it) before each measured close. */
    @State(Scope.Thread)
    public static class ReaderGuard {
        Guard guard;
        long seen;

        /** Creates the state. */
        public ReaderGuard() {}

        /**
         * Opens the guard and protects the current node: not timed.
         *
         * @param b the group's state
         */
        @Setup(Level.Invocation)
        public void open(ActionExecutorBenchmark b) {
            guard = b.reclaimer.enter();
            seen += guard.protect(b.cell).value;
            Blackhole.consumeCPU(b.readerWork); // the read itself, inside the guard
        }
    }

    /**
     * The measured operation: a reader's close(), which may release batches and, inline, run their actions.
     *
     * @param r the reader's open guard
     */
    @Benchmark
    @Group("close")
    @GroupThreads(2)
    public void readerClose(ReaderGuard r) {
        r.guard.close();
    }

    /** The writer: a new node swapped in, the old one retired; paced by {@code writerWork}. */
    @Benchmark
    @Group("close")
    @GroupThreads(1)
    public void writer() {
        Blackhole.consumeCPU(writerWork);
        Node old = cell.getAndSet(new Node(++written, actionWork));
        reclaimer.retire(old, Node::free);
    }
}
