package reclaim.api;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A critical section: while a guard is open, every object read through it with {@code protect} stays
 * unreclaimed.
 *
 * <p>Open one with {@link Reclaimer#enter()} and close it with try-with-resources. Guards nest: an {@code enter()}
 * inside an open guard on the same thread returns a guard whose {@code close()} only ends the inner section (the
 * built-in schemes count 8,388,607 levels on a thread, {@code 2^23 - 1}; an {@code enter()} or {@link #nest()} beyond
 * that throws {@link IllegalStateException} and changes nothing). A guard belongs to the thread that opened it: use
 * it and close it on that thread (a virtual thread may block and move to another carrier inside a guard; it is still
 * the same thread). Code whose critical section hops threads opens an {@link OwnedGuard} with
 * {@link Reclaimer#enterOwned()} instead: it belongs to no thread, does not nest, and costs more.
 * Do not block inside a guard for long: under EBR and QSBR a guard that stays open stops reclamation for
 * everyone (the stall is reported in {@link Stats#stalled()}); the robust schemes bound the damage.
 *
 * <h2>Memory consistency effects</h2>
 * Every {@code protect} performs a load with at least acquire semantics (volatile for
 * {@link AtomicReference}); actions in a thread before it retires an object happen-before the object's
 * reclaim action runs, and the reads of every guard that could have loaded the object happen-before it too.
 * Data structures read their shared links only through {@code protect} and unlink with a CAS or a volatile
 * write.
 *
 * <h2>Misuse</h2>
 * A guard used after it was closed, or from another thread, throws {@link IllegalStateException}; so does
 * closing it twice ({@link OwnedGuard} says what "another thread" means for a guard that may move). A guard
 * reused by its own thread after an inner {@code close()} is indistinguishable from the outer one still open
 * (guards are reused to keep {@code enter()} allocation-free).
 *
 * <p>Wrong-thread use throws {@link IllegalStateException}, not {@code WrongThreadException} (JDK 19+, which
 * extends {@link RuntimeException} only): a deliberate choice. Every misuse of a guard or a reclaimer (closed,
 * wrong thread, closed twice) is one exception type, which callers and the conformance suite
 * ({@code reclaim.tck}) catch and every provider can throw the same way; the message names the misuse.
 * {@link Registration} follows the same rule.
 */
public interface Guard extends AutoCloseable {

    /**
     * The number of slots every scheme accepts in {@link #protect(AtomicReference, int)}: slots
     * {@code 0 .. MIN_SLOTS - 1} are always valid; a scheme may accept more ({@link #slots()}).
     */
    int MIN_SLOTS = 4;

    /**
     * Reads {@code ref} and protects the value read until this guard closes.
     *
     * @param <T> the referent's type
     * @param ref the shared reference
     * @return the value read, safe to use until this guard closes (may be null)
     * @throws NullPointerException if {@code ref} is null
     * @throws IllegalStateException if this guard is closed or used from another thread
     */
    <T> T protect(AtomicReference<T> ref);

    /**
     * Reads {@code ref} and protects the value read in slot {@code slot}, releasing what that slot held
     * before (in this guard, or in a guard nested at the same depth that closed: see {@link #close()}). A
     * hand-over-hand traversal written with two or three slots keeps a constant number of hazards
     * under hazard pointers; schemes without per-pointer slots keep everything protected until the guard
     * closes.
     *
     * @param <T> the referent's type
     * @param ref the shared reference
     * @param slot the slot, {@code 0 <= slot < slots()}
     * @return the value read (may be null)
     * @throws NullPointerException if {@code ref} is null
     * @throws IllegalArgumentException if {@code slot} is out of range
     * @throws IllegalStateException if this guard is closed or used from another thread
     */
    <T> T protect(AtomicReference<T> ref, int slot);

    /**
     * Reads the reference field {@code field} of {@code holder} (a {@link VarHandle} for an instance field,
     * as JCTools and {@code java.util.concurrent} write hot structures) with volatile semantics and protects
     * the value read until this guard closes.
     *
     * @param <T> the field's referent type
     * @param field a VarHandle for a reference-typed instance field, with one coordinate (the holder)
     * @param holder the object that holds the field
     * @return the value read (may be null)
     * @throws NullPointerException if {@code field} or {@code holder} is null
     * @throws IllegalStateException if this guard is closed or used from another thread
     * @throws ClassCastException if the handle's value is not of type {@code T} (at the caller's use)
     */
    <T> T protect(VarHandle field, Object holder);

    /**
     * As {@link #protect(VarHandle, Object)}, into slot {@code slot} (see {@link #protect(AtomicReference, int)}).
     *
     * @param <T> the field's referent type
     * @param field a VarHandle for a reference-typed instance field
     * @param holder the object that holds the field
     * @param slot the slot, {@code 0 <= slot < slots()}
     * @return the value read (may be null)
     * @throws NullPointerException if {@code field} or {@code holder} is null
     * @throws IllegalArgumentException if {@code slot} is out of range
     * @throws IllegalStateException if this guard is closed or used from another thread
     */
    <T> T protect(VarHandle field, Object holder, int slot);

    /**
     * Protects a {@code long} key read from shared memory (an off-heap address, a slot index) in slot
     * {@code slot}, with no allocation; the protocol is a loop the caller writes around its own read:
     * <pre>{@code
     * long a = (long) NEXT.getVolatile(segment, offset);   // read the key (volatile)
     * while (!guard.reserve(a, 0)) {                       // false: re-read and reserve again
     *     a = (long) NEXT.getVolatile(segment, offset);
     * }
     * // a's block stays unreclaimed until the slot takes another key (or a protect) or the guard closes
     * }</pre>
     * {@code reserve} returns {@code true} when the reservation already held covers {@code key} read before
     * the call, so the value is safe to use; {@code false} when it had to publish a new reservation, after
     * which the caller must read its source again (the value may have been unlinked and retired meanwhile)
     * and call again with what it read. Under hazard pointers the reservation is the key itself, matched
     * against retired {@link Keyed} objects; under robust Hyaline and Crystalline it is the current era;
     * EBR and QSBR protect everything the guard reads and always return {@code true}. The loop ends as soon
     * as two reads agree (hazard pointers) or the era holds still between them.
     *
     * <p>The reads of the key must be volatile ({@code getVolatile}): hazard pointers order their
     * reservation before the re-read with a store&ndash;load fence that only a volatile read pairs with.
     * Slots are shared with {@link #protect(AtomicReference, int)}: a slot holds one protection at a time, so
     * reserving a key in slot {@code s} may release the reference protected in slot {@code s} (Crystalline
     * does; hazard pointers happen to keep them apart), and the other way round; use distinct slots for what
     * must stay protected together. Between the read of the key and the {@code reserve} that validates it,
     * use slot {@code s} for nothing else. Reserving {@code 0} (no key: a null link) protects nothing, needs no
     * re-read and releases nothing: the slot keeps the protection it held, so a loop that reads a null link in the
     * slot it stands on still holds what it read there before.
     *
     * @param key the key read, as the reclaimer will see it in {@link Keyed#key()}; {@code 0} for none
     * @param slot the slot, {@code 0 <= slot < slots()}
     * @return {@code true} if {@code key} is protected (use it), {@code false} if the caller must re-read
     * @throws IllegalArgumentException if {@code slot} is out of range
     * @throws IllegalStateException if this guard is closed or used from another thread
     */
    boolean reserve(long key, int slot);

    /**
     * Retires an object that has been unlinked (no new reader can reach it): {@code action} runs on it
     * exactly once, after every guard that could have loaded it, this one included, has closed. To keep
     * using the object until this guard closes, it must have been read through this guard's {@code protect}
     * (or its key validated by {@code reserve}): under hazard pointers and the robust schemes (Hyaline,
     * Crystalline) a guard holds only what it protected, so an object it never protected may be reclaimed while
     * it is still open.
     *
     * <p>Retiring an object again before its action has started is undefined (the action may run twice), unless
     * the reclaimer is in checked mode ({@link Options#checked()}), which refuses it.
     *
     * @param <T> the object's type
     * @param object the unlinked object; if it is {@link Born}, robust schemes use its birth era
     * @param action the reclaim action (free, close, return to a pool); if it throws, the failure is
     *     contained, counted in {@link Stats#failed()} and reported, and other actions still run
     * @throws NullPointerException if {@code object} or {@code action} is null
     * @throws IllegalStateException if this guard is closed or used from another thread, or the reclaimer
     *     is closed; in checked mode also if {@code object} is retired and its action has not started, or if
     *     this guard read {@code object} with {@code protect} and every source it read it from still holds it
     *     (see {@link Options}); a refused retire retires nothing
     */
    <T> void retire(T object, Consumer<? super T> action);

    /**
     * Returns the number of slots {@link #protect(AtomicReference, int)} accepts; at least {@link #MIN_SLOTS}.
     *
     * @return the number of slots
     */
    int slots();

    /**
     * Returns the reclaimer this guard belongs to. A guard does not keep its reclaimer reachable: if the code that
     * created the reclaimer dropped it without closing it and it was collected, this returns null.
     *
     * @return the reclaimer, or null (see above)
     */
    Reclaimer reclaimer();

    /**
     * Opens a guard nested in this one: the same as {@link Reclaimer#enter()} on this guard's reclaimer, called on
     * the calling thread while this guard is open, for code that holds an open guard and opens many short nested
     * ones (a guard-scoped view that runs each operation in a guard of its own). A thread's built-in guards are one
     * object whatever the nesting, so the built-in schemes return this guard with its nesting one deeper, without
     * looking up the thread's guard as {@code enter()} does. Close the nested guard before this one, on the same
     * thread.
     *
     * <p>An {@link OwnedGuard} does not nest: its {@code nest()} opens the calling thread's guard, as {@code enter()}
     * does. The default implementation calls {@code reclaimer().enter()}, and cannot tell whether this guard is open:
     * a provider overrides it (every built-in scheme does).
     *
     * @return the nested guard
     * @throws IllegalStateException if this guard is closed or belongs to another thread, or (the built-in schemes)
     *     if the thread's guards are nested 8,388,607 deep already
     */
    default Guard nest() {
        Reclaimer r = reclaimer();
        if (r == null) throw new IllegalStateException("the reclaimer of this guard was dropped without close()");
        return r.enter();
    }

    /**
     * Lets reclamation move past this guard without closing it (crossbeam's {@code Guard::repin}, seize's
     * {@code Guard::refresh}): the same as closing the guard and opening it again at once, on the same object. A
     * reader that walks a large structure (a whole map, a long list) under one guard calls it every so many steps,
     * at a point where it holds nothing it read so far, so that under EBR and QSBR it does not hold back
     * everyone's garbage for the length of its walk, and under the other schemes it does not keep the batches
     * retired meanwhile.
     *
     * <p><b>What it protected before is no longer protected.</b> Every object returned by {@code protect} or
     * covered by {@code reserve} before the call may be reclaimed as soon as it returns, exactly as if the guard
     * had closed: after it, read again from a root, or from something the structure keeps reachable by other means
     * (a key to find the position again). Protections taken after the call hold as usual. Slots are released too.
     *
     * <p>Only the outermost guard refreshes (an {@link OwnedGuard}, which never nests, always does, on whichever thread
     * holds it). Inside a nested guard it does nothing and returns {@code false}: the
     * enclosing guards still protect what they read, and a refresh would take that away from code that cannot
     * know it (as crossbeam and seize do, it keeps nesting composable; a library loop may call it without knowing
     * whether its caller holds a guard). The caller still must not rely on what it protected before the call.
     * It also returns {@code false}, doing nothing, once the reclaimer has started closing; if the reclaimer
     * starts closing during the call, it throws {@link IllegalStateException} and the guard is closed.
     *
     * <p>What a refresh costs is what closing and opening a guard costs, and it may run reclaim actions as a
     * close does (those that became due while the guard was open, unless the reclaimer hands them to an
     * {@linkplain Options#withActionExecutor executor}). Under QSBR it is a quiescent state of the thread.
     *
     * <p><b>Memory consistency effects:</b> as a {@link #close()} followed by an {@link Reclaimer#enter()}: reads
     * made through this guard before the call happen-before the reclaim actions of objects retired after them; a
     * {@link Reclaimer#synchronize()} that was waiting for this guard may return.
     *
     * <p>The default implementation, for providers that cannot refresh, does nothing and returns {@code false}:
     * keeping everything protected is always safe. Every built-in scheme refreshes.
     *
     * @return {@code true} if the guard was refreshed; {@code false} if nothing changed (a nested guard, a
     *     reclaimer that is closing, or a provider that cannot refresh)
     * @throws IllegalStateException if this guard is closed or used from another thread, or the reclaimer started
     *     closing during the call (the guard is then closed)
     */
    default boolean refresh() {
        return false;
    }

    /**
     * Ends this critical section (the innermost, when guards nest). What was protected may be reclaimed
     * once every enclosing guard has closed too, with one exception, under schemes that protect per slot (hazard
     * pointers, Crystalline): a nested guard's slots are those of its nesting depth, and the next guard opened at
     * that depth inside the same enclosing guard takes them over, so that a guard nested per operation costs no
     * more than its own protects. Using slot {@code s} there ({@link #protect(AtomicReference, int)},
     * {@link #reserve}) may release what slot {@code s} held in the guard that closed, as it would in one guard.
     * What a nested guard protected without a slot ({@link #protect(AtomicReference)}) stays protected until the
     * outermost guard closes.
     *
     * @throws IllegalStateException if the guard is already closed or is closed from another thread
     */
    @Override
    void close();
}
