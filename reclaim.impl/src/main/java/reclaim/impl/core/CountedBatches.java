package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import reclaim.api.Born;

/**
 * Hyaline's reference-counted batches (Nikolaev &amp; Ravindran, PLDI 2021), shared by Hyaline and
 * Crystalline: a sealed batch gets one {@link Link} in the list of every reservation that may hold one of its
 * objects; each holder that detaches its list decrements the batch once per link; whoever brings the count
 * to zero reclaims the whole batch. The retirer adds the number of links it inserted after inserting them,
 * so the count may go negative meanwhile; the test for the last reference is {@code getAndAdd(d) == -d}.
 *
 * <p><b>Reuse.</b> The counted wrapper and its links are reused with their batch ({@link Counted}), so that a
 * reclaimer in steady state allocates neither. A link is used again only by a later insertion of its batch, which
 * follows the count's return to zero: every link of the earlier insertion was walked, and a walker reads a link's
 * {@code next} before its decrement, so nobody reads the link any more. What may remain is an inserter's CAS that
 * read a link as a list's head in its earlier life and still expects it: the CAS succeeds only if the link is that
 * list's head again, and then the inserter's new link, whose {@code next} is that head, is a correct front of the
 * list (a CAS that only pushes in front of the head it compared cannot be fooled by the head's history: the ABA
 * problem of a Treiber stack is on pop, and lists are only detached whole). At worst it puts the batch in the list
 * of a reader that entered after the retire: one reference more, dropped when that reader leaves.
 *
 * <p>Crystalline-W inserts by swap and then links {@code next} ({@link Link#linkNext}); a walker marks each link it
 * passes ({@link Link#pass}); a retirer whose index was deactivated under it takes its link back with a CAS that
 * detaches the list. That CAS is a pop, so it expects only the retirer's own link of the insertion in progress, never
 * a head it read: a link of this insertion cannot be walked to the end of its life, recycled and inserted again before
 * the retirer adds the count (the count cannot reach zero before that add), so the CAS cannot meet the link's next
 * life; both read-modify-writes of {@code next} also target only links of lives in progress.
 */
public final class CountedBatches {
    private CountedBatches() {}

    /**
     * A batch with its count of links not yet walked (once the retirer has added them). One per batch, kept by the
     * batch ({@link #of}) and reused when the batch is: it is renewed only by the retirer inserting the batch, after
     * the count of its previous insertion reached zero (every link walked, the batch reclaimed and recycled), so no
     * walker touches it any more; its count is then zero again by construction.
     */
    public static final class Counted {
        final Batch batch;
        /** Accessed only through {@code REFS}. */
        long refs;
        /**
         * Objects of the batch born at or before the oldest reservation it joined (see {@link #oldPending}). Plain:
         * written by the retirer before the CASes that insert its links, read by whoever brings the count to zero,
         * after a read-modify-write of the count that follows the retirer's in its order (the retirer's
         * {@link #inserted}), so it sees the write.
         */
        private long old;
        /** Where {@link #old} is counted while the batch is pending, or null; plain, as {@link #old}. */
        private AtomicLong oldPending;
        /**
         * Every link made for this batch, reused at each insertion (see the class documentation); the first
         * {@link #used} are in lists. Plain: touched only by the retirer inserting the batch (which owns it until it
         * adds the count, {@link #inserted}) and by whoever brings the count to zero ({@link #reclaim}); the count's
         * read-modify-writes order the two.
         */
        private Link[] links = NO_LINKS;
        private int used;

        /**
         * Wraps a sealed batch with a zero count.
         *
         * @param batch the batch
         */
        public Counted(Batch batch) {
            this(batch, 0, null);
        }

        /**
         * Wraps a sealed batch with a zero count, and counts {@code old} of its objects in {@code oldPending}
         * until it is reclaimed.
         *
         * @param batch the batch
         * @param old objects born at or before the oldest reservation the batch joins
         * @param oldPending the counter, or null
         */
        public Counted(Batch batch, long old, AtomicLong oldPending) {
            this.batch = batch;
            renew(old, oldPending);
        }

        private void renew(long old, AtomicLong oldPending) {
            this.old = old;
            this.oldPending = oldPending;
            this.used = 0; // every link of the last insertion was walked: the count came back to zero
            if (oldPending != null && old != 0) oldPending.addAndGet(old);
        }

        /**
         * Makes room for {@code links} links before the insertion publishes any (one array, at a batch's first
         * insertion or when the participants grew). The links themselves are made as they are first needed
         * ({@link #spare}) and kept: making all of them ahead (a participant of Crystalline has 25 indices) would cost
         * a batch's first insertion dozens of objects it rarely uses.
         *
         * @param links the most links this insertion may publish
         */
        public void reserve(int links) {
            Link[] ls = this.links;
            if (ls.length < links) this.links = Arrays.copyOf(ls, Math.max(links, 2 * ls.length));
        }

