package reclaim.impl.core;

import reclaim.impl.core.CountedBatches.Link;

/**
 * Lists of counted-batch links kept beside a session word, so that a reader's leave needs no read-modify-write: the
 * slots of Hyaline and the reservation indices of Crystalline-L.
 *
 * <p>In the papers (Nikolaev and Ravindran, PLDI 2021 and DISC 2021) a slot's head is one word that says both whether
 * a reader holds the slot and which batches it holds, so the reader's leave swaps it against the retirers' CASes: a
 * locked instruction on every guard that used the slot. Here each slot has two words:
 * <ul>
 *   <li>the <b>session word</b>, odd while a reader holds the slot, written only by that reader (one store when it
 *       activates the slot, one when it leaves: release stores, volatile where the fence strategy needs the store-load
 *       pair) or by the sweeper of a reader whose thread ended;</li>
 *   <li>the <b>list head</b>, null or the newest {@link Link}, onto which retirers CAS links ({@link #push}).</li>
 * </ul>
 * A retirer reads the session word after its heavy barrier (or fence), skips an even value, and stamps the link it
 * inserts with the odd value it read ({@link Link#stamp}). <b>The rule:</b> a link's reference to its batch is dropped
 * only by a thread that knows the link's session ended: the holder, for every link it takes when it leaves (no link
 * can carry a later session than the one it ends), or a thread that read a later session value with an acquire load
 * (every store of the word is at least a release, after every read of the session in the holder's program order).
 *
 * <p>The reader's leave stores the next (even) session value and then loads the head, taking the list (a swap to
 * null) only if it is not null. An insertion racing that load lands after the leave looked and stays in the slot: it
 * is taken by the holder's next leave or by the <b>tidying pass</b> ({@link #tidy(Slots, int, Reclamation)}), which
 * runs at the end of every collection and in {@code close()}. The pass takes the list of an inactive slot only with a
 * CAS from the head it read, after checking that every link below that head is of a session older than the session
 * value it read, so that it never holds a link a later session may need where that session's leave or a concurrent
 * {@code flush()} cannot find it.
 *
 * <p>Progress: {@link #push} and the pass are lock-free (a CAS retried only when another thread changed the head or
 * the session moved on); the pass scans at most {@link #SCAN_LIMIT} links per attempt.
 */
public final class SessionLists {
    private SessionLists() {}

    /**
     * Indexed slots, each a session word and a list head (Hyaline's participant has one, Crystalline's reservations
     * have one per index).
     */
    public interface Slots {
        /**
         * The list head of slot {@code i}, volatile read.
         *
         * @param i the slot
         * @return null, or the newest link
         */
        Object headVolatile(int i);

        /**
         * The session word of slot {@code i}, volatile read.
         *
         * @param i the slot
         * @return the session value (odd: held)
         */
        long sessionVolatile(int i);

        /**
         * A CAS of slot {@code i}'s list head (volatile semantics).
         *
         * @param i the slot
         * @param expected the head expected
         * @param update the new head
         * @return whether it succeeded
         */
        boolean casHead(int i, Object expected, Object update);
    }

    /**
     * Whether a value of a session word means a reader holds the slot.
     *
     * @param session a value of the session word
     * @return true if it is odd
     */
    public static boolean active(long session) {
        return (session & 1L) != 0;
    }

    /**
     * Puts a link the caller holds in front of slot {@code i}'s list: a CAS, retried only when another insertion or a
     * take changed the head (lock-free). The link's {@code next} and stamp are plain, published by the CAS.
     *
     * @param s the slots
     * @param i the slot
     * @param link the link (stamped already)
     */
    public static void push(Slots s, int i, Link link) {
        while (true) {
            Object prev = s.headVolatile(i);
            CountedBatches.relink(link, prev);
            if (s.casHead(i, prev, link)) return;
        }
    }

