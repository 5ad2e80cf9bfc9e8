package reclaim.impl.common;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import reclaim.api.Born;

/**
 * Hyaline's reference-counted batches (Nikolaev &amp; Ravindran, PLDI 2021), shared by Hyaline and
 * Crystalline: a sealed batch gets one {@link Link} in the list of every reservation that may hold one of its
 * objects; each holder that detaches its list decrements the batch once per link; whoever brings the count
 * to zero reclaims the whole batch. The retirer adds the number of links it inserted after inserting them,
 * so the count may go negative meanwhile; the test for the last reference is {@code getAndAdd(d) == -d}.
 * Links are fresh objects, never reused (rule M1: no ABA on them).
 */
public final class CountedBatches {
    private CountedBatches() {}

    /** A batch with its count of links not yet walked (once the retirer has added them). */
    public static final class Counted {
        final Batch batch;
        /** Accessed only through {@code REFS}. */
        long refs;

        /**
         * Wraps a sealed batch with a zero count.
         *
         * @param batch the batch
         */
        public Counted(Batch batch) {
            this.batch = batch;
        }
    }

    /**
     * A link of a batch in one list; immutable once published by the CAS that inserts it.
     *
     * @param batch the batch
     * @param next the older part of the list (a link, or the list's terminal sentinel)
     */
    public record Link(Counted batch, Object next) {}

    /**
     * Walks a list detached from a reservation: decrements each link's batch, reclaiming those that reach
     * zero. {@code next} is read before the decrement, since afterwards the batch may be reclaimed.
     *
     * @param head the detached list (anything that is not a {@link Link} ends it)
     * @param reclamation the runner of the actions
     */
    public static void traverse(Object head, Reclamation reclamation) {
        Object l = head;
        while (l instanceof Link link) {
            Object next = link.next();
            if ((long) REFS.getAndAdd(link.batch(), -1L) == 1L) reclamation.run(link.batch().batch);
            l = next;
        }
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
        if ((long) REFS.getAndAdd(c, links) == -links) reclamation.run(c.batch);
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
            long birth = b.object(i) instanceof Born born ? born.birthEra() : 0;
            if (birth < min) min = birth;
        }
        return min;
    }

    private static final VarHandle REFS;

    static {
        try {
            REFS = MethodHandles.lookup().findVarHandle(Counted.class, "refs", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