        /**
         * Returns a link of this batch in front of {@code head}, not yet counted as used: the retirer CASes it over
         * {@code head} and calls {@link #linked} if the CAS succeeded; after a failure it may call this again (the
         * same link, pointed at the new head). Plain writes, published by the CAS that inserts the link (a volatile
         * write) to the walker that detaches the list with a swap.
         *
         * @param head the list's head the link goes in front of
         * @return the link
         */
        public Link spare(Object head) {
            int n = used;
            Link[] ls = links;
            if (n == ls.length) links = ls = Arrays.copyOf(ls, Math.max(4, 2 * n)); // not after a reserve() of enough
            // A link made here, at its first use, may be made after others of this insertion were published: an
            // OutOfMemoryError then leaves the batch partly inserted and never counted (not guarded against).
            Link l = ls[n];
            if (l == null) ls[n] = l = new Link(this);
            l.next = head;
            return l;
        }

        /** Counts the link of the last {@link #spare} as inserted. */
        public void linked() {
            used++;
        }

        /**
         * Takes back what {@link #renew} counted in {@code oldPending}, for an insertion that failed before it
         * published a link ({@code CountingPolicy.notInserted}): the batch goes back to the store, and its next
         * insertion counts it anew. Nothing if this wrapper's count was taken back already (it was reclaimed).
         */
        void notInserted() {
            AtomicLong pending = oldPending;
            oldPending = null;
            if (pending != null && old != 0) pending.addAndGet(-old);
            old = 0;
        }

        void reclaim(Reclamation reclamation) {
            long o = old;
            AtomicLong pending = oldPending;
            oldPending = null; // before the batch may be recycled and renewed by its next insertion
            // Every walker read its link's next before the decrement that led here: nothing reads them any more.
            // Cleared so that a link kept for reuse pins no list of its last life.
            for (Link l : links) {
                if (l == null) break;
                l.next = null;
            }
            try {
                reclamation.run(batch);
            } finally {
                if (pending != null && o != 0) pending.addAndGet(-o);
            }
        }
    }

    /**
     * Returns the batch's counted wrapper for an insertion (the retirer's, before it inserts any link): the one the
     * batch keeps from an earlier insertion, renewed, or a new one that the batch then keeps. No allocation once a
     * recycled batch comes round again.
     *
     * @param b the batch, owned by the caller and not yet inserted
     * @param old objects born at or before the oldest reservation the batch joins
     * @param oldPending the counter for {@code old}, or null
     * @return the wrapper, with a zero count
     */
    public static Counted of(Batch b, long old, AtomicLong oldPending) {
        Counted c = b.counted;
        if (c == null) {
            b.counted = c = new Counted(b, old, oldPending);
        } else {
            if ((long) REFS.getOpaque(c) != 0) throw new IllegalStateException("internal error: a batch inserted while counted");
            c.renew(old, oldPending);
        }
        return c;
    }

    /**
     * Counts the objects of a batch born at or before an era.
     *
     * @param b the batch
     * @param era the era
     * @return how many objects have a birth era {@code <= era} ({@code 0} for objects that are not Born)
     */
    public static long bornBy(Batch b, long era) {
        long n = 0;
        for (int i = 0, size = b.size(); i < size; i++) {
            long birth = birthOf(b.object(i));
            if (birth <= era) n++;
        }
        return n;
    }

    /**
     * The birth era of a retired object: its {@link Born#birthEra()}, or {@code 0} (unknown) for an object that is not
     * Born, and for one whose {@code birthEra()} throws. The call is user code, run while a batch is inserted, on
     * whichever thread inserts it and for objects other threads retired: a failure is contained there (the object
     * counts as one of unknown birth, which is always safe: it is kept from every reservation) and reported once per
     * class in the JVM on the {@code System.Logger} named {@code reclaim}, never thrown into an unrelated call.
     *
     * @param o the retired object
     * @return its birth era, or {@code 0}
     */
    static long birthOf(Object o) {
        if (!(o instanceof Born born)) return 0;
        try {
            return born.birthEra();
        } catch (RuntimeException e) {
            if (REPORTED.add(o.getClass().getName())) {
                LOG.log(System.Logger.Level.WARNING, () -> "birthEra() of " + o.getClass().getName() + " threw; its"
                        + " objects count as of unknown birth (era 0) while they are pending", e);
            }
            return 0;
        }
    }

    private static final System.Logger LOG = System.getLogger("reclaim");
    /** The classes whose failing {@code birthEra()} was reported. */
    private static final java.util.Set<String> REPORTED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static final Link[] NO_LINKS = {};

    /**
     * A link of a batch in one list, owned by the batch's {@link Counted} and reused with it (see the class
     * documentation). In Hyaline's and Crystalline-L's lists it is not changed while in a list: {@code next} is written
     * by the retirer before the CAS that publishes the link (plain, published by that CAS), and cleared by the
     * reclaimer once the batch's count reached zero. Crystalline-W inserts by swap and sets {@code next} after it
     * ({@link #linkNext}, {@link #pass}: volatile read-modify-writes of that one word).
     */
    public static final class Link {
        private final Counted batch;
        /**
         * The older part of the list (a link, or the list's terminal sentinel): plain (see {@link Counted#spare}), or
         * through {@code NEXT} for Crystalline-W's lists.
         */
        private Object next;
        /**
         * Hyaline's session stamp: the value of the slot's session word that the retirer read when it decided to
         * insert this link ({@link #stamp}). Plain, written before the CAS that publishes the link, like {@link #next}.
         */
        private long session;

