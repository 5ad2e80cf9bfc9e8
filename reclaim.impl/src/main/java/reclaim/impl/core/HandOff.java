package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reclaim actions handed to an executor ({@code Options.actionExecutor()}: liburcu's {@code call_rcu} thread,
 * folly's hazptr executor) instead of run by the thread that found them due, which under Hyaline and Crystalline is
 * often a reader closing its guard.
 *
 * <h2>Exactly once</h2>
 * Each batch handed off becomes a {@link Task} that is entered in {@link #outstanding} before the executor sees it,
 * and leaves it once done. A task runs only after a CAS of its state from QUEUED: to RUNNING by whoever runs it (the
 * executor's thread, the handing thread when the executor refused it, a {@code flush()} that helps), or to KEPT by
 * {@code close()}, which runs it in its drain. One CAS wins, so a batch runs once however often, or late, the
 * executor runs its task.
 *
 * <h2>Collections</h2>
 * A collection that a retire or an enter finds due ({@code Core.collectDue}) is handed off too, as a task with no
 * batch ({@link #submitCollect}): its heavy barrier, its scan and its judgement then run on the executor, and the
 * operation that triggered it pays only the hand-off. At most one such task waits at a time ({@link #collectQueued}):
 * a due collection that finds one waiting leaves the bags it would have taken to it, since the task takes whatever is
 * sealed when it runs. If the executor falls behind, the {@value #COLLECT_MISSES}th due collection in a row that finds
 * a task still waiting runs on the calling thread (back-pressure: bags do not pile up behind a stuck executor), as
 * does one the executor refuses.
 *
 * <h2>flush() and close()</h2>
 * A flush outside guards first settles the collection tasks ({@link #settleCollections}: runs the QUEUED ones, waits
 * for the RUNNING ones), so that none holds bags its own collection cannot see. {@link #help} (flush) then runs every
 * QUEUED task itself and waits for the RUNNING ones that were entered before it looked; if one of them was a
 * collection (one that a retire inside a reclaim action handed off meanwhile), it looks once more, for the batches
 * that collection handed off. {@link #keep} (close, once nothing else is in flight and every participant is closed, so that no task can
 * be handed off any more) takes every QUEUED task as KEPT and waits, until the deadline, for the RUNNING ones; the
 * closer runs the KEPT ones in its drain ({@link #runKept}), when no other thread runs reclaim actions. A task
 * finished on another thread after the core started closing calls {@code Closing.leftWhileClosing()}, so that an
 * abandoned core whose last work was a handed-off batch is finished.
 *
 * <h2>Happens-before</h2>
 * The batch is complete before its task is entered in the set (a concurrent map's insertion: a volatile write) and
 * before {@code execute} (the {@link Executor} contract orders what precedes the submission before the task's run).
 * Whoever runs it first wins the CAS on the task's state, which reads that write. The task's end is a release store
 * of DONE, read by waiters with acquire semantics.
 */
final class HandOff {
    private static final System.Logger LOG = System.getLogger("reclaim");
    /** Refusals reported in full before reporting thins out to one in {@link #REPORT_EVERY}. */
    private static final int REPORT_FIRST = 10;
    private static final int REPORT_EVERY = 1000;
    /** The due collections in a row that find a collection task still waiting, the last of which runs on its caller. */
    static final int COLLECT_MISSES = 4;

    /** How many tasks the current thread is running (a flush called by an action on the executor does not wait). */
    private static final ThreadLocal<int[]> RUNNING_HERE = ThreadLocal.withInitial(() -> new int[1]);

    static final int QUEUED = 0;
    static final int RUNNING = 1;
    static final int KEPT = 2;
    static final int DONE = 3;

    private final Core core;
    private final Executor executor;
    /** Tasks handed off and not yet done. */
    private final Set<Task> outstanding = ConcurrentHashMap.newKeySet();
    /** Objects in tasks not yet done (for the pending bound). */
    private final AtomicLong waiting = new AtomicLong();
    /** Tasks the executor refused (they ran on the handing thread). */
    private final LongAdder refused = new LongAdder();
    /**
     * Whether a collection task is queued and not started: set by the CAS of {@link #submitCollect} that hands one
     * off, cleared by whoever starts it (before it collects, so that bags sealed meanwhile can hand off another).
     * Accessed through {@code COLLECT_QUEUED}.
     */
    @SuppressWarnings("unused")
    private boolean collectQueued;
    /** Due collections in a row that found a task waiting; through {@code MISSES}. */
    @SuppressWarnings("unused")
    private int misses;

    HandOff(Core core, Executor executor) {
        this.core = core;
        this.executor = executor;
    }

    /** A batch handed to the executor, or a collection (no batch). */
    static final class Task implements Runnable {
        final HandOff owner;
        /** The batch; null for a collection task. */
        final Batch batch;
        /** The batch's size when handed off (running it clears the batch). */
        final int size;
        /** QUEUED, RUNNING, KEPT or DONE; accessed only through {@code STATE}. */
        @SuppressWarnings("unused")
        private int state;

        Task(HandOff owner, Batch batch) {
            this.owner = owner;
            this.batch = batch;
            this.size = batch == null ? 0 : batch.size();
        }

        boolean isCollection() {
            return batch == null;
        }

        @Override
        public void run() {
            if (casState(QUEUED, RUNNING)) owner.runClaimed(this, true);
        }

        int stateAcquire() {
            return (int) STATE.getAcquire(this);
        }

        boolean casState(int expected, int update) {
            return STATE.compareAndSet(this, expected, update);
        }

        void setStateRelease(int value) {
            STATE.setRelease(this, value);
        }

        @Override
        public String toString() {
            return batch == null ? "a collection (" + owner.core.name + ")"
                    : "reclaim actions of " + size + " object(s) (" + owner.core.name + ")";
        }
    }

    /** @return whether the calling thread runs what it reclaims itself: it is running {@code close()} */
    boolean runsHere() {
        return core.closing().isCloser();
    }

    /**
     * Hands a batch to the executor; if it refuses, runs the batch here.
     *
     * @param batch the batch, owned by the caller until this call (never touched by it afterwards)
     */
    void submit(Batch batch) {
        Task t = new Task(this, batch);
        waiting.addAndGet(t.size);
        execute(t, "a batch", "its actions run on the thread that handed it off");
    }

    /**
     * Enters {@code t} in {@link #outstanding} (flush() and close() find it from then on) and hands it to the
     * executor; if it refuses (a RejectedExecutionException, or an executor that fails some other way), counts and
     * reports the refusal and runs the task here, unless someone already took it.
     *
     * @param what the task, for the report ("a batch")
     * @param consequence what a refusal means, for the report
     */
    private void execute(Task t, String what, String consequence) {
        outstanding.add(t);
        try {
            executor.execute(t);
        } catch (RuntimeException e) {
            refused.increment();
            long n = refused.sum();
            if (n <= REPORT_FIRST || n % REPORT_EVERY == 0) {
                LOG.log(System.Logger.Level.WARNING, () -> "the action executor of a " + core.name + " reclaimer refused "
                        + what + " (refusals so far " + n + "): " + consequence, e);
            }
            t.run();
        }
    }

    /**
     * Hands a due collection to the executor, unless one is waiting already.
     *
     * @return false if the caller should collect itself: the core is not open, the executor refused the task (it ran
     *     here then, as a refused batch does, and was counted), or {@value #COLLECT_MISSES} due collections in a row
     *     found a task still waiting
     */
    boolean submitCollect() {
        if (core.stateOpaque() != Lifecycle.OPEN) return false;
        if (!COLLECT_QUEUED.compareAndSet(this, false, true)) {
            // Counted exactly (a rare path: a collection is waiting), so that the slack the pending bound allows for
            // does not grow with the number of threads that find it waiting.
            if ((int) MISSES.getAndAdd(this, 1) + 1 < COLLECT_MISSES) return true; // the waiting task takes these bags
            MISSES.setOpaque(this, 0);
            return false; // the executor is behind: collect here
        }
        MISSES.setOpaque(this, 0);
        execute(new Task(this, null), "a collection", "it runs on the thread that handed it off");
        return true;
    }

    /** Runs a task the caller took (RUNNING) and ends it; {@code notify}: tell an abandoned core it may finish. */
    private void runClaimed(Task t, boolean notify) {
        int[] here = RUNNING_HERE.get();
        here[0]++;
        ThreadGuard level = null;
        try {
            // A level of the running thread's reclaim actions (Core.collectAt): an action here that retires starts no
            // collection inside it, and one that flushes is served after it, not by a flush running the next task here.
            level = core.callerGuard();
            if (level != null) level.collecting++;
            if (t.isCollection()) {
                COLLECT_QUEUED.setVolatile(this, false); // before it takes the bags: later seals may hand off another
                core.collectHandedOff(); // nothing once the core is closing: close() drains
            } else {
                core.reclamation().runNow(t.batch);
            }
        } finally {
            try {
                if (level != null) core.endCollecting(level);
            } finally {
                finishClaimed(t, notify, here);
            }
        }
    }

    /** The end of {@link #runClaimed}: the task counted out and marked done. */
    private void finishClaimed(Task t, boolean notify, int[] here) {
        here[0]--;
        waiting.addAndGet(-t.size);
        t.setStateRelease(DONE); // a waiter's acquire read of DONE sees the actions' effects
        outstanding.remove(t);
        if (notify && core.stateOpaque() != Lifecycle.OPEN) core.closing().leftWhileClosing();
    }

    /**
     * flush(): runs every task not started yet on this thread, and with {@code wait}, waits for those other threads
     * are running (not when this thread is itself running a task: two actions that flush on two executor threads
     * would wait for each other).
     *
     * @param g the flushing thread's guard
     * @param wait whether to wait for tasks that other threads are running (the caller is outside its guards)
     */
    void help(ThreadGuard g, boolean wait) {
        boolean mayWait = wait && RUNNING_HERE.get()[0] == 0;
        // A collection run or waited for in the first pass may have handed off batches the pass did not see (the set's
        // iteration is weakly consistent): a second pass finds them, entered before the collection's task was DONE.
        if (helpPass(g, mayWait)) helpPass(g, mayWait);
    }

    /**
     * flush(), outside guards, before its own collection: runs here every collection task not started yet and waits
     * for those other threads are running. A collection task that took sealed bags before the flush's collection
     * looked hands off the batches it finds due, or puts back the bags it does not run, at any moment until it is
     * DONE; the flush's walk of {@link #outstanding} may pass a batch's bucket before the task enters it, and no
     * longer meet the task, if it ends during the walk. Once this returns, every bag sealed before it is in the store
     * (for the flush's collection) or its batches are in {@link #outstanding} (for {@link #help}): each task's
     * hand-offs precede its release store of DONE, read here with acquire semantics. Not called from an action on the
     * executor (it would wait for a task of its own thread's executor).
     *
     * @param g the flushing thread's guard
     */
    void settleCollections(ThreadGuard g) {
        if (RUNNING_HERE.get()[0] != 0) return;
        for (Task t : outstanding) {
            if (!t.isCollection()) continue;
            if (t.casState(QUEUED, RUNNING)) runClaimed(t, false);
            else awaitNotRunning(t, g);
        }
    }

    /** Waits while another thread runs {@code t} (an action may wait for a grace period this thread holds back). */
    private void awaitNotRunning(Task t, ThreadGuard g) {
        if (t.stateAcquire() != RUNNING) return;
        Backoff b = new Backoff();
        do {
            core.policy.waiting(g);
            b.pause(Long.MAX_VALUE);
        } while (t.stateAcquire() == RUNNING);
        b.done();
    }

    /** One pass of {@link #help}; returns whether it ran or waited for a collection task. */
    private boolean helpPass(ThreadGuard g, boolean mayWait) {
        boolean collections = false;
        for (Task t : outstanding) {
            if (t.casState(QUEUED, RUNNING)) {
                runClaimed(t, false);
                collections |= t.isCollection();
            } else if (mayWait && t.stateAcquire() == RUNNING) {
                awaitNotRunning(t, g);
                collections |= t.isCollection();
            }
        }
        return collections;
    }

    /**
     * close(): takes every task not started yet (KEPT, for {@link #runKept}) and waits until the deadline for those
     * that other threads are running. Called when no task can be handed off any more.
     *
     * @param deadline a {@link System#nanoTime()} value
     * @param backoff how to wait
     * @return false if a task was still running at the deadline
     */
    boolean keep(long deadline, Backoff backoff) {
        for (Task t : outstanding) {
            while (true) {
                int s = t.stateAcquire();
                if (s == QUEUED && !t.casState(QUEUED, KEPT)) continue;
                if (s != RUNNING) break;
                if (System.nanoTime() - deadline > 0) return false;
                backoff.pause(deadline);
            }
        }
        return true;
    }

    /** close(): runs the tasks {@link #keep} took, with no other thread running reclaim actions. */
    void runKept() {
        for (Task t : outstanding) {
            if (t.stateAcquire() == KEPT) runClaimed(t, false);
        }
    }

    /** @return objects handed off whose actions have not run yet */
    long waiting() {
        return waiting.get();
    }

    /** @return batches the executor refused */
    long refused() {
        return refused.sum();
    }

    private static final VarHandle STATE;
    private static final VarHandle COLLECT_QUEUED;
    private static final VarHandle MISSES;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Task.class, "state", int.class);
            COLLECT_QUEUED = MethodHandles.lookup().findVarHandle(HandOff.class, "collectQueued", boolean.class);
            MISSES = MethodHandles.lookup().findVarHandle(HandOff.class, "misses", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
