package reclaim.impl.ebr;

import reclaim.api.Registration;
import reclaim.impl.common.Checks;

/** An explicit registration: the thread keeps its record between guards (state HELD). */
final class EbrRegistration implements Registration {
    private final EbrGuard guard;
    private final EbrRecord record;

    EbrRegistration(EbrGuard guard, EbrRecord record) {
        this.guard = guard;
        this.record = record;
    }

    @Override
    public void close() {
        if (guard.thread != Thread.currentThread()) throw Checks.wrongThread(guard.thread);
        guard.reclaimer.deregister(guard, record);
    }

    @Override
    public String toString() {
        return "Registration[" + guard.thread.getName() + ", " + guard.reclaimer.scheme().name() + "]";
    }
}
