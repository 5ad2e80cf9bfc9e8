package reclaim.impl.common;

import reclaim.api.Guard;
import reclaim.api.Registration;

/** An explicit registration: the thread keeps its reserved record between guards. */
final class AnnouncingRegistration implements Registration {
    private final AnnouncingGuard guard;
    private final AnnouncementRecord record;
    /** Set by close() on the owning thread (the only thread that may use the registration). */
    private boolean closed;

    AnnouncingRegistration(AnnouncingGuard guard, AnnouncementRecord record) {
        this.guard = guard;
        this.record = record;
    }

    /** Checks that the call comes from the registered thread, outside any guard, while registered. */
    private void check(String what) {
        if (guard.thread != Thread.currentThread()) throw Checks.wrongThread(guard.thread);
        if (closed || guard.registered != record) throw new IllegalStateException(what + "() after the registration was closed");
        if (guard.depth != 0) throw new IllegalStateException(what + "() inside a guard: close the guard first");
    }

    @Override
    public Guard enter() {
        AnnouncingGuard g = guard;
        if (g.thread != Thread.currentThread()) throw Checks.wrongThread(g.thread);
        if (closed || g.registered != record) throw new IllegalStateException("enter() after the registration was closed");
        return g.reclaimer.enter(g);
    }

    @Override
    public void quiescent() {
        check("quiescent");
        guard.reclaimer.quiescent(guard);
    }

    @Override
    public void offline() {
        check("offline");
        guard.reclaimer.offline(guard);
    }

    @Override
    public void online() {
        check("online");
        guard.reclaimer.online(guard);
    }

    @Override
    public void close() {
        if (guard.thread != Thread.currentThread()) throw Checks.wrongThread(guard.thread);
        if (closed) return;
        guard.reclaimer.deregister(guard, record);
        closed = true;
    }

    @Override
    public String toString() {
        return "Registration[" + guard.thread.getName() + ", " + guard.reclaimer.scheme().name() + "]";
    }
}
