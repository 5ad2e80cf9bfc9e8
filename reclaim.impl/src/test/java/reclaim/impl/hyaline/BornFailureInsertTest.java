package reclaim.impl.hyaline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import reclaim.api.Born;
import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * An insertion that fails on user code (a {@link Born#birthEra()} that throws, read to find the batch's oldest
 * object) loses nothing: the batch it was inserting is reclaimed by a later collection or by close().
 */
class BornFailureInsertTest {
    static final class B implements Born {
        final AtomicBoolean armed;

        B(AtomicBoolean armed) {
            this.armed = armed;
        }

        @Override
        public long birthEra() {
            if (armed.compareAndSet(true, false)) throw new IllegalStateException("injected: birthEra() failed");
            return 1;
        }
    }

    @Test
    void aBirthEraThatThrowsDuringInsertionLosesNoObject() {
        for (String name : new String[] {"hyaline", "crystalline"}) {
            AtomicInteger ran = new AtomicInteger();
            AtomicBoolean armed = new AtomicBoolean();
            Reclaimer r = Reclaimer.create(Scheme.named(name));
            try {
                for (int i = 0; i < 3; i++) r.retire(new B(armed), b -> ran.incrementAndGet());
                armed.set(true);
                try {
                    r.flush();
                } catch (IllegalStateException expected) {
                    // the injected failure
                }
                r.flush();
            } finally {
                r.close();
            }
            assertEquals(3, ran.get(), name + ": actions run after close(): " + r.stats());
        }
    }
}
