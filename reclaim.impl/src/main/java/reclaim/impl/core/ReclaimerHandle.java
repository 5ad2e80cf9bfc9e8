package reclaim.impl.core;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.Options;
import reclaim.api.OwnedGuard;
import reclaim.api.Reclaimer;
import reclaim.api.Registration;
import reclaim.api.Scheme;
import reclaim.api.Stats;

/**
 * The {@link Reclaimer} a user holds: finds the calling thread's guard (its superclass, {@link GuardLookup}) and calls the
 * {@link Core}. Nothing the core or the threads' guards refer to leads back here (a guard refers to it weakly), so
 * a reclaimer dropped without {@code close()} becomes unreachable however many threads used it; a {@link Cleaner}
 * then closes the core ({@link Core#abandon()}): at once, on the cleaner's thread, if no guard of it is open, else
 * when the last open guard closes, on that guard's thread. Its participants and guards are collected after.
 *
 * <p>Every method that calls into the core keeps this object reachable until the call returns
 * ({@link Reference#reachabilityFence}), so the cleaner never runs beside a call in progress (a guard's own calls
 * excepted: see above); a live registration keeps it reachable too. {@link #enter()} is the exception, kept as short
 * as it can be: an enter that the cleaner's close races is ordered against it as against any {@code close()} (it
 * refuses and retries the abandoned close, or the close refuses and the guard finishes it when it closes).
 *
 * <p>In checked mode ({@link Options#checked()}) the user holds a {@link CheckedReclaimerHandle} instead.
 */
public sealed class ReclaimerHandle extends GuardLookup implements Reclaimer permits CheckedReclaimerHandle {
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "reclaim-cleaner");
        t.setDaemon(true);
        return t;
    });

    ReclaimerHandle(Core core) {
        super(core);
        CLEANER.register(this, new Abandon(core));
    }

    /**
     * Creates a reclaimer running {@code policy}.
     *
     * @param scheme the scheme record
     * @param policy a new policy of that scheme
     * @param options the settings for any scheme
     * @return the reclaimer
     */
    public static Reclaimer create(Scheme scheme, Policy policy, Options options) {
        Core core = new Core(scheme, policy, options);
        return options.checked() ? new CheckedReclaimerHandle(core) : new ReclaimerHandle(core);
    }

    /**
     * Returns the core behind a reclaimer of this implementation (for tests and the scheme packages).
     *
     * @param r a reclaimer created by {@link #create}
     * @return its core
     */
    public static Core coreOf(Reclaimer r) {
        return ((ReclaimerHandle) r).core;
    }

    /** What the cleaner runs: refers to the core only. */
    private record Abandon(Core core) implements Runnable {
        @Override
        public void run() {
            core.abandon();
        }
    }

    @Override
    public Guard enter() {
        return core.enter(guard());
    }

    @Override
    public OwnedGuard enterOwned() {
        try {
            return OwnedGuardImpl.open(core, handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public <T> void retire(T object, Consumer<? super T> action) {
        try {
            core.retire(guard(), object, action);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public void flush() {
        try {
            core.flush(guard());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public Registration register() {
        try {
            return core.register(guard(), this);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public Stats stats() {
        try {
            return core.stats();
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public long era() {
        try {
            return core.policy.era();
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public long pendingBound() {
        try {
            return core.pendingBound();
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public void synchronize() {
        try {
            core.synchronize(guard(), Long.MAX_VALUE);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public boolean synchronize(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException tooLong) { // about 292 years or more: as good as no limit
            nanos = timeout.isNegative() ? 0 : Long.MAX_VALUE;
        }
        try {
            return core.synchronize(guard(), nanos);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public Scheme scheme() {
        return core.scheme;
    }

    @Override
    public boolean isClosed() {
        return core.isClosed();
    }

    @Override
    public void close() {
        try {
            core.close();
            // The thread-local guards of other threads stay until those threads touch their maps again; drop ours
            // and the cache, so that no guard of a closed core is found through this reclaimer.
            clear();
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public String toString() {
        return core.toString();
    }
}
