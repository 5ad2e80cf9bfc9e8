package reclaim.offheap.slots;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * A fixed number of fixed-size slots in one off-heap slab, handed out as {@code long} handles, with lock-free
 * allocation and free, lock-free reads, and slot reuse deferred by a {@link Reclaimer} until no reader can
 * still see the slot.
 *
 * <p>A slot memory manager of the classic shape (a Treiber free list with a tagged head, as in Treiber 1986,
 * and one read-write lock per slot) with one change that matters: readers take no lock. A read opens a guard
 * of the manager's reclaimer instead, and a freed slot goes back on the free list only when the reclaimer runs
 * its reclaim action, that is when no guard can still hold it. On the
 * JVM reclamation is needed here because the slots are recycled memory the garbage collector does not manage:
 * a slot reused under a reader would show the reader another message.
 *
 * <h2>Slots and handles</h2>
 * Each slot is a 16-byte header (the payload {@linkplain SlotHeader#length() length} and a user
 * {@linkplain SlotHeader#kind() kind} in one word, the slot's generation, and a write sequence) followed by
 * {@link #payloadSize()} bytes of payload. A handle packs the slot index (low 32 bits) and the generation it
 * was allocated in (high 32 bits; always odd, so no handle is {@code 0} and {@link #NO_HANDLE} is {@code 0}).
 * Freeing a slot advances its generation: every later use of the old handle is refused with an
 * {@link IllegalStateException} that names the handle and both generations, and never reads the slot's next
 * occupant. (A handle is mistaken for a live one only if its slot is reused exactly 2<sup>31</sup> times while
 * the handle is kept.)
 *
 * <h2>Guarantees</h2>
 * <ol>
 *   <li><b>No reuse under a reader.</b> A slot freed while an access ({@link SlotRead}, {@link SlotWrite},
 *       {@link #header}, or a guard-scoped read's reservation) holds it is handed out again only after that access has closed: the free retires
 *       the slot's ticket to the reclaimer, whose action pushes the slot back on the free list.</li>
 *   <li><b>Reads see whole messages.</b> A read opened on a live handle sees the payload written by the
 *       {@code store} (or the last completed in-place write) of that generation; {@link SlotRead#validate()}
 *       says whether an in-place {@linkplain #write write} of the same slot overlapped it (see below).</li>
 *   <li><b>Per-slot isolation.</b> Nothing done to one slot blocks or invalidates an access to another.</li>
 *   <li><b>Clear failures.</b> A full manager makes {@link #store} throw {@link SlotsExhaustedException} and
 *       {@link #tryStore} return {@link #NO_HANDLE}, at once (never a wait); a handle that was never valid
 *       (a slot index out of range, an even generation, or a generation its slot has not reached) is an
 *       {@link IllegalArgumentException}; a stale handle, freeing a slot this thread still holds an
 *       access to, and closing with accesses open are {@link IllegalStateException}s. A handle carries no
 *       identity of its manager: another manager's handle that names a live slot here is taken for that slot's,
 *       so keep each handle with the manager that returned it.</li>
 * </ol>
 *
 * <h2>Writes</h2>
 * Two ways, for two needs:
 * <ul>
 *   <li>{@link #replace} is copy-on-write: the new payload goes into a new slot, the old slot is freed, and
 *       readers of the old handle keep seeing the old message, whole, until they close. Use it when readers
 *       must never see a half-written message.</li>
 *   <li>{@link #write} gives in-place access under a per-slot sequence lock (a seqlock, as Linux and
 *       {@link java.util.concurrent.locks.StampedLock StampedLock}'s optimistic reads use): one writer per slot
 *       at a time (a second one is refused at once, it never waits: {@link #tryWrite} returns null,
 *       {@code write} throws), and readers never wait for it. A reader that overlapped a write may have seen
 *       a torn payload and learns it from {@link SlotRead#validate()}; {@link #copy(long)} and
 *       {@link #copy(long, byte[])} retry until they copy one version.</li>
 * </ul>
 *
 * <h2>Progress</h2>
 * {@code store}, {@code tryStore} and {@code free} are lock-free (a CAS loop on the free-list head, Treiber's
 * stack; a failed CAS means another thread's succeeded). Opening a read is lock-free, and wait-free under
 * hazard pointers, EBR and QSBR (the reservation loop ends after at most two rounds; robust era schemes loop
 * while the era moves) on top of the scheme's own {@code enter()}; reading through an open {@link SlotRead} is
 * wait-free. {@code copy} retries while in-place writes of the same slot keep overlapping it, so it is
 * wait-free without in-place writers and obstruction-free with them. In-place writes never wait.
 *
 * <h2>Memory bound</h2>
 * The slab is {@code capacity * slotStride()} bytes (stride = 16 + payload size rounded up to 8), allocated
 * once at construction; the heap holds one {@code int} of free-list link and one small ticket per slot. A
 * freed slot stays out of circulation until the reclaimer reclaims its ticket, so at most {@code capacity}
 * slots are live or pending at once; {@code available()} counts the ones on the free list.
 *
 * <h2>Memory consistency effects</h2>
 * Actions of a thread before it stores a payload (the {@code store} itself included) happen-before an access
 * opened by another thread on the returned handle. The close of every access to a slot happens-before the
 * slot is handed out again by a later {@code store}. The close of a {@link SlotWrite} happens-before a read
 * opened after it that sees its sequence.
 *
 * <h2>Threads and closing</h2>
 * Accesses are confined to the thread that opened them and must be closed in the reverse order of opening
 * (try-with-resources does both); they nest a guard of the reclaimer each, so the order also matters across
 * managers that share a reclaimer and against the thread's own guards of it: this manager checks the order of
 * its own accesses (closing one out of order throws), not of other managers' accesses or of plain guards.
 * {@link #close()} frees the slab
 * once (it comes from {@link Arena#ofShared()}, owned by this manager); called while the calling thread holds
 * an access, or while a {@link SlotWrite}, a {@link #header} or an operation ({@code store}, {@code free},
 * ...) is in progress on any thread, it throws {@link IllegalStateException} and refuses new ones, and a
 * later {@code close()} completes. Reads ({@link SlotRead}s of other threads and the guard-scoped reads,
 * {@link #getLong(Guard, long, long)} and the like) do not hold a close back: the close frees the slab through
 * the reclaimer (one close ticket per slot, keyed like the slot), so a read that validated its slot before
 * the close keeps the slab allocated until its guard closes (a {@link SlotRead} stays usable until it
 * closes), and a read that comes later gets {@link IllegalStateException} without touching the slab.
 * When the reclaimer reclaims nothing before its own close ({@code none}), the slab is freed then; when the
 * reclaimer is already closed, at once. Reclaim actions still pending in the reclaimer at close touch only heap
 * state (the free list), never the slab, so closing the manager before its reclaimer is safe; so is the other
 * order, once no access is open (the manager cannot work without its reclaimer, though).
 *
 * <p>References: R. K. Treiber, "Systems Programming: Coping with Parallelism", IBM Research Report RJ 5118,
 * 1986 (the free list). The same manager with a per-slot read-write lock taken by every reader is kept as the
 * benchmark baseline and test oracle {@code reclaim.offheap.baseline.RwLockSlotMemory}.
 */
public final class SlotMemory implements AutoCloseable {

    /*
     * Overview.
     *
     * The parts, each in its own class: FreeList (the tagged Treiber stack of free slot indices, heap only),
     * Ticket and CloseTicket (what is retired to the reclaimer), Accesses (a thread's busy count and open
     * accesses) and AccessRegistry (every thread's, for close), SlotAccess/SlotRead/SlotWrite (the open
     * accesses). This class owns the slab, its header words
     * and the protocols below.
     *
     * The slot's generation word is the handle's validity. Allocated: odd; free: even. store pops a slot with
     * an even generation e, writes header and payload plainly, then release-stores e + 1 (the publication).
     * free CASes the handle's generation g to g + 1 (the linearization point of free: exactly one of two
     * racing frees wins), then retires the slot's ticket; the ticket's reclaim action pushes the slot. A
     * slot therefore moves free -> live -> pending -> free, and only the reclaim action makes it free again.
     *
     * A read opens a guard and runs Guard.reserve's protocol with the generation as the value read and
     * key = index + 1 (never 0) as the reservation: read the generation (volatile), reserve, re-read until
     * reserve says the reservation covered the read. Hazard pointers: the hazard (the key) is published with
     * a store-load fence before the re-read, and free's scan comes after its generation CAS, so either the
     * re-read sees the new generation (stale: refused) or the scan sees the hazard (the ticket, Keyed with
     * the same key, is held). Era schemes: the ticket is Born in the era read just before the generation
     * was published, and the reader's reserved era was current after it read that generation.
     *
     * Tickets are preallocated, one per slot, reused every generation (see Ticket), so free allocates nothing.
     *
     * In-place writes: the slot's write sequence is even when no write is in progress. A writer CASes it
     * from even s to s + 1 (exclusive; fails at once if odd), writes, and release-stores s + 2. A reader
     * records the sequence when it opens; validate() re-reads it after a load fence.
     *
     * Closing: every operation and write access that touches the slab first raises its thread's busy count
     * (volatile store), then reads the state (volatile load); close() sets the state to CLOSING (volatile
     * store), then reads every thread's busy count (volatile loads). Dekker's pattern: either the operation
     * sees CLOSING and backs out, or close() sees it busy and throws. Reads (read() and the guard-scoped
     * ones) raise no count: they
     * publish the slot's reservation in the caller's guard, then read the state (volatile load); close() frees
     * the slab only through the reclaimer, retiring a close ticket per slot after its store of CLOSING, so the
     * same store-load pair, with the reservation as the reader's store, keeps the slab for them (validated()).
     *
     * Shared accesses follow the repository's docs/memory-orderings.md: the slab's header words go through
     * the helpers at the end of this class (metaAcquire, generationVolatile, casSequence, ...), which SlotRead
     * and SlotWrite call too; payload bytes are read and written plainly (see the package documentation).
     */

    /** The handle no successful store returns: {@link #tryStore} returns it when no slot is free. */
    public static final long NO_HANDLE = 0L;

    /** Bytes of header before each slot's payload. */
    static final int HEADER = 16;
    /** Header offsets: meta = kind << 32 | length (one long, written and read whole), generation, sequence. */
    static final long META = 0, GENERATION = 8, SEQUENCE = 12;

    private static final int OPEN = 0, CLOSING = 1, CLOSED = 2;

    private final Reclaimer reclaimer;
    private final int capacity;
    private final int payloadSize;
    private final long stride;
    private final Arena arena;
    /**
     * The close tickets a closing reclaimer refused to take (see {@link #freeSlab()}), or null: a later
     * {@code close()} takes them (getAndSet, so once) when the reclaimer has closed.
     */
    private final AtomicReference<Refused> refused = new AtomicReference<>();

    /** Close tickets not retired: {@code left} of the countdown {@code pending} that frees the slab at zero. */
    private record Refused(AtomicInteger pending, int left) {
    }
    /** The slab: capacity slots of stride bytes. Accessed only while this thread's busy count is raised. */
    final MemorySegment slab;
    /** The free slots. */
    private final FreeList free;
    /** The ticket of each slot, reused every generation. */
    private final Ticket[] tickets;
    /** OPEN, CLOSING or CLOSED. Only through stateVolatile / casState. */
    @SuppressWarnings("unused") // read and written through STATE
    private int state;
    /** The reclaim action: pushes the ticket's slot back on the free list (heap only, never the slab). */
    private final Consumer<Ticket> release = this::push;
    /** Each thread's busy count and open accesses. */
    private final AccessRegistry accesses = new AccessRegistry();

    /**
     * Creates a manager of {@code capacity} slots of {@code payloadSize} bytes each, reclaiming through
     * {@code reclaimer}.
     *
     * @param reclaimer the reclaimer that defers slot reuse; shared with other structures or not; the manager
     *     does not close it
     * @param capacity the number of slots, {@code 1 <= capacity < Integer.MAX_VALUE}
     * @param payloadSize the payload bytes of each slot, {@code >= 0}
     * @return a new manager; close it to free its slab
     * @throws NullPointerException if {@code reclaimer} is null
     * @throws IllegalArgumentException if {@code capacity} is out of range, {@code payloadSize < 0}, or the slab
     *     would exceed what one segment can address
     */
    public static SlotMemory create(Reclaimer reclaimer, int capacity, int payloadSize) {
        return new SlotMemory(reclaimer, capacity, payloadSize, 0);
    }

    /** The full constructor; {@code initialTag} lets tests start the free-list tag near its wrap. */
    SlotMemory(Reclaimer reclaimer, int capacity, int payloadSize, int initialTag) {
        this.reclaimer = Objects.requireNonNull(reclaimer, "reclaimer");
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
        if (capacity == Integer.MAX_VALUE) throw new IllegalArgumentException("capacity must be < 2^31 - 1");
        if (payloadSize < 0) throw new IllegalArgumentException("payloadSize must be >= 0, was " + payloadSize);
        this.capacity = capacity;
        this.payloadSize = payloadSize;
        this.stride = HEADER + ((payloadSize + 7L) & ~7L);
        long bytes = Math.multiplyExact(stride, (long) capacity);
        this.arena = Arena.ofShared();
        this.slab = arena.allocate(bytes, 64); // zeroed: every generation and sequence starts at 0 (free, idle)
        this.free = new FreeList(capacity, initialTag);
        this.tickets = new Ticket[capacity];
        for (int i = 0; i < capacity; i++) tickets[i] = new Ticket(i);
    }

    // ------------------------------------------------------------------------------------------ handles

    /**
     * Returns the slot index a handle names.
     *
     * @param handle a handle
     * @return its slot index (low 32 bits)
     */
    public static int index(long handle) {
        return (int) handle;
    }

    /**
     * Returns the generation a handle was allocated in.
     *
     * @param handle a handle
     * @return its generation (high 32 bits), odd for every handle a store returned
     */
    public static int generation(long handle) {
        return (int) (handle >>> 32);
    }

    private static long handle(int index, int generation) {
        return ((long) generation << 32) | (index & 0xFFFF_FFFFL);
    }

    // ------------------------------------------------------------------------------------------ store

    /**
     * Allocates a slot and stores {@code payload} in it with kind 0.
     *
     * @param payload the bytes, at most {@link #payloadSize()}
     * @return the handle of the new message
     * @throws NullPointerException if {@code payload} is null
     * @throws IllegalArgumentException if the payload is longer than {@link #payloadSize()}
     * @throws SlotsExhaustedException if no slot is free (after one {@link Reclaimer#flush()})
     * @throws IllegalStateException if the manager is closed
     */
    public long store(byte[] payload) {
        return store(0, payload);
    }

    /**
     * Allocates a slot and stores {@code payload} in it under a user kind.
     *
     * @param kind a user tag kept in the header (see {@link #header(long)})
     * @param payload the bytes, at most {@link #payloadSize()}
     * @return the handle of the new message
     * @throws NullPointerException if {@code payload} is null
     * @throws IllegalArgumentException if the payload is longer than {@link #payloadSize()}
     * @throws SlotsExhaustedException if no slot is free (after one {@link Reclaimer#flush()})
     * @throws IllegalStateException if the manager is closed
     */
    public long store(int kind, byte[] payload) {
        return orThrow(tryStore(kind, payload));
    }

    /**
     * Allocates a slot and copies {@code payload} into it under a user kind.
     *
     * @param kind a user tag kept in the header
     * @param payload the bytes, at most {@link #payloadSize()} of them
     * @return the handle of the new message
     * @throws NullPointerException if {@code payload} is null
     * @throws IllegalArgumentException if the payload is longer than {@link #payloadSize()}
     * @throws SlotsExhaustedException if no slot is free (after one {@link Reclaimer#flush()})
     * @throws IllegalStateException if the manager is closed, or {@code payload}'s scope is
     */
    public long store(int kind, MemorySegment payload) {
        return orThrow(tryStore(kind, payload));
    }

    /**
     * As {@link #store(int, byte[])}, but returns {@link #NO_HANDLE} instead of throwing when no slot is free.
     *
     * @param kind a user tag kept in the header
     * @param payload the bytes, at most {@link #payloadSize()}
     * @return the handle of the new message, or {@link #NO_HANDLE} if no slot is free
     * @throws NullPointerException if {@code payload} is null
     * @throws IllegalArgumentException if the payload is longer than {@link #payloadSize()}
     * @throws IllegalStateException if the manager is closed
     */
    public long tryStore(int kind, byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        return tryStore(kind, MemorySegment.ofArray(payload));
    }

    /**
     * As {@link #store(int, MemorySegment)}, but returns {@link #NO_HANDLE} instead of throwing when no slot
     * is free.
     *
     * @param kind a user tag kept in the header
     * @param payload the bytes, at most {@link #payloadSize()}
     * @return the handle of the new message, or {@link #NO_HANDLE} if no slot is free
     * @throws NullPointerException if {@code payload} is null
     * @throws IllegalArgumentException if the payload is longer than {@link #payloadSize()}
     * @throws IllegalStateException if the manager is closed
     */
    public long tryStore(int kind, MemorySegment payload) {
        Objects.requireNonNull(payload, "payload");
        long length = payload.byteSize();
        if (length > payloadSize) {
            throw new IllegalArgumentException("payload of " + length + " bytes exceeds the slot payload size " + payloadSize);
        }
        Accesses a = begin();
        try {
            int i = free.pop();
            if (i == FreeList.EMPTY && !reclaimer.isClosed()) {
                try {
                    reclaimer.flush(); // freed slots may only be waiting for the reclaimer: give it one chance
                } catch (IllegalStateException closing) {
                    // A close() is in progress, or refused (guards open): no slot comes back before it completes,
                    // and the answer is the one for no free slot, not the reclaimer's refusal
                }
                i = free.pop();
            }
            if (i == FreeList.EMPTY) return NO_HANDLE;
            long base = i * stride;
            // The slot came off the free list through its reclaim action: no access can see it any more.
            // Plain stores; the release store of the generation below publishes them.
            try {
                MemorySegment.copy(payload, 0, slab, base + HEADER, length);
            } catch (RuntimeException e) { // the source went away (its arena closed): the slot was never published
                push(tickets[i]);
                throw e;
            }
            setMetaPlain(base, meta(kind, (int) length)); // published by the release below
            int g = generationAcquire(base) + 1; // only we touch a popped slot's generation
            tickets[i].birthEra = reclaimer.era(); // plain: read by retire, after free's CAS that reads our release
            setGenerationRelease(base, g); // the publication; the handle is valid from here
            return handle(i, g);
        } finally {
            end(a);
        }
    }

    private long orThrow(long h) {
        if (h != NO_HANDLE) return h;
        throw new SlotsExhaustedException(capacity, capacity - free.available());
    }

    // ------------------------------------------------------------------------------------------ free

    /**
     * Frees the slot a handle names. The handle (and every copy of it) is stale from now on; the slot is
     * handed out again once no access opened before this call is still open.
     *
     * @param handle a handle returned by a store
     * @throws IllegalArgumentException if the handle was never valid for this manager
     * @throws IllegalStateException if the handle is stale (its slot was freed), if this thread still holds
     *     an access to the slot, or if the manager is closed; or if the reclaimer refused the retire (it is
     *     closed): the handle is stale all the same, and the slot is back on the free list at once when the
     *     reclaimer's close has completed (no guard can hold it), left out otherwise (a guard may)
     */
    public void free(long handle) {
        int i = checkHandle(handle);
        Accesses a = begin();
        try {
            a.refuseHeld(i, handle);
            long base = i * stride;
            int g = generation(handle);
            // Linearization point of free: exactly one CAS from g wins.
            if (!casGeneration(base, g, g + 1)) throw stale(handle, generationVolatile(base));
            // Retire point: the slot is unreachable for new reads (their generation check fails); the ticket
            // comes back, and the slot with it, once no guard can hold it.
            try {
                reclaimer.retire(tickets[i], release);
            } catch (IllegalStateException refused) {
                // A completed close of the reclaimer means no guard is open or can open: nobody can hold the
                // slot, so it goes back now. Otherwise a guard may still hold it, and leaking it is the only
                // safe choice. Reported either way (as MappedFileSwap does). The handle stays stale: it was
                // reported stale to whoever looked since the CAS, and a freed handle never comes back.
                if (reclaimer.isClosed()) push(tickets[i]);
                throw refused;
            }
        } finally {
            end(a);
        }
    }

    /**
     * Takes back a message this thread stored and never handed out (replace's undo): no reader has its handle, and
     * the slot's earlier messages were reclaimed before it was handed out, so the slot goes back at once, with no
     * retire (which a closing reclaimer would refuse).
     */
    private void unstore(long h) {
        int i = index(h);
        Accesses a = begin();
        try {
            int g = generation(h);
            if (casGeneration(i * stride, g, g + 1)) push(tickets[i]);
        } finally {
            end(a);
        }
    }

    /**
     * Copy-on-write update: stores {@code payload} in a new slot, then frees the old one. Readers of the old
     * handle keep seeing the old message, whole, until their accesses close; no reader ever sees a mix.
     *
     * @param handle the live handle to replace
     * @param kind the new message's kind
     * @param payload the new payload, at most {@link #payloadSize()}
     * @return the new message's handle
     * @throws NullPointerException if {@code payload} is null
     * @throws IllegalArgumentException if the handle was never valid or the payload is too long
     * @throws IllegalStateException if the handle is stale (nothing is stored then), this thread holds an
     *     access to its slot, or the manager is closed; or if the reclaimer is closed (checked before anything is
     *     stored: the old message stays); while the reclaimer is closing (a refused {@code close()}), or if its
     *     close begins during the call, the old message is freed all the same, as {@link #free} describes (its
     *     handle stale; its slot back on the free list if the close had completed, left out if it was still
     *     closing), and the new one is taken back
     * @throws SlotsExhaustedException if no slot is free for the new message (the old one is kept)
     */
    public long replace(long handle, int kind, byte[] payload) {
        int i = checkHandle(handle);
        accesses.current().refuseHeld(i, handle);
        // Refused before anything changes once the reclaimer is closed (the retire of the old slot would be). Not by
        // opening a guard: it would bring an offline QSBR thread back online, and neither the store nor the free needs one.
        if (reclaimer.isClosed()) throw new IllegalStateException("the reclaimer is closed: nothing is replaced");
        // A handle that is stale or was never valid already is refused as such, not as a full manager's store; one
        // that goes stale after this check is refused by free() below.
        int current = generationVolatile(i * stride);
        if (current != generation(handle)) throw stale(handle, current);
        long h = store(kind, payload);
        try {
            free(handle);
        } catch (RuntimeException e) {
            unstore(h); // the old one went stale meanwhile, or the reclaimer refused: the new one goes back
            throw e;
        }
        return h;
    }

    // ------------------------------------------------------------------------------------------ reads

    /**
     * Opens a shared read access to a live message. Takes no lock: it opens a guard of the reclaimer (nested
     * in any guard the thread already holds) and validates the handle's generation under it.
     *
     * @param handle a handle returned by a store
     * @return the access; close it on this thread, in reverse order of opening
     * @throws IllegalArgumentException if the handle was never valid for this manager
     * @throws IllegalStateException if the handle is stale or the manager (or the reclaimer) is closed
     */
    public SlotRead read(long handle) {
        int i = checkHandle(handle);
        Accesses a = accesses.current(); // the order stack only: a read raises no busy count (see close())
        Guard g = reclaimer.enter();
        try {
            long base = i * stride;
            validate(g, i, base, handle);
            // Volatile, after the reservation: the store-load pair of validated() with close(); from here the slab
            // outlives this access (its guard holds the slot's close ticket), so the access needs no busy count.
            if (stateVolatile() != OPEN) throw new IllegalStateException("the slot memory is closed");
            int seq = sequenceAcquire(base); // pairs with a writer's release
            long meta = metaAcquire(base);
            return new SlotRead(this, a, g, handle, base, seq, meta);
        } catch (RuntimeException | Error e) {
            g.close();
            throw e;
        }
    }

    /**
     * Reads the header of a live message (its length and kind) without touching the payload.
     *
     * @param handle a handle returned by a store
     * @return the header
     * @throws IllegalArgumentException if the handle was never valid for this manager
     * @throws IllegalStateException if the handle is stale or the manager (or the reclaimer) is closed
     */
    public SlotHeader header(long handle) {
        int i = checkHandle(handle);
        Accesses a = begin();
        try (Guard g = reclaimer.enter()) {
            long base = i * stride;
            validate(g, i, base, handle);
            long meta = metaAcquire(base); // one word, never torn
            return new SlotHeader(handle, (int) meta, (int) (meta >>> 32));
        } finally {
            end(a);
        }
    }

    /**
     * Returns whether a handle names a live message now (a snapshot: another thread may free it next).
     *
     * @param handle any handle
     * @return true if the handle is valid for this manager and its slot has not been freed since
     * @throws IllegalStateException if the manager is closed
     */
    public boolean isLive(long handle) {
        int i = index(handle);
        Accesses a = begin(); // refuses once closed, whatever the handle
        try {
            if (i < 0 || i >= capacity || (generation(handle) & 1) == 0) return false;
            return generationVolatile(i * stride) == generation(handle);
        } finally {
            end(a);
        }
    }

    /**
     * Copies a live message's payload into a new array, one consistent version of it: the copy is retried
     * while an in-place {@linkplain #write write} of the slot overlaps it.
     *
     * @param handle a handle returned by a store
     * @return the payload
     * @throws IllegalArgumentException if the handle was never valid for this manager
     * @throws IllegalStateException if the handle is stale or the manager is closed;
     *     or this thread holds an open {@link SlotWrite} of the slot (the read would wait for it)
     */
    public byte[] copy(long handle) {
        while (true) {
            try (SlotRead r = read(handle)) {
                byte[] out = r.toArray();
                if (r.validate()) return out;
            }
            awaitWriter(index(handle), "copy");
        }
    }

    /**
     * Copies a live message's payload into {@code dst}, one consistent version of it (retried while an
     * in-place write overlaps).
     *
     * @param handle a handle returned by a store
     * @param dst the destination, at least as long as the payload
     * @return the payload length
     * @throws NullPointerException if {@code dst} is null
     * @throws IllegalArgumentException if the handle was never valid for this manager
     * @throws IndexOutOfBoundsException if {@code dst} is shorter than the payload
     * @throws IllegalStateException if the handle is stale or the manager is closed;
     *     or this thread holds an open {@link SlotWrite} of the slot (the read would wait for it)
     */
    public int copy(long handle, byte[] dst) {
        Objects.requireNonNull(dst, "dst");
        while (true) {
            try (SlotRead r = read(handle)) {
                int n = r.copyTo(dst);
                if (r.validate()) return n;
            }
            awaitWriter(index(handle), "copy");
        }
    }

    /**
     * One wait of a read that met an open or overlapping in-place write of slot {@code index}: refuses a caller
     * that holds that write itself (it would wait for itself for ever), then spins once.
     */
    private void awaitWriter(int index, String op) {
        accesses.current().refuseOwnWrite(index, op);
        Thread.onSpinWait();
    }

    // ------------------------------------------------------------------------------------------ guard-scoped reads

    /**
     * The {@linkplain Guard#reserve(long, int) reserve slot} the guard-scoped reads use:
     * {@link #getLong(Guard, long, long)}, {@link #getInt(Guard, long, long)} and
     * {@link #copy(Guard, long, byte[])} each reserve the slot's key in this one slot of the caller's guard,
     * and in no other, so the caller keeps slots {@code 1 .. guard.slots() - 1} for its own protections.
     */
    public static final int READ_RESERVE_SLOT = 0;

    /**
     * Reads a {@code long} of a live message's payload under a guard the caller holds, with no allocation and no
     * lock: many reads share one guard, the way a scan does. The call checks that {@code guard} belongs to this
     * manager's reclaimer, validates the handle by reserving the slot's key in {@link #READ_RESERVE_SLOT} of
     * {@code guard} ({@link Guard#reserve}'s protocol on the slot's generation), and reads; an in-place
     * {@linkplain #write write} of the slot that overlaps the read makes it retry, so the value is one version
     * of the payload.
     *
     * <p>After the call the slot stays unreused (the handle's message may be freed, but its slot is not handed
     * out again) until {@code guard} closes or reserve slot {@link #READ_RESERVE_SLOT} of it is reused (by the
     * next guard-scoped read, or by the caller); schemes without per-key reservations (EBR, QSBR) keep it until
     * the guard closes. Values from two calls are each consistent, not consistent with each other: a message
     * freed, replaced or written in place between them is not detected (use {@link #copy(Guard, long, byte[])}
     * for one consistent payload).
     *
     * <p>Progress: wait-free without in-place writers of the slot (plus the reservation loop, as for
     * {@link #read(long)}), obstruction-free with them. {@link #close()} may run concurrently: a call that
     * validated the handle before the close began completes its read on a slab that the close frees only after
     * {@code guard} closes; a later call throws {@link IllegalStateException} without touching the slab.
     *
     * @param guard an open guard of {@link #reclaimer()}, held by this thread
     * @param handle a handle returned by a store
     * @param offset the offset in the payload; the 8 bytes (native order, any alignment) must lie inside it
     * @return the value
     * @throws NullPointerException if {@code guard} is null
     * @throws IllegalArgumentException if {@code guard} belongs to another reclaimer, or the handle was never
     *     valid for this manager
     * @throws IndexOutOfBoundsException if the 8 bytes are outside the payload
     * @throws IllegalStateException if the handle is stale, the manager is closed (or closing), or the guard is
     *     closed or owned by another thread;
     *     or this thread holds an open {@link SlotWrite} of the slot (the read would wait for it)
     */
    public long getLong(Guard guard, long handle, long offset) {
        long base = validated(guard, handle);
        long at = base + HEADER + offset;
        while (true) {
            int s = sequenceAcquire(base); // pairs with a writer's release store
            if ((s & 1) == 0) {
                int length = length(base);
                boolean inside = offset >= 0 && offset <= length - 8L;
                long v = inside ? slab.get(ValueLayout.JAVA_LONG_UNALIGNED, at) : 0L; // plain
                if (unchanged(base, s)) {
                    if (!inside) throw outside(offset, 8, length);
                    return v;
                }
            }
            awaitWriter(index(handle), "getLong"); // an in-place write is in progress or overlapped: retry
        }
    }

    /**
     * Reads an {@code int} of a live message's payload under a guard the caller holds; see
     * {@link #getLong(Guard, long, long)} for the protocol, the reserve slot used and the guarantees.
     *
     * @param guard an open guard of {@link #reclaimer()}, held by this thread
     * @param handle a handle returned by a store
     * @param offset the offset in the payload; the 4 bytes (native order, any alignment) must lie inside it
     * @return the value
     * @throws NullPointerException if {@code guard} is null
     * @throws IllegalArgumentException if {@code guard} belongs to another reclaimer, or the handle was never
     *     valid for this manager
     * @throws IndexOutOfBoundsException if the 4 bytes are outside the payload
     * @throws IllegalStateException if the handle is stale, the manager is closed (or closing), or the guard is
     *     closed or owned by another thread;
     *     or this thread holds an open {@link SlotWrite} of the slot (the read would wait for it)
     */
    public int getInt(Guard guard, long handle, long offset) {
        long base = validated(guard, handle);
        long at = base + HEADER + offset;
        while (true) {
            int s = sequenceAcquire(base); // pairs with a writer's release store
            if ((s & 1) == 0) {
                int length = length(base);
                boolean inside = offset >= 0 && offset <= length - 4L;
                int v = inside ? slab.get(ValueLayout.JAVA_INT_UNALIGNED, at) : 0; // plain
                if (unchanged(base, s)) {
                    if (!inside) throw outside(offset, 4, length);
                    return v;
                }
            }
            awaitWriter(index(handle), "getInt");
        }
    }

    /**
     * Copies a live message's payload into the start of {@code dst} under a guard the caller holds: one
     * consistent version of it (retried while an in-place write overlaps), no allocation. See
     * {@link #getLong(Guard, long, long)} for the protocol, the reserve slot used and the guarantees.
     *
     * @param guard an open guard of {@link #reclaimer()}, held by this thread
     * @param handle a handle returned by a store
     * @param dst the destination, at least as long as the payload
     * @return the payload length (the bytes copied)
     * @throws NullPointerException if {@code guard} or {@code dst} is null
     * @throws IllegalArgumentException if {@code guard} belongs to another reclaimer, or the handle was never
     *     valid for this manager
     * @throws IndexOutOfBoundsException if {@code dst} is shorter than the payload
     * @throws IllegalStateException if the handle is stale, the manager is closed (or closing), or the guard is
     *     closed or owned by another thread;
     *     or this thread holds an open {@link SlotWrite} of the slot (the read would wait for it)
     */
    public int copy(Guard guard, long handle, byte[] dst) {
        Objects.requireNonNull(dst, "dst");
        long base = validated(guard, handle);
        while (true) {
            int s = sequenceAcquire(base); // pairs with a writer's release store
            if ((s & 1) == 0) {
                int length = length(base);
                boolean inside = length <= dst.length;
                if (inside) MemorySegment.copy(slab, ValueLayout.JAVA_BYTE, base + HEADER, dst, 0, length); // plain
                if (unchanged(base, s)) {
                    if (!inside) {
                        throw new IndexOutOfBoundsException("destination of " + dst.length
                                + " bytes is shorter than the payload of " + length + " bytes");
                    }
                    return length;
                }
            }
            awaitWriter(index(handle), "copy");
        }
    }

    /**
     * The guard-scoped reads' entry: checks the guard's reclaimer (identity) and the handle, validates the
     * handle under {@link #READ_RESERVE_SLOT} of the guard, then checks the state; returns the slot's base.
     *
     * <p>Close safety (the store&ndash;load pair with {@link #close()}): validate() publishes the reservation
     * of the slot's key (hazard pointers: a volatile store then a store&ndash;load fence; era schemes: the
     * era, published likewise; EBR/QSBR: the guard's announcement at enter, a CAS or a volatile store) before
     * the volatile load of the state below. close() makes its volatile store of CLOSING before it retires the
     * slab's close tickets (one per slot, keyed like the slot), and the reclaimer reads the reservations only
     * after the retire. Volatile accesses and the fence are sequentially consistent, so if this load reads
     * OPEN, it came before close's store, and so did our reservation: the reclaimer sees it and keeps our
     * slot's close ticket (or, epoch schemes, everything) until the reservation is dropped or the guard
     * closes; the slab outlives our read. If it reads CLOSING or CLOSED we throw without touching the slab.
     */
    private long validated(Guard guard, long handle) {
        if (guard.reclaimer() != reclaimer) {
            throw new IllegalArgumentException("the guard belongs to " + guard.reclaimer()
                    + ", not to this slot memory's reclaimer " + reclaimer);
        }
        int i = checkHandle(handle);
        // An open access of this thread sits one level below the guard's innermost: it opened an empty shield
        // level on top of its own, so reserving here never drops the access's reservation (SlotAccess).
        long base = i * stride;
        validate(guard, i, base, handle);
        if (stateVolatile() != OPEN) throw new IllegalStateException("the slot memory is closed"); // after the reservation
        return base;
    }

    /** The payload length in the header (opaque, after the caller's acquire of the sequence), at most payloadSize. */
    private int length(long base) {
        int length = (int) metaOpaque(base); // one word, never torn
        return Math.min(Math.max(length, 0), payloadSize);
    }

    /** Seqlock validation: the payload loads before the fence come before the re-read of the sequence. */
    private boolean unchanged(long base, int s) {
        VarHandle.loadLoadFence();
        return sequenceOpaque(base) == s; // after the fence
    }

    private static IndexOutOfBoundsException outside(long offset, int bytes, int length) {
        return new IndexOutOfBoundsException("bytes [" + offset + ", " + offset + " + " + bytes
                + ") are outside the payload of " + length + " bytes");
    }

    // ------------------------------------------------------------------------------------------ writes

    /**
     * Opens an exclusive in-place write access to a live message (see "Writes" in the class documentation).
     * Readers are never blocked; they see the write's effect as torn until it closes, and their
     * {@link SlotRead#validate()} reports it.
     *
     * @param handle a handle returned by a store
     * @return the access; close it on this thread, in reverse order of opening
     * @throws IllegalArgumentException if the handle was never valid for this manager
     * @throws IllegalStateException if the handle is stale, another write access to the slot is open, or the
     *     manager (or the reclaimer) is closed
     */
    public SlotWrite write(long handle) {
        SlotWrite w = tryWrite(handle);
        if (w == null) {
            throw new IllegalStateException("slot " + index(handle) + " (handle " + Long.toHexString(handle)
                    + ") is being written by another access; writes to one slot are exclusive and never wait");
        }
        return w;
    }

    /**
     * As {@link #write(long)}, but returns null when another write access to the slot is open.
     *
     * @param handle a handle returned by a store
     * @return the access, or null if the slot is being written
     * @throws IllegalArgumentException if the handle was never valid for this manager
     * @throws IllegalStateException if the handle is stale or the manager (or the reclaimer) is closed
     */
    public SlotWrite tryWrite(long handle) {
        int i = checkHandle(handle);
        Accesses a = begin();
        Guard g = null;
        try {
            g = reclaimer.enter();
            long base = i * stride;
            validate(g, i, base, handle);
            int s = sequenceVolatile(base);
            // even -> odd claims the slot for writing; odd means another writer holds it.
            if ((s & 1) != 0 || !casSequence(base, s, s + 1)) {
                g.close();
                end(a);
                return null;
            }
            VarHandle.storeStoreFence(); // the odd sequence is visible before any payload store of ours
            long meta = metaAcquire(base);
            return new SlotWrite(this, a, g, handle, base, s + 1, meta);
        } catch (RuntimeException | Error e) {
            if (g != null) g.close();
            end(a);
            throw e;
        }
    }

    /** Ends a write: the release store of the next even sequence publishes the payload and meta stores. */
    void endWrite(long base, int oddSeq) {
        setSequenceRelease(base, oddSeq + 1);
    }

    // ------------------------------------------------------------------------------------------ state

    /**
     * Returns the number of slots.
     *
     * @return the capacity
     */
    public int capacity() {
        return capacity;
    }

    /**
     * Returns the payload bytes of each slot.
     *
     * @return the payload size
     */
    public int payloadSize() {
        return payloadSize;
    }

    /**
     * Returns the bytes each slot takes in the slab: a 16-byte header plus the payload rounded up to 8.
     *
     * @return the slot stride
     */
    public long slotStride() {
        return stride;
    }

    /**
     * Returns the number of slots on the free list. At quiescence (no operation in progress, and the reclaimer
     * flushed with no guard open) it is {@code capacity - live}; while slots wait for reclamation they count
     * neither as live nor as available.
     *
     * @return the free slots
     */
    public int available() {
        return free.available();
    }

    /**
     * Returns the reclaimer that defers slot reuse.
     *
     * @return the reclaimer
     */
    public Reclaimer reclaimer() {
        return reclaimer;
    }

    /**
     * Returns whether {@link #close()} has completed.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return stateVolatile() == CLOSED;
    }

    /**
     * Frees the slab and closes the manager; idempotent. Reclaim actions still pending in the reclaimer touch
     * only heap state and stay harmless.
     *
     * <p>Open reads do not hold the close back (see "Threads and closing" in the class documentation): the
     * slab is freed through the reclaimer once no guard can still read it, at once if the reclaimer's close
     * has completed.
     *
     * <p>If the reclaimer is closing (its {@code close()} was refused because guards are open) it refuses to take
     * the slab: the manager is closed all the same, the slab stays allocated (a guard may still read it), and this
     * method throws; a {@code close()} called again once the reclaimer has closed frees the slab.
     *
     * @throws IllegalStateException if this thread still holds an access, or a write access, a header read or
     *     an operation is in progress on some thread (the manager then refuses new ones; a later
     *     {@code close()} completes once they are done); or the reclaimer is closing and the slab is left to
     *     free (see above)
     */
    @Override
    public void close() {
        int s = stateVolatile();
        if (s == CLOSED) {
            freeRefused();
            return;
        }
        if (s == OPEN) casState(OPEN, CLOSING); // losing to another close is fine
        Accesses own = accesses.current();
        if (own.depth != 0) {
            throw new IllegalStateException("cannot close the slot memory: this thread still holds " + own.depth
                    + " access(es) to it; close them first (new ones are refused from now on)");
        }
        // Dekker with begin(): our volatile store of CLOSING comes before these volatile loads.
        int busy = accesses.busyThreads();
        if (busy != 0) {
            throw new IllegalStateException("cannot close the slot memory: " + busy
                    + " thread(s) still hold an access or are inside an operation; close the accesses first"
                    + " (new ones are refused from now on)");
        }
        if (casState(CLOSING, CLOSED)) {
            freeSlab(); // once: only the winner of the CAS gets here
        }
    }

    /**
     * Frees the slab through the reclaimer, so that guard-scoped readers that validated a slot before the close
     * began finish their reads first (see validated() for the store&ndash;load pair): one close ticket per
     * slot, keyed like the slot (hazard pointers hold the ticket of a reserved slot; epoch schemes hold every
     * ticket while a guard that could have read OPEN is open), with a shared countdown whose last action closes
     * the arena. If the reclaimer's close has completed, no guard is open or can open: the arena closes at once.
     * If the reclaimer refuses a retire while its close is still in progress, a guard may still be open: the
     * tickets not retired are kept ({@link #refused}) and the call throws; a {@code close()} once the reclaimer
     * has closed counts them down ({@link #freeRefused()}), so the slab is freed then, never while a guard may
     * read it.
     */
    private void freeSlab() {
        if (reclaimer.isClosed()) {
            closeArena();
            return;
        }
        AtomicInteger pending = new AtomicInteger(capacity);
        Consumer<CloseTicket> last = t -> {
            if (pending.decrementAndGet() == 0) closeArena(); // the last ticket's action frees the slab
        };
        for (int i = 0; i < capacity; i++) {
            try {
                reclaimer.retire(new CloseTicket(i), last);
            } catch (IllegalStateException refusal) {
                int left = capacity - i;
                if (reclaimer.isClosed()) { // closed meanwhile: no guard is open or can open
                    if (pending.addAndGet(-left) == 0) closeArena();
                    return;
                }
                refused.set(new Refused(pending, left)); // volatile
                // A close() that found the manager CLOSED before the record above saw nothing to free: if the
                // reclaimer has closed since, free it here (freeRefused takes the record once, whoever calls it).
                if (reclaimer.isClosed()) {
                    freeRefused();
                    return;
                }
                throw new IllegalStateException("the slot memory is closed, but its reclaimer is closing (guards"
                        + " are still open) and refused to take the slab: call close() again once the reclaimer"
                        + " has closed, which frees it", refusal);
            }
        }
    }

    /** A later close(): frees what a closing reclaimer refused, once it has closed (see {@link #freeSlab()}). */
    private void freeRefused() {
        if (refused.get() == null) return;
        if (!reclaimer.isClosed()) {
            throw new IllegalStateException("the slot memory is closed, but its reclaimer is still closing: the slab"
                    + " is freed by a close() once the reclaimer has closed");
        }
        Refused r = refused.getAndSet(null);
        if (r != null && r.pending().addAndGet(-r.left()) == 0) closeArena();
    }

    private void closeArena() {
        arena.close();
    }

    /** Whether the slab has been freed (tests: close frees it only once no guard can still read it). */
    boolean isSlabFreed() {
        return !arena.scope().isAlive();
    }

    // ------------------------------------------------------------------------------------------ internals

    private int checkHandle(long handle) {
        int i = index(handle);
        if (i < 0 || i >= capacity || (generation(handle) & 1) == 0) {
            throw new IllegalArgumentException("invalid handle " + Long.toHexString(handle) + " (slot " + i
                    + ", generation " + generation(handle) + "): not a handle of a slot memory of capacity "
                    + capacity);
        }
        return i;
    }

    /**
     * Guard.reserve's protocol with the generation as the value read: read it (volatile), reserve the slot's
     * key, re-read until the reservation covers the read; then the handle's generation must match.
     */
    private void validate(Guard g, int i, long base, long handle) {
        long key = i + 1L;
        int gen = generationVolatile(base); // pairs with store's release, free's CAS
        while (!g.reserve(key, 0)) {
            gen = generationVolatile(base); // after the reservation's fence
        }
        if (gen != generation(handle)) throw stale(handle, gen);
    }

    /**
     * The refusal of a handle whose generation is not its slot's current one: {@link IllegalStateException} for a
     * stale handle (its generation is behind the slot's), {@link IllegalArgumentException} for one the slot has not
     * reached, which no store returned. Generations count up from 0 as unsigned 32-bit numbers, so "behind" holds
     * until one slot has been stored and freed 2<sup>31</sup> times, as the handle check of the class comment.
     */
    private static RuntimeException stale(long handle, int current) {
        if (Integer.compareUnsigned(generation(handle), current) > 0) {
            return new IllegalArgumentException("invalid handle " + Long.toHexString(handle) + ": slot "
                    + index(handle) + " has not reached generation " + Integer.toUnsignedString(generation(handle))
                    + " (it is at generation " + Integer.toUnsignedString(current) + "): no store returned it");
        }
        return new IllegalStateException("stale handle " + Long.toHexString(handle) + ": slot " + index(handle)
                + " generation " + generation(handle) + " was freed (the slot is at generation " + current
                + ((current & 1) != 0 ? ", reused" : ", free") + ")");
    }

    /** Raises this thread's busy count, then checks the state (the operation's half of Dekker's pattern). */
    private Accesses begin() {
        Accesses a = accesses.current();
        a.setBusyVolatile(a.busyPlain() + 1); // before the state load (store-load ordered by volatile)
        if (stateVolatile() != OPEN) {
            a.setBusyRelease(a.busyPlain() - 1);
            throw new IllegalStateException("the slot memory is closed");
        }
        return a;
    }

    /** Lowers this thread's busy count: its slab accesses are done (release). */
    static void end(Accesses a) {
        a.setBusyRelease(a.busyPlain() - 1);
    }

    private static long meta(int kind, int length) {
        return ((long) kind << 32) | (length & 0xFFFF_FFFFL);
    }

    /** The reclaim action: pushes the ticket's slot back on the free list; touches no slab memory. */
    private void push(Ticket t) {
        free.push(t.index);
    }

    /** Reads the free-list head's tag (tests). */
    int tag() {
        return free.tag();
    }

    // ------------------------------------------------------------------------------------------ shared accesses
    // Names per docs/memory-orderings.md. The manager's state, and the slab's header words of the slot at byte
    // offset `base` (coordinates: segment, byte offset; naturally aligned: the slab is aligned to 64, the stride
    // and the offsets are multiples of 8).

    private int stateVolatile() {
        return (int) STATE.getVolatile(this);
    }

    private boolean casState(int expected, int update) {
        return STATE.compareAndSet(this, expected, update);
    }

    /** The header word (kind << 32 | length), acquire: pairs with store's and a writer's release stores. */
    private long metaAcquire(long base) {
        return (long) META_H.getAcquire(slab, base + META);
    }

    /** The header word, opaque: after the caller's acquire of the sequence; one word, never torn. */
    private long metaOpaque(long base) {
        return (long) META_H.getOpaque(slab, base + META);
    }

    /** Stores the header word plainly: the release store of the generation publishes it. */
    private void setMetaPlain(long base, long meta) {
        META_H.set(slab, base + META, meta);
    }

    /** Stores the header word, release: a writer's, whole (header reads never see it torn). */
    void setMetaRelease(long base, long meta) {
        META_H.setRelease(slab, base + META, meta);
    }

    private int generationAcquire(long base) {
        return (int) GEN_H.getAcquire(slab, base + GENERATION);
    }

    private int generationVolatile(long base) {
        return (int) GEN_H.getVolatile(slab, base + GENERATION);
    }

    /** Publishes a stored slot: its new odd generation, release. */
    private void setGenerationRelease(long base, int generation) {
        GEN_H.setRelease(slab, base + GENERATION, generation);
    }

    private boolean casGeneration(long base, int expected, int update) {
        return GEN_H.compareAndSet(slab, base + GENERATION, expected, update);
    }

    /** The write sequence, acquire: pairs with a writer's release store of the next even sequence. */
    private int sequenceAcquire(long base) {
        return (int) SEQ_H.getAcquire(slab, base + SEQUENCE);
    }

    /** The write sequence, opaque: a seqlock's re-read, after the caller's load-load fence. */
    int sequenceOpaque(long base) {
        return (int) SEQ_H.getOpaque(slab, base + SEQUENCE);
    }

    private int sequenceVolatile(long base) {
        return (int) SEQ_H.getVolatile(slab, base + SEQUENCE);
    }

    private boolean casSequence(long base, int expected, int update) {
        return SEQ_H.compareAndSet(slab, base + SEQUENCE, expected, update);
    }

    private void setSequenceRelease(long base, int sequence) {
        SEQ_H.setRelease(slab, base + SEQUENCE, sequence);
    }

    private static final VarHandle STATE;
    private static final VarHandle META_H = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle GEN_H = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle SEQ_H = ValueLayout.JAVA_INT.varHandle();

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(SlotMemory.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
