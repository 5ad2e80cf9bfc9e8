package reclaim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Method;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The mechanism under the asymmetric barrier strategy, alone: store buffering (Dekker's pattern) where the reader's
 * side has no fence at all, only an opaque store followed by a volatile load, and the reclaimer's side is a volatile
 * store, {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)}, and a load.
 *
 * <pre>
 *   reader                         reclaimer
 *   x = 1   (opaque: announce)     y = 1          (volatile: unlink)
 *   r1 = y  (volatile: a link)     membarrier()   (heavy side)
 *                                  r2 = x         (volatile: scan)
 * </pre>
 *
 * {@code 0, 0} would mean the reclaimer missed the announcement and the reader missed the unlink: a reclaimed object
 * in the reader's hands. It is forbidden by the barrier (every CPU running the reader runs a full barrier during the
 * call) and by the JIT keeping the reader's store before its load (see {@code reclaim.impl.core.Barrier}). Without
 * the call the outcome is common on x86-64 (store buffering); the scheme-level tests cannot show the difference,
 * since their writers take microseconds between the unlink and the scan. {@code membarrier} is reached through
 * reflection: it is internal to {@code reclaim.impl}, and this jar runs on the class path. Where it is unavailable
 * the test fails in its setup, naming why.
 */
@JCStressTest
@Outcome(id = "0, 0", expect = FORBIDDEN, desc = "the reclaimer missed the announcement and the reader missed the unlink")
@Outcome(expect = ACCEPTABLE, desc = "one side saw the other's store")
@State
public class MembarrierStoreBufferingTest {
    private static final MethodHandle MEMBARRIER = membarrier();

    int announced;
    int unlinked;

    @Actor
    public void reader(II_Result r) {
        ANNOUNCED.setOpaque(this, 1);
        r.r1 = (int) UNLINKED.getVolatile(this);
    }

    @Actor
    public void reclaimer(II_Result r) {
        UNLINKED.setVolatile(this, 1);
        heavy();
        r.r2 = (int) ANNOUNCED.getVolatile(this);
    }

    private static void heavy() {
        try {
            MEMBARRIER.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MethodHandle membarrier() {
        try {
            Class<?> c = Class.forName("reclaim.impl.core.Membarrier");
            Method why = c.getDeclaredMethod("unavailableReason");
            why.setAccessible(true);
            Object reason = why.invoke(null);
            if (reason != null) throw new IllegalStateException("membarrier is unavailable: " + reason);
            Method run = c.getDeclaredMethod("run");
            run.setAccessible(true);
            return MethodHandles.lookup().unreflect(run).asType(MethodType.methodType(void.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final VarHandle ANNOUNCED;
    private static final VarHandle UNLINKED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            ANNOUNCED = l.findVarHandle(MembarrierStoreBufferingTest.class, "announced", int.class);
            UNLINKED = l.findVarHandle(MembarrierStoreBufferingTest.class, "unlinked", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
