package reclaim.impl.core;

import java.lang.ref.Reference;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;

/**
 * A thread's registration: its reserved participant, usable from that thread only. It keeps the reclaimer the user
 * holds reachable while it is alive.
 */
final class CoreRegistration implements Registration {
    private final ThreadGuard guard;
    private final Participant participant;
    private final Reclaimer handle;
    private boolean closed;

    CoreRegistration(ThreadGuard guard, Participant participant, Reclaimer handle) {
        this.guard = guard;
        this.participant = participant;
        this.handle = handle;
    }

    private void check(String what) {
        if (!guard.ownedByCaller()) throw guard.wrongThread();
        if (closed || guard.registered != participant) {
            throw new IllegalStateException(what + "() after the registration was closed");
        }
        if (guard.depth() != 0) throw new IllegalStateException(what + "() inside a guard: close the guard first");
    }

    @Override
    public Guard enter() {
        ThreadGuard g = guard;
        if (!g.ownedByCaller()) throw g.wrongThread();
        if (closed || g.registered != participant) throw new IllegalStateException("enter() after the registration was closed");
        try {
            return g.core.enter(g);
        } finally {
            Reference.reachabilityFence(handle);
        }
    }

    @Override
    public void quiescent() {
        check("quiescent");
        try {
            guard.core.policy.quiescent(guard);
        } finally {
            Reference.reachabilityFence(handle);
        }
    }

    @Override
    public void offline() {
        check("offline");
        try {
            guard.core.policy.offline(guard);
        } finally {
            Reference.reachabilityFence(handle);
        }
    }

    @Override
    public void online() {
        check("online");
        // Refused once the reclaimer is closed (or closing), whatever the scheme, as the API says: QSBR's own online
        // refuses it too when it brings the thread back; the other schemes have nothing to bring back.
        if (guard.core.stateOpaque() != Lifecycle.OPEN) throw guard.core.refused();
        try {
            guard.core.policy.online(guard);
        } finally {
            Reference.reachabilityFence(handle);
        }
    }

    @Override
    public void close() {
        if (!guard.ownedByCaller()) throw guard.wrongThread();
        if (closed) return;
        try {
            guard.core.deregister(guard, participant);
        } finally {
            Reference.reachabilityFence(handle);
        }
        closed = true;
    }

    @Override
    public String toString() {
        return "Registration[" + guard.threadRef.name() + ", " + guard.core.name + "]";
    }
}
