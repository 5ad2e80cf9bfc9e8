package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Where sealed bags wait until their scheme judges them: a shared stack, or, for a scheme that seals per
 * participant, a stack kept on each participant (pushed by the participant's holder, wait-free; taken whole by
 * collectors), plus the count of objects waiting in either.
 *
 * <p><b>The shared stack</b> is a Treiber stack (R. K. Treiber, "Systems Programming: Coping with Parallelism", IBM
 * RJ 5118, 1986) threaded through {@link Batch#next}, so that queuing a bag allocates nothing (bags are recycled,
 * {@link BatchPool}), from which collectors only ever take everything at once ({@link #takeAll}, one swap). Without a
 * pop of one element it has no ABA problem although its elements are reused: a push's CAS compares the head it
 * linked its bag to, and if that head is the head again, whatever happened in between, the bag is correctly in front
 * of it. Pushes are lock-free (a CAS retried only when another push or a take won), takes wait-free. Bags come out
 * newest first, not in sealing order; a clock scheme, which needs its oldest bags, reads {@link #minTagHint} instead
 * (below) and judges every bag it takes.
 *
 * <p><b>The tag hint</b> is a lower bound of the tags of the bags in the shared stack ({@link Batch#tag}: a clock
 * scheme's stamp), so that a collector finds in one read that no bag is old enough, without taking them: a push lowers
 * it after its CAS, a take raises it to {@code Long.MAX_VALUE} before its swap. Every access is volatile, so in their
 * single order a bag pushed before a take's swap is taken by it, and one pushed after it lowers the hint after the
 * raise: the hint never exceeds the tag of a bag in the stack except between a push's CAS and its lowering, which
 * only lets a racing collector skip that bag once (the next collection takes it; {@code flush} does not read the hint).
 *
 * <p>The count is a field read opaque on every enter of a counting scheme ({@link #waiting()}: a load from a line
 * that changes only when a bag is sealed or taken) and maintained with volatile read-modify-writes. It is added
 * to before a bag is published and subtracted after it is taken, so it never goes below zero; it may read
 * non-zero for a moment before the bag is visible, or zero for a moment after, which only moves a collection by
 * a guard or two.
 */
public final class SealedBags {
    private final boolean perParticipant;
    /** The top of the shared stack, or null; through {@code HEAD}. */
    @SuppressWarnings("unused") // through HEAD
    private Batch head;
    /** A lower bound of the tags in the shared stack (see the class documentation); through {@code MIN_TAG}. */
    @SuppressWarnings("unused") // through MIN_TAG
    private long minTag = Long.MAX_VALUE;
    /** Objects in sealed bags not yet taken; through {@code COUNT} only. */
    private long count;
    /**
     * Objects published by {@link #publish} so far (only grows), for the asymmetric barrier's amortization
     * ({@code Core}); through {@code PUBLISHED}, a line of its own apart from {@link #count}'s neighbours.
     */
    private long published;

    SealedBags(boolean perParticipant) {
        this.perParticipant = perParticipant;
    }

    /** Objects that takers hold ({@link #takeAllHeld}) and have not released: still pending, in their hands. */
    private final AtomicLong held = new AtomicLong();

    /**
     * Publishes a sealed bag: on {@code p}'s stack with per-participant sealing, else on the shared stack.
     *
     * @param p the participant the bag was sealed on (held by the caller)
     * @param bag the sealed bag, now owned by the store
     */
    void publish(Participant p, Batch bag) {
        getAndAddCount(bag.size()); // before the publication: a taker's subtraction never goes below 0
        PUBLISHED.getAndAdd(this, (long) bag.size());
        if (perParticipant) p.pushSealed(bag); // volatile CAS: publishes the bag to collectors, wait-free
        else push(bag, bag, bag.tag());
    }

    /**
     * Puts a bag on the shared stack (a bag handed over aside, or one whose objects were not all reclaimable).
     * Allocates nothing, so it cannot fail.
     *
     * @param bag a bag owned by the caller, not in a chain; nothing happens if it is empty
     */
    public void add(Batch bag) {
        if (bag.isEmpty()) return;
        getAndAddCount(bag.size());
        push(bag, bag, bag.tag());
    }

    /**
     * Puts a chain of bags (linked through {@link Batch#next}, as {@link #takeAll} returns them) back on the shared
     * stack with one push. Allocates nothing, so it cannot fail.
     *
     * @param chain the first bag of a chain owned by the caller, or null
     */
    public void addChain(Batch chain) {
        if (chain == null) return;
        long objects = chain.size();
        long min = chain.tag();
        Batch last = chain;
        for (Batch b = chain.next; b != null; b = b.next) {
            objects += b.size();
            min = Math.min(min, b.tag());
            last = b;
        }
        getAndAddCount(objects);
        push(chain, last, min);
    }

    /** Pushes the chain {@code first..last} (the caller's), then lowers the hint to {@code minTag}. */
    private void push(Batch first, Batch last, long minTag) {
        while (true) {
            Batch top = (Batch) HEAD.getVolatile(this);
            last.next = top; // plain: the chain is still ours until the CAS publishes it
            // Volatile CAS: publishes the bags' contents and links (and the unlinks before their retires) to the taker.
            if (HEAD.compareAndSet(this, top, first)) break;
        }
        // After the push (the class documentation: the hint never stays above a bag in the stack). A volatile CAS
        // loop that only lowers; one volatile read when the hint is already low enough.
        long m = (long) MIN_TAG.getVolatile(this);
        while (minTag < m && !MIN_TAG.compareAndSet(this, m, minTag)) m = (long) MIN_TAG.getVolatile(this);
    }

    /**
     * Takes every bag of the shared stack, newest first, chained through {@link Batch#next}; the caller owns the
     * chain, and clears each bag's link when it walks it.
     *
     * @return the first bag of the chain, or null
     */
    public Batch takeAll() {
        return takeAll(false);
    }

    /**
     * {@link #takeAll()} for a taker that keeps what it took counted in {@link #objectsAndHeld()} until it
     * {@linkplain #release releases} it: a collection, a trickle or a drain, whose objects are still pending while
     * they are in its hands ({@code Reclaimer.pendingBound()} counts them there).
     *
     * @return the first bag of the chain, or null
     */
    public Batch takeAllHeld() {
        return takeAll(true);
    }

    private Batch takeAll(boolean hold) {
        if (HEAD.getVolatile(this) == null) return null;
        MIN_TAG.setVolatile(this, Long.MAX_VALUE); // before the swap: see the class documentation
        Batch chain = (Batch) HEAD.getAndSet(this, (Batch) null); // volatile: acquires what the pushes published
        long objects = Batch.objectsIn(chain);
        if (objects != 0) {
            if (hold) held.addAndGet(objects); // before the count drops: objectsAndHeld() never misses them
            getAndAddCount(-objects);
        }
        return chain;
    }

    /**
     * Ends the hold of {@code objects} that a taker took with {@link #takeAllHeld} or
     * {@link #takeChainFromParticipantsHeld}: inserted, judged, run, deferred or put back by now.
     *
     * @param objects the objects taken
     */
    public void release(long objects) {
        if (objects != 0) held.addAndGet(-objects);
    }

    /**
     * Returns the objects in sealed bags and those that takers hold ({@link #takeAllHeld}), for the bound on pending
     * objects. A taker adds to the held count before it subtracts from the store's, and puts back (adds to the store's)
     * before it releases: so the held count is read before and after the store's, and the larger taken, and an object
     * moving either way meanwhile counts twice rather than not at all. Volatile reads.
     *
     * @return the count
     */
    public long objectsAndHeld() {
        long h = held.get();
        long c = countVolatile();
        return c + Math.max(h, held.get());
    }

    /**
     * Returns whether the shared stack holds no bag (a volatile read).
     *
     * @return true if it is empty
     */
    public boolean sharedEmpty() {
        return HEAD.getVolatile(this) == null;
    }

    /**
     * Returns a lower bound of the tags of the bags in the shared stack ({@code Long.MAX_VALUE} when there are none),
     * exact but for a push in flight (see the class documentation). A volatile read.
     *
     * @return the bound
     */
    public long minTagHint() {
        return (long) MIN_TAG.getVolatile(this);
    }

    /**
     * Takes every bag sealed on the participants (per-participant sealing) and gives each to {@code sink}.
     * Bounded: one read per participant and one swap per participant that has bags.
     *
     * @param participants the participants to take from
     * @param sink receives each bag, now owned by it
     * @return the number of bags taken
     */
    public int takeFromParticipants(Participant[] participants, Consumer<Batch> sink) {
        int n = 0;
        for (Batch b = takeChainFromParticipants(participants, null); b != null; n++) {
            Batch next = b.next;
            b.next = null; // the sink owns it alone: it keeps no other bag reachable
            sink.accept(b);
            b = next;
        }
        return n;
    }

    /**
     * Takes every bag sealed on the participants (per-participant sealing) and chains them through
     * {@link Batch#next} in front of {@code rest}: the same as {@link #takeFromParticipants} without a sink (nothing
     * allocated). The caller owns the chain, and clears each bag's link when it walks it.
     *
     * @param participants the participants to take from
     * @param rest the chain to put them in front of, or null
     * @return the chain's head ({@code rest} if there was nothing to take)
     */
    public Batch takeChainFromParticipants(Participant[] participants, Batch rest) {
        return takeChainFromParticipants(participants, rest, false);
    }

    /**
     * {@link #takeChainFromParticipants(Participant[], Batch)} for a taker that holds what it took, as
     * {@link #takeAllHeld}.
     *
     * @param participants the participants to take from
     * @param rest the chain to put them in front of, or null
     * @return the chain's head
     */
    public Batch takeChainFromParticipantsHeld(Participant[] participants, Batch rest) {
        return takeChainFromParticipants(participants, rest, true);
    }

    private Batch takeChainFromParticipants(Participant[] participants, Batch rest, boolean hold) {
        if (!perParticipant) return rest;
        Batch head = rest;
        for (Participant p : participants) {
            Batch top = p.takeSealed();
            if (top == null) continue;
            Batch last = top;
            long objects = top.size();
            while (last.next != null) {
                last = last.next;
                objects += last.size();
            }
            if (hold) held.addAndGet(objects); // before the count drops, as in takeAll
            getAndAddCount(-objects);
            last.next = head;
            head = top;
        }
        return head;
    }

    /**
     * Takes every bag, from the shared stack and from the participants, and gives each to {@code sink}.
     *
     * @param participants the participants
     * @param sink receives each bag
     */
    void drain(Participant[] participants, Consumer<Batch> sink) {
        Batch rest = takeAll();
        try {
            while (rest != null) {
                Batch b = rest;
                rest = b.next;
                b.next = null; // the sink owns it alone
                sink.accept(b);
            }
        } finally {
            addChain(rest); // a sink that failed: the bags it did not get stay in the store
        }
        takeFromParticipants(participants, sink);
    }

    /**
     * Returns whether bags were sealed and not yet taken (an opaque read).
     *
     * @return true if bags wait
     */
    public boolean waiting() {
        return countOpaque() != 0;
    }

    /**
     * Returns the number of objects in sealed bags (a volatile read; approximate while threads run).
     *
     * @return the count
     */
    public long objects() {
        return countVolatile();
    }

    /**
     * Returns the objects published by sealing so far (an opaque read: only grows, read to pace collections).
     *
     * @return the count
     */
    long publishedOpaque() {
        return (long) PUBLISHED.getOpaque(this);
    }

    private long countOpaque() {
        return (long) COUNT.getOpaque(this);
    }

    private long countVolatile() {
        return (long) COUNT.getVolatile(this);
    }

    private void getAndAddCount(long delta) {
        COUNT.getAndAdd(this, delta);
    }

    private static final VarHandle HEAD;
    private static final VarHandle MIN_TAG;
    private static final VarHandle COUNT;
    private static final VarHandle PUBLISHED;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(SealedBags.class, "head", Batch.class);
            MIN_TAG = MethodHandles.lookup().findVarHandle(SealedBags.class, "minTag", long.class);
            COUNT = MethodHandles.lookup().findVarHandle(SealedBags.class, "count", long.class);
            PUBLISHED = MethodHandles.lookup().findVarHandle(SealedBags.class, "published", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
