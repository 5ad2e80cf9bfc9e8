package reclaim.impl.core;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checked mode's bookkeeping ({@link reclaim.api.Options#checked()}): the objects retired to one core and not yet
 * reclaimed, by identity, so that a second retire of one of them is refused instead of running its action twice;
 * and, once {@code close()} starts its final drain, what was still pending then.
 *
 * <h2>When an object is tracked</h2>
 * From the moment a retire accepts it (before the retirer takes anything: a refusal names the object, whose
 * {@code toString()} is user code, and must not run while the retirer holds its participant BUSY) until the moment
 * its action is about to run ({@link Reclamation}, before the call). Untracking before the action, not after, is
 * what keeps recycling legal: an action that returns a node to a pool may let another thread take, link, unlink
 * and retire the same node again before the action itself has returned. So "retired twice" means: retired again
 * while the first retire's action has not started. A retire after that is a new life of the object, as far as
 * this check can tell; a true double retire that races with the first reclamation this way is not detected.
 *
 * <h2>Concurrency</h2>
 * A fixed array of stripes, each an {@link IdentityHashMap} guarded by its own monitor, chosen by the object's
 * identity hash: no allocation per retire beyond the maps' growth, and retirers of different objects rarely meet
 * on one lock. The monitors give every access its ordering; {@link #late} is written once, by the thread running
 * {@code close()}, and read by any thread (volatile).
 *
 * <p>Nothing here keeps an object alive longer than the bag that holds it: an entry leaves when its action is
 * about to run. Only descriptions (strings) of what close() reclaimed late are kept after it.
 */
final class RetireCheck {
    /** How many objects pending at close are named ({@link #pendingAtClose()}, the report); the rest are counted. */
    static final int LATE_LIST_LIMIT = 64;
    /** A description's longest {@code toString()} part, in characters. */
    private static final int DESCRIPTION_LIMIT = 200;
    private static final int STRIPES = 64; // a power of two

    private static final System.Logger LOG = System.getLogger("reclaim");

    private final String scheme;
    /** Tracked object to the name of the thread that retired it; each stripe guarded by its own monitor. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private final Map<Object, String>[] stripes = new Map[STRIPES];
    /** Descriptions of the first objects still pending when close() began its drain; null before. */
    private volatile List<String> late;

    RetireCheck(String scheme) {
        this.scheme = scheme;
        for (int i = 0; i < STRIPES; i++) stripes[i] = new IdentityHashMap<>();
    }

    private Map<Object, String> stripeOf(Object object) {
        int h = System.identityHashCode(object);
        return stripes[(h ^ (h >>> 16)) & (STRIPES - 1)];
    }

    /**
     * Tracks an object that a retire is about to accept.
     *
     * @param object the object
     * @throws IllegalStateException if it is already retired and its action has not started
     */
    void retiring(Object object) {
        Map<Object, String> stripe = stripeOf(object);
        String first;
        synchronized (stripe) {
            first = stripe.putIfAbsent(object, Thread.currentThread().getName());
        }
        if (first != null) {
            throw new IllegalStateException("retired twice (checked mode): " + describe(object) + " was retired to"
                    + " this " + scheme + " reclaimer by thread '" + first + "' and is not reclaimed yet; retiring it"
                    + " again would run its action twice. Retire an object once per unlink; this retire is refused"
                    + " and the first one stands");
        }
    }

    /**
     * Returns whether an object is retired and its action has not started.
     *
     * @param object the object
     * @return whether it is tracked
     */
    boolean isPending(Object object) {
        Map<Object, String> stripe = stripeOf(object);
        synchronized (stripe) {
            return stripe.containsKey(object);
        }
    }

    /**
     * Stops tracking an object whose action is about to run: from now on, a retire of it is a new one.
     *
     * @param object the object
     */
    void reclaiming(Object object) {
        untrack(object);
    }

    /**
     * Stops tracking an object that {@link #retiring} accepted but the retire did not take after all (the reclaimer
     * closed meanwhile).
     *
     * @param object the object
     */
    void untrack(Object object) {
        Map<Object, String> stripe = stripeOf(object);
        synchronized (stripe) {
            stripe.remove(object);
        }
    }

    /**
     * Notes what is still pending as close() begins its final drain (the closing thread, no guard open anywhere and
     * no other work in flight): the objects reclaimed late, by close() rather than by the scheme.
     */
    void draining() {
        List<String> named = new ArrayList<>();
        long count = 0;
        for (Map<Object, String> stripe : stripes) {
            List<Object> pending;
            synchronized (stripe) {
                count += stripe.size();
                pending = named.size() < LATE_LIST_LIMIT ? new ArrayList<>(stripe.keySet()) : List.of();
            }
            // Described outside the lock: toString() is user code, which may itself retire.
            for (Object o : pending) {
                if (named.size() == LATE_LIST_LIMIT) break;
                named.add(describe(o));
            }
        }
        late = List.copyOf(named);
        if (count > 0) {
            long total = count;
            LOG.log(System.Logger.Level.INFO, () -> "close() of a " + scheme + " reclaimer (checked mode) reclaimed "
                    + total + " object(s) still pending when it began" + (total > named.size() ? ", the first "
                    + named.size() + " of them" : "") + ": " + String.join(", ", named));
        }
    }

    /**
     * Returns the descriptions noted by {@link #draining()}.
     *
     * @return at most {@link #LATE_LIST_LIMIT} descriptions; empty before close() began its drain
     */
    List<String> pendingAtClose() {
        List<String> l = late;
        return l == null ? List.of() : l;
    }

    /**
     * Describes an object for a message: its class, identity hash and {@code toString()} (shortened, left out when
     * it is {@code Object}'s own; a failing {@code toString()} is named, not thrown).
     *
     * @param object the object
     * @return the description
     */
    static String describe(Object object) {
        String id = object.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(object));
        String text;
        try {
            text = String.valueOf(object);
        } catch (RuntimeException | StackOverflowError e) {
            text = "toString() threw " + e.getClass().getName();
        }
        if (text.equals(id)) return id; // Object's own toString() adds nothing
        if (text.length() > DESCRIPTION_LIMIT) text = text.substring(0, DESCRIPTION_LIMIT) + "...";
        return id + " (" + text + ")";
    }
}
