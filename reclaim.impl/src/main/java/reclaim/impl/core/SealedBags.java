package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * Where sealed bags wait until their scheme judges them: a shared queue (oldest first, roughly: racing sealers
 * may interleave), or, for a scheme that seals per participant, a stack kept on each participant (pushed by the
 * participant's holder, wait-free; taken whole by collectors), plus the count of objects waiting in either.
 *
 * <p>The count is a field read opaque on every enter of a counting scheme ({@link #waiting()}: a load from a line
 * that changes only when a bag is sealed or taken) and maintained with volatile read-modify-writes. It is added
 * to before a bag is published and subtracted after it is taken, so it never goes below zero; it may read
 * non-zero for a moment before the bag is visible, or zero for a moment after, which only moves a collection by
 * a guard or two.
 */
public final class SealedBags {
    private final ConcurrentLinkedQueue<Batch> queue = new ConcurrentLinkedQueue<>();
    private final boolean perParticipant;
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

    /**
     * Publishes a sealed bag: on {@code p}'s stack with per-participant sealing, else in the shared queue.
     *
     * @param p the participant the bag was sealed on (held by the caller)
     * @param bag the sealed bag, now owned by the store
     */
    void publish(Participant p, Batch bag) {
        getAndAddCount(bag.size()); // before the publication: a taker's subtraction never goes below 0
        PUBLISHED.getAndAdd(this, (long) bag.size());
        if (perParticipant) p.pushSealed(bag); // volatile CAS: publishes the bag to collectors, wait-free
        else queue.add(bag); // a volatile write inside the queue publishes it to the collector
    }

    /**
     * Queues a bag in the shared queue (a bag handed over aside, or one whose objects were not all reclaimable).
     *
     * @param bag a bag owned by the caller; nothing happens if it is empty
     */
    public void add(Batch bag) {
        if (bag.isEmpty()) return;
        getAndAddCount(bag.size());
        try {
            queue.add(bag); // allocates the queue's node: may throw OutOfMemoryError
        } catch (RuntimeException | Error e) {
            getAndAddCount(-bag.size()); // not added: the caller still owns the bag
            throw e;
        }
    }

    /**
     * Returns the oldest bag of the shared queue without taking it.
     *
     * @return the bag, or null
     */
    public Batch peek() {
        return queue.peek();
    }

    /**
     * Takes the oldest bag of the shared queue.
     *
     * @return a bag now owned by the caller, or null
     */
    public Batch poll() {
        Batch b = queue.poll();
        if (b != null) getAndAddCount(-b.size());
        return b;
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
            getAndAddCount(-objects);
            last.next = head;
            head = top;
        }
        return head;
    }

    /**
     * Takes every bag, from the queue and from the participants, and gives each to {@code sink}.
     *
     * @param participants the participants
     * @param sink receives each bag
     */
    void drain(Participant[] participants, Consumer<Batch> sink) {
        Batch b;
        while ((b = poll()) != null) sink.accept(b);
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

    private static final VarHandle COUNT;
    private static final VarHandle PUBLISHED;

    static {
        try {
            COUNT = MethodHandles.lookup().findVarHandle(SealedBags.class, "count", long.class);
            PUBLISHED = MethodHandles.lookup().findVarHandle(SealedBags.class, "published", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
