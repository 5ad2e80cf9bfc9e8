package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import reclaim.api.Atom;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * {@link Atom} says "A call refused because the cell or its reclaimer is closed changes nothing" and "A writer retires
 * the value it replaced inside a guard of its own (or the caller's), so the reclaimer cannot finish closing between the
 * exchange and the retire", and what it does should a reclaimer break that: a platform thread's outermost enter on its
 * sticky participant once read the state OPEN and only then stored its open word, so a close() that ran between the
 * two closed the participant and completed (the enter now stores first and then reads the state: {@link Participant}).
 * The writer's exchange then succeeded and its retire threw: the value it replaced was out of the cell and never
 * reclaimed. Atom keeps its defence, and this test keeps it checked on that interleaving.
 *
 * <p>The interleaving is reproduced deterministically: the thread's guard is opened, its open word is cleared (the
 * store the enter has not made yet when close() reads it), another thread closes the reclaimer, the word is set back
 * (the enter's store lands). For store() and close() the cell is given a view of the reclaimer whose first enter()
 * does exactly that, so that the cell's own enter is the one close() misses; swap() runs in such a guard of the
 * caller's.
 */
class AtomWriterInAGuardThatCloseMissedTest {

    /** A resource that counts its reclaim actions. */
    static final class Res {
        final AtomicInteger closes = new AtomicInteger();

        void close() {
            closes.incrementAndGet();
        }
    }

    /** Opens the outermost guard that close() misses: its enter, then a close() that completes, then its open word. */
    private static ThreadGuard enterMissedByClose(Reclaimer r) throws InterruptedException {
        ThreadGuard g = (ThreadGuard) r.enter(); // the outermost enter: it read OPEN
        long word = g.openAcquire();
        assertTrue(word != 0, "a sticky participant's guard sets its open word");
        g.setOpenRelease(0); // ... and has not stored its open word yet when close() reads it
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().name("closer").start(() -> {
            try {
                r.close();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        closer.join();
        assertEquals(null, failure.get(), "close() missed the guard and completed");
        assertTrue(r.isClosed());
        g.setOpenRelease(word); // the enter's store lands: the guard is open
        return g;
    }

    /** {@code r} itself, except that its first enter() is one that a close() on another thread misses. */
    private static Reclaimer firstEnterMissedByClose(Reclaimer r) {
        AtomicBoolean first = new AtomicBoolean(true);
        return (Reclaimer) Proxy.newProxyInstance(Reclaimer.class.getClassLoader(), new Class<?>[] {Reclaimer.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("enter") && method.getParameterCount() == 0 && first.getAndSet(false)) {
                        return enterMissedByClose(r);
                    }
                    try {
                        return method.invoke(r, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** store() either is refused and leaves the old value in the cell, or replaces it and retires it: never loses it. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hp", "crystalline", "ebr"})
    void aStoreWhoseGuardCloseMissedLosesNoValue(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Res old = new Res();
        Res next = new Res();
        Atom<Res> atom = new Atom<>(firstEnterMissedByClose(r), old, Res::close);
        Throwable thrown = null;
        try {
            atom.store(next);
        } catch (IllegalStateException refused) {
            thrown = refused;
        }
        assertTrue(r.isClosed());
        atom.close(); // the reclaimer is closed: runs the action of whatever the cell holds, at once
        assertEquals(1, old.closes.get(), "the value store() replaced (store() " + (thrown == null ? "returned"
                + " normally" : "threw " + thrown) + ") was reclaimed " + old.closes.get() + " times, and the"
                + " value the caller still owns" + (thrown == null ? "" : " after the refusal") + " was reclaimed "
                + next.closes.get() + " times");
    }

    /** close() of the cell either is refused and keeps the value, or reclaims it: it must not return having lost it. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hp", "crystalline", "ebr"})
    void aCellClosedInAGuardCloseMissedLosesNoValue(String scheme) {
        Reclaimer r = Reclaimer.create(scheme);
        Res held = new Res();
        Atom<Res> atom = new Atom<>(firstEnterMissedByClose(r), held, Res::close);
        Throwable thrown = null;
        try {
            atom.close();
        } catch (IllegalStateException refused) {
            thrown = refused;
        }
        assertTrue(r.isClosed());
        if (thrown != null) atom.close(); // refused: closed again once the reclaimer closed
        assertEquals(1, held.closes.get(), "the cell's value was reclaimed " + held.closes.get() + " times (the first"
                + " close() " + (thrown == null ? "returned normally" : "threw " + thrown) + ")");
    }

    /** swap() in the caller's guard: a refused swap leaves the cell as it was; an accepted one retires the old value. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hp", "crystalline", "ebr"})
    void aSwapInAGuardCloseMissedLosesNoValue(String scheme) throws InterruptedException {
        Reclaimer r = Reclaimer.create(scheme);
        Res old = new Res();
        Res next = new Res();
        Atom<Res> atom = new Atom<>(r, old, Res::close);
        Throwable thrown = null;
        try (Guard g = enterMissedByClose(r)) {
            atom.swap(g, next);
        } catch (IllegalStateException refused) {
            thrown = refused;
        }
        atom.close(); // the reclaimer is closed: runs the action of whatever the cell holds, at once
        assertEquals(1, old.closes.get(), "the value swap() replaced (swap() " + (thrown == null ? "returned"
                + " normally" : "threw " + thrown) + ") was reclaimed " + old.closes.get() + " times");
    }

    /** compareAndSet() and update(), each with its own guard: refused without a change, or the old value retired. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hp", "crystalline", "ebr"})
    void aCompareAndSetOrUpdateWhoseGuardCloseMissedLosesNoValue(String scheme) {
        StringBuilder lost = new StringBuilder();
        for (String op : new String[] {"compareAndSet", "update"}) {
            Reclaimer r = Reclaimer.create(scheme);
            Res old = new Res();
            Res next = new Res();
            Atom<Res> atom = new Atom<>(firstEnterMissedByClose(r), old, Res::close);
            Throwable thrown = null;
            try {
                if (op.equals("compareAndSet")) atom.compareAndSet(old, next);
                else atom.update(current -> next);
            } catch (IllegalStateException refused) {
                thrown = refused;
            }
            atom.close();
            if (old.closes.get() != 1) {
                lost.append(op).append("() ").append(thrown == null ? "returned normally" : "threw " + thrown)
                        .append(": the value it replaced was reclaimed ").append(old.closes.get()).append(" times; ");
            }
        }
        assertEquals("", lost.toString());
    }
}