        private Link(Counted batch) {
            this.batch = batch;
        }

        /**
         * Stamps the link with the session it is inserted for (Hyaline: the slot's session word as the retirer read
         * it). Before the CAS that publishes the link: plain, published by that CAS.
         *
         * @param session the session
         */
        public void stamp(long session) {
            this.session = session;
        }

        /**
         * Returns the session the link was inserted for ({@link #stamp}).
         *
         * @return the stamp
         */
        public long session() {
            return session;
        }

        /**
         * Returns the batch this link counts for.
         *
         * @return the batch's counted wrapper
         */
        public Counted batch() {
            return batch;
        }

        /**
         * Points the last link of a detached list at another detached list, making one list of the two. Only for
         * the thread that detached both (a detached list is its alone: nobody else reads its links' {@code next}).
         *
         * @param rest the list to walk after this link
         */
        public void splice(Object rest) {
            if (next instanceof Link) throw new IllegalArgumentException("internal error: not the last link of its list");
            next = rest;
        }

        /**
         * Returns the older part of the list.
         *
         * @return a link, or the list's terminal sentinel
         */
        public Object next() {
            return next;
        }

        /**
         * Crystalline-W's retirer, after the swap that made this link a list's head: links the part of the list the
         * swap displaced (a volatile compare-and-set from null). Fails if a walker passed the link first
         * ({@link #pass}), which then could not reach {@code prev}: the retirer walks it itself.
         *
         * @param prev the list the swap displaced
         * @return false if a walker passed this link before
         */
        public boolean linkNext(Object prev) {
            return NEXT.compareAndSet(this, (Object) null, prev);
        }

        /**
         * Crystalline-W's walker: takes {@code next} and leaves {@code mark} in its place (a volatile swap), so that
         * a retirer that has not linked the link yet fails its {@link #linkNext}.
         *
         * @param mark what a passed link holds
         * @return the older part of the list, or null if its retirer had not linked it
         */
        public Object pass(Object mark) {
            return NEXT.getAndSet(this, mark);
        }
    }

    /**
     * Walks a list detached from a reservation: decrements each link's batch, reclaiming those that reach
     * zero. {@code next} is read before the decrement, since afterwards the batch may be reclaimed.
     *
     * @param head the detached list (anything that is not a {@link Link} ends it)
     * @param reclamation the runner of the actions
     */
    public static void traverse(Object head, Reclamation reclamation) {
        if (!(head instanceof Link)) return;
        // A list may hold many batches whose last reference this walk drops (a guard that stayed open across a
        // collection): it runs a few and leaves the rest for later seals, as a trickling collection does.
        int saved = reclamation.beginTrickle(true);
        try {
            Object l = head;
            while (l instanceof Link link) {
                Object next = link.next();
                if ((long) REFS.getAndAdd(link.batch(), -1L) == 1L) link.batch().reclaim(reclamation);
                l = next;
            }
        } finally {
            reclamation.endTrickle(saved);
        }
    }

    /**
     * Points a link the caller holds (detached from every list, not yet walked) at {@code head}: to chain it into a
     * list of the caller's own, or before a CAS that publishes it in front of {@code head} (plain, published by that
     * CAS). Hyaline's tidying pass sorts a detached list this way ({@code HyalinePolicy}).
     *
     * @param link the link
     * @param head the list it goes in front of
     */
    public static void relink(Link link, Object head) {
        link.next = head;
    }

    /**
     * Drops one link's reference to a batch (a walker of a list that is not made of {@link Link}s, as
     * Crystalline-W's swapped lists); reclaims the batch if it was the last.
     *
     * @param c the batch
     * @param reclamation the runner of the actions
     */
    public static void release(Counted c, Reclamation reclamation) {
        if ((long) REFS.getAndAdd(c, -1L) == 1L) c.reclaim(reclamation);
    }

    /**
     * Adds the number of links the retirer inserted; reclaims the batch if every link was already walked
     * (or none was inserted).
     *
     * @param c the batch
     * @param links links inserted
     * @param reclamation the runner of the actions
     */
    public static void inserted(Counted c, long links, Reclamation reclamation) {
        if ((long) REFS.getAndAdd(c, links) == -links) c.reclaim(reclamation);
    }

    /**
     * Returns the smallest birth era in a batch ({@code 0} for an object that is not {@link Born}).
     *
     * @param b the batch
     * @return the minimum birth era
     */
    public static long minBirth(Batch b) {
        long min = Long.MAX_VALUE;
        for (int i = 0, n = b.size(); i < n; i++) {
            long birth = birthOf(b.object(i));
            if (birth < min) min = birth;
        }
        return min;
    }

    private static final VarHandle REFS;
    private static final VarHandle NEXT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            REFS = l.findVarHandle(Counted.class, "refs", long.class);
            NEXT = l.findVarHandle(Link.class, "next", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
