package reclaim.api;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A safe cell: one shared value with a reclaim action, swapped by writers under readers.
 *
 * <p>It is how most users meet reclamation: hot-swapping a mapped file, a native handle, a configuration
 * that owns resources (kovan's {@code Atom}; Lucene's swap-and-close). Readers {@link #load} the value under
 * a guard, or {@link #read} it in one call; writers {@link #store}, {@link #swap}, {@link #compareAndSet} or
 * {@link #update} it. Every value that is replaced is retired with the cell's action, which runs exactly
 * once, after every reader that could have loaded it has closed its guard: a resource swapped under many
 * readers is closed once and never while read.
 *
 * <pre>{@code
 * Atom<MappedIndex> index = new Atom<>(reclaimer, MappedIndex.open(v1), MappedIndex::close);
 * try (Guard g = reclaimer.enter()) {
 *     MappedIndex current = index.load(g);     // usable until g closes
 *     current.lookup(key);
 * }
 * index.store(MappedIndex.open(v2));           // v1 is closed once no reader holds it
 * }</pre>
 *
 * <p>The value may be null (an empty cell); null values are never retired. Values are compared by identity: storing
 * the value the cell already holds replaces nothing, so it retires nothing (the value stays in the cell).
 * After {@link #close()} the current value is retired and the cell refuses further use.
 *
 * <p>A call refused because the cell or its reclaimer is closed changes nothing: the value stays in the cell and
 * the value offered stays the caller's. A writer retires the value it replaced inside a guard of its own (or the
 * caller's), so the reclaimer cannot finish closing between the exchange and the retire. (Should a reclaimer
 * implementation refuse that retire all the same, the writer puts the old value back and throws, as if refused
 * before; should another writer have changed the cell meanwhile, the old value's action runs at once if the
 * reclaimer has closed, and is lost if it is still closing.) Closing the cell after its reclaimer closed runs the
 * value's action at once: no reader can hold it any more (every guard has closed, and none can open).
 *
 * <h2>Memory consistency effects</h2>
 * Actions in a thread before it stores a value happen-before a reader's {@code load} that returns it, and
 * every replaced value's reclaim action happens-after the replacement and after every guard that loaded it.
 *
 * @param <T> the value's type
 */
public final class Atom<T> implements AutoCloseable {
    /*
     * Closing. close() swaps CLOSED into the cell, and every writer exchanges by CAS against the value it read, so a
     * writer that races close() either replaced the value before it (close() then retires the writer's value) or
     * finds CLOSED and refuses, its value still its own: nothing can be put into a closed cell. CLOSED never leaves
     * this class: readers that find it throw.
     */
    /** The cell's content once closed; typed T only inside this class, never returned. */
    private static final Object CLOSED = new Object() {
        @Override
        public String toString() {
            return "CLOSED";
        }
    };

    private final Reclaimer reclaimer;
    private final Consumer<? super T> action;
    private final AtomicReference<T> value;

    /**
     * Creates a cell holding {@code initial}.
     *
     * @param reclaimer the reclaimer that guards the readers
     * @param initial the first value, or null for an empty cell
     * @param action the reclaim action for every replaced value (often {@code AutoCloseable::close} wrapped)
     * @throws NullPointerException if {@code reclaimer} or {@code action} is null
     */
    public Atom(Reclaimer reclaimer, T initial, Consumer<? super T> action) {
        this.reclaimer = Objects.requireNonNull(reclaimer, "reclaimer");
        this.action = Objects.requireNonNull(action, "action");
        this.value = new AtomicReference<>(initial);
    }

    /**
     * Returns the current value, protected until {@code guard} closes.
     *
     * @param guard an open guard of this cell's reclaimer
     * @return the value (may be null)
     * @throws NullPointerException if {@code guard} is null
     * @throws IllegalArgumentException if the guard belongs to another reclaimer
     * @throws IllegalStateException if the guard is closed, or the cell is closed
     */
    public T load(Guard guard) {
        checkGuard(guard);
        return open(guard.protect(value));
    }

    /**
     * Applies {@code reader} to the current value inside a guard of its own and returns the result. The
     * value must not escape {@code reader}.
     *
     * @param <R> the result type
     * @param reader the function; it must not keep the value
     * @return what {@code reader} returned
     * @throws NullPointerException if {@code reader} is null
     * @throws IllegalStateException if the cell or the reclaimer is closed
     */
    public <R> R read(Function<? super T, ? extends R> reader) {
        Objects.requireNonNull(reader, "reader");
        try (Guard g = reclaimer.enter()) {
            return reader.apply(load(g));
        }
    }

    /**
     * Replaces the value; the old one is retired, unless it is {@code newValue} itself (then nothing changes).
     *
     * @param newValue the new value (may be null)
     * @throws IllegalStateException if the cell or the reclaimer is closed
     */
    public void store(T newValue) {
        checkOpen();
        try (Guard g = reclaimer.enter()) { // refused once the reclaimer is closed, before the cell changes
            while (true) {
                T old = open(value.get()); // only compared and retired: not dereferenced
                if (old == newValue) return; // the same value stays in the cell: retiring it would free it there
                if (value.compareAndSet(old, newValue)) {
                    if (old != null) retireReplaced(g, old, newValue);
                    return;
                }
            }
        }
    }

    /**
     * Replaces the value and returns the old one, protected until {@code guard} closes; the old value is
     * retired (its action runs after {@code guard} and every other reader have closed), unless it is
     * {@code newValue} itself (then nothing changes).
     *
     * @param guard an open guard of this cell's reclaimer, on the current thread
     * @param newValue the new value (may be null)
     * @return the previous value (may be null), usable until {@code guard} closes
     * @throws NullPointerException if {@code guard} is null
     * @throws IllegalStateException if the guard, the cell or the reclaimer is closed
     */
    public T swap(Guard guard, T newValue) {
        checkGuard(guard);
        while (true) {
            // Protect before the exchange: under hazard pointers a value taken with getAndSet would be
            // covered by no hazard, and could be reclaimed before this guard closes.
            T old = open(guard.protect(value));
            if (value.compareAndSet(old, newValue)) {
                if (old != null && old != newValue) retireReplaced(guard, old, newValue); // else it is still in the cell
                return old;
            }
        }
    }

    /**
     * Sets the value to {@code newValue} if it is {@code expected} (by identity); on success
     * {@code expected} is retired. With {@code expected == newValue} nothing can be replaced: the call only tells
     * whether the cell holds that value, and needs no guard of the reclaimer.
     *
     * @param expected the value expected (may be null)
     * @param newValue the new value (may be null)
     * @return whether the value was replaced (with {@code expected == newValue}: whether the cell holds it)
     * @throws IllegalStateException if the cell is closed, or the reclaimer is closed and
     *     {@code expected != newValue}
     */
    public boolean compareAndSet(T expected, T newValue) {
        checkOpen();
        if (expected == newValue) return open(value.get()) == expected; // replaces nothing: only reads the cell
        try (Guard g = reclaimer.enter()) { // refused once the reclaimer is closed, before the cell changes
            if (!value.compareAndSet(expected, newValue)) {
                open(value.get()); // a cell closed meanwhile refuses, as at the start
                return false;
            }
            if (expected != null) retireReplaced(g, expected, newValue);
            return true;
        }
    }

    /**
     * Read–copy–update: applies {@code updater} to the current value and installs the result, retrying on
     * contention; the replaced value is retired. {@code updater} may run several times: it must return a
     * fresh value (or the one it was given, which changes nothing); a fresh value that lost a race was never
     * visible to a reader and gets the cell's action at once, so a resource created for it is not leaked. That
     * action runs on the calling thread, not as a reclaim action of the reclaimer: if it throws, the exception
     * propagates from {@code update} (the cell keeps the value that won the race) and no {@link Stats} counts it.
     *
     * @param updater computes the new value from the current one (which it may read, not keep)
     * @return the value installed
     * @throws NullPointerException if {@code updater} is null
     * @throws IllegalStateException if the cell or the reclaimer is closed
     */
    public T update(UnaryOperator<T> updater) {
        Objects.requireNonNull(updater, "updater");
        while (true) {
            checkOpen();
            T next;
            try (Guard g = reclaimer.enter()) {
                T current = open(g.protect(value));
                next = updater.apply(current);
                if (next == current) return current;
                if (value.compareAndSet(current, next)) {
                    if (current != null) retireReplaced(g, current, next);
                    return next;
                }
            }
            if (next != null) action.accept(next); // lost the race: never published, reclaim it now
        }
    }

    /**
     * Returns the reclaimer that guards this cell's readers.
     *
     * @return the reclaimer
     */
    public Reclaimer reclaimer() {
        return reclaimer;
    }

    /**
     * Empties the cell and retires its value; further use throws {@link IllegalStateException}. Idempotent. If the
     * reclaimer has closed, the value's action runs at once, on the calling thread (no reader can hold it), not as a
     * reclaim action of the reclaimer: if it throws, the exception propagates (the cell is closed all the same) and
     * no {@link Stats} counts it.
     *
     * @throws IllegalStateException if the reclaimer is closing but has not closed (its {@code close()} was refused
     *     while guards are open) and the calling thread has no guard of it open (from {@link Reclaimer#enter()}; an
     *     {@link OwnedGuard} does not count): the cell stays open and holds its
     *     value; close it again once the reclaimer closed. (On a thread whose guard is open the value is retired as
     *     any retire there, see {@link Reclaimer}'s <em>Closing</em>, and the cell closes.)
     */
    @Override
    @SuppressWarnings("unchecked")
    public void close() {
        if (value.get() == CLOSED) return;
        if (!reclaimer.isClosed()) {
            try (Guard g = reclaimer.enter()) { // the retire below cannot be refused while this guard is open
                T old = value.getAndSet((T) CLOSED);
                if (old != null && old != CLOSED) retireReplaced(g, old, (T) CLOSED);
                return;
            } catch (IllegalStateException refused) {
                if (!reclaimer.isClosed()) throw refused; // closing: guards may still read the value
                // closed between the test and the enter: as below
            }
        }
        // Closed: every guard has closed and none can open, so no reader holds the value.
        T old = value.getAndSet((T) CLOSED);
        if (old != null && old != CLOSED) action.accept(old);
    }

    private void checkOpen() {
        open(value.get());
    }

    /**
     * Retires {@code old}, which this call took out of the cell by putting {@code put} there, in {@code g}. The retire is
     * refused only if the reclaimer closed while {@code g} was open, which its contract forbids (a {@code Reclaimer}
     * of another implementation, or a guard whose enter such a reclaimer missed): then the exchange is
     * undone if the cell still holds {@code put}, and the refusal thrown, as if it had come before the exchange; if the
     * cell changed meanwhile and the reclaimer has closed, the action runs at once (close() ran every action pending
     * when it closed, and no guard opened since counts); if it is still closing, the refusal is thrown and the value
     * is lost (see the class documentation).
     */
    private void retireReplaced(Guard g, T old, T put) {
        try {
            g.retire(old, action);
        } catch (IllegalStateException refused) {
            if (value.compareAndSet(put, old)) throw refused; // undone: the cell as before the call
            if (!reclaimer.isClosed()) throw refused;
            action.accept(old);
        }
    }

    /** Returns {@code v}, a value read from the cell, or throws if it is {@link #CLOSED}. */
    private T open(T v) {
        if (v == CLOSED) throw new IllegalStateException("this Atom is closed");
        return v;
    }

    private void checkGuard(Guard guard) {
        Objects.requireNonNull(guard, "guard");
        if (guard.reclaimer() != reclaimer) {
            throw new IllegalArgumentException("the guard belongs to another reclaimer than this Atom's");
        }
        checkOpen();
    }

    @Override
    public String toString() {
        return "Atom[" + (value.get() == CLOSED ? "closed" : "open") + ", " + reclaimer.scheme().name() + "]";
    }
}