    /**
     * The tidying pass over one slot: while it is inactive and its list not empty, {@link #tidy(Slots, int, Object,
     * long, Reclamation)}. Lock-free: it looks again only when the list or the session word changed meanwhile.
     *
     * @param s the slots
     * @param i the slot
     * @param reclamation the runner of the actions of batches whose last reference the pass drops
     */
    public static void tidy(Slots s, int i, Reclamation reclamation) {
        while (true) {
            Object h = s.headVolatile(i);
            if (h == null) return;
            long q = s.sessionVolatile(i); // after the head: a link in that list was stamped no later than q's session
            if (active(q)) return; // its holder takes the list when it leaves
            if (tidy(s, i, h, q, reclamation)) return;
        }
    }

    /**
     * {@code close()}'s pass on slot {@code i} ({@link Policy#tidyClosed}): takes its list whatever its session word says
     * and drops every link's reference. Only when no guard can be open or open again: an active session then belongs to
     * an enter that is being refused, which needs nothing its slot holds.
     *
     * @param s the slots
     * @param i the slot
     * @param reclamation where batches whose count reaches zero are reclaimed
     */
    public static void takeAtClose(Slots s, int i, Reclamation reclamation) {
        while (true) {
            Object h = s.headVolatile(i);
            if (h == null) return;
            if (s.casHead(i, h, null)) {
                CountedBatches.traverse(h, reclamation);
                return;
            }
        }
    }

    /**
     * Links a tidying pass scans before it takes a list: past it, it takes the list with its CAS all the same (links
     * below the head it read are older than it, so older than its read of the session word) and judges each link after
     * the take. The limit bounds a scan that followed a recycled link into another list.
     */
    static final int SCAN_LIMIT = 4096;

    /**
     * One attempt of the tidying pass on slot {@code i}, whose head it read as {@code h} and then its session word as
     * {@code q} (even). It takes the list only if every link in it is of a session before {@code q}, so that it never
     * holds a link that a reader of a later session may still need (a flush racing it then finds that link in the
     * slot): it scans the list from {@code h} and takes it with a CAS from {@code h}. A CAS that succeeds on a head that
     * left the list and came back (its batch reclaimed and inserted again) may take links of a later session; the walk
     * of the detached list judges each link again and puts such links back: only then may the pass hold, for a few
     * instructions, a link that the slot's holder leaving or a racing flush does not find (the same window as a
     * collection in flight that holds sealed batches); the pass then drops it itself once its session is seen to end.
     *
     * @param s the slots
     * @param i the slot
     * @param h its head, as read
     * @param q its session word, as read after the head (even)
     * @param reclamation the runner of the actions
     * @return false if the caller must look again (the list changed, or links went back while the session moved on)
     */
    public static boolean tidy(Slots s, int i, Object h, long q, Reclamation reclamation) {
        int n = 0;
        for (Object l = h; l instanceof Link link; l = link.next()) { // plain reads: only the CAS below is trusted
            // Not in the list we read (a link's stamp is at most the session at its insertion, before our read of
            // q, and odd): the list changed under the scan. Look again if the word moved on; if not, leave the list.
            if (link.session() >= q) return s.sessionVolatile(i) == q;
            if (++n > SCAN_LIMIT) break;
        }
        if (!s.casHead(i, h, null)) return false; // the list changed
        // The list is ours. Links of sessions before q: their sessions ended (an acquire read of a later session
        // value); others go back in front of the list (push, as an insertion).
        Link ended = null;
        Link kept = null;
        for (Object l = h; l instanceof Link link; ) {
            Object next = link.next();
            if (link.session() < q) {
                CountedBatches.relink(link, ended);
                ended = link;
            } else {
                CountedBatches.relink(link, kept);
                kept = link;
            }
            l = next;
        }
        boolean done = kept == null;
        while (kept != null) {
            Link link = kept;
            kept = (Link) link.next();
            push(s, i, link);
        }
        CountedBatches.traverse(ended, reclamation);
        // Links went back: look again if the word moved on meanwhile (their session may have ended, and its leave may
        // have missed them); if not, they wait for that session's leave or a later pass.
        return done || s.sessionVolatile(i) == q;
    }
}
