package reclaim.impl.core;

import java.lang.ref.Reference;
import java.util.List;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.Registration;

/**
 * The reclaimer a user holds in checked mode ({@link reclaim.api.Options#checked()}). The core refuses a second
 * retire of an object not yet reclaimed, whatever the handle ({@link RetireCheck}); this handle adds what needs the
 * guard's view: its guards, and those of its registrations, are {@link CheckedGuard}s, which refuse a retire of an
 * object still held where the guard read it. An unchecked reclaimer is a plain {@link ReclaimerHandle}, whose
 * {@code enter()} returns the thread's guard itself: checked mode costs it nothing.
 */
final class CheckedReclaimerHandle extends ReclaimerHandle {

    CheckedReclaimerHandle(Core core) {
        super(core);
    }

    @Override
    public Guard enter() {
        ThreadGuard g = guard();
        core.enter(g);
        return CheckedGuard.of(g);
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        try {
            ThreadGuard g = guard();
            CheckedGuard view = g.checked;
            // Inside the thread's guard, a retire through the reclaimer is checked like one through the guard.
            if (view != null && object != null && action != null && g.depth() != 0) view.checkUnlinked(object);
            core.retire(g, object, action);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public Registration register() {
        try {
            ThreadGuard g = guard();
            return new Checked(core.register(g, this), g);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public List<String> pendingAtClose() {
        return core.check.pendingAtClose();
    }

    /** A registration whose guards are checked views. */
    private record Checked(Registration registration, ThreadGuard guard) implements Registration {
        @Override
        public Guard enter() {
            registration.enter();
            return CheckedGuard.of(guard);
        }

        @Override
        public void quiescent() {
            registration.quiescent();
        }

        @Override
        public void offline() {
            registration.offline();
        }

        @Override
        public void online() {
            registration.online();
        }

        @Override
        public void close() {
            registration.close();
        }

        @Override
        public String toString() {
            return registration + " (checked)";
        }
    }
}
