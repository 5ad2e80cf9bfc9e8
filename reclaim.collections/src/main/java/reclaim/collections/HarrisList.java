package reclaim.collections;

import java.util.List;
import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/**
 * The Harris&ndash;Michael lock-free ordered list shared by {@link RecyclingListSet} (one list) and
 * {@link RecyclingHashMap} (one list per bucket), with nodes recycled through a {@link ListNodePool}.
 *
 * <p>T. L. Harris, <i>A Pragmatic Implementation of Non-Blocking Linked-Lists</i>, DISC 2001; M. M. Michael,
 * <i>High Performance Dynamic Lock-Free Hash Tables and List-Based Sets</i>, SPAA 2002, and <i>Hazard
 * Pointers: Safe Memory Reclamation for Lock-Free Objects</i>, IEEE TPDS 15(6), 2004 (the traversal with
 * three hazards, Fig. 9); the marker nodes of Doug Lea's {@code ConcurrentSkipListMap}.
 */
final class HarrisList<K, V> {

    /*
     * Overview.
     *
     * Order. Entries are sorted by their spread hash; entries with equal hashes form a group in no particular
     * order, and a new entry is always linked at the end of its group (before the first entry of a larger
     * hash). So a search scans its group with equals(), and two racing inserts of equal keys both try to link
     * at the same place: the second CAS fails and its retry finds the first. Each list starts at a head
     * sentinel that is never marked, removed or retired.
     *
     * Removal, in three steps, as in ConcurrentSkipListMap:
     *   1. logical: CAS value v -> null (the linearization point of the removal; value never returns to
     *      non-null in this life, so a put that CASes the value of a deleted entry fails and retries);
     *   2. mark: CAS next succ -> m, where m is a marker node (from the pool) with m.next = succ. This is the
     *      Harris mark bit: the JVM has no spare bit in a reference (AtomicMarkableReference allocates a pair
     *      per change, and Guard.protect reads AtomicReferences), so the mark is a node, and it is atomic
     *      with the link because it IS the link: once entry.next is a marker, every CAS that would link a new
     *      node after the entry or unlink its successor fails, and entry.next and m.next never change again;
     *   3. unlink: CAS prev.next entry -> succ, where prev is unmarked (the CAS would fail otherwise: a
     *      marked node's next is its marker). The thread whose CAS succeeds, and only it, retires the entry
     *      and its marker: after that CAS no unmarked node points to the entry any more (its only unmarked
     *      predecessor was prev), so no second unlink CAS can succeed — exactly one retire per entry. Markers
     *      are never retired otherwise, and an unpublished spare is retired by the thread that took it.
     *   Steps 2 and 3 are done by whichever traversal meets the dead entry (remove calls one right away),
     *   so a removal stalled after step 1 delays nobody.
     *
     * Hazard-pointer safety (the reason for the validations; the other schemes protect everything read under
     * the guard, for which they are redundant). The traversal keeps prev, cur and nxt in three rotating slots,
     * and a fourth slot serves the pool and the successor of a marker:
     *   - cur = protect(prev.next); nxt = protect(cur.next); then it re-reads prev.next == cur (V).
     *   - V says, at that instant, that prev was unmarked (else prev.next would be a marker) and cur linked
     *     (an unmarked node is linked: only marked nodes are unlinked, and a protected node is not reused, so
     *     prev is still in the life we protected it in). A linked node has not been retired, so cur's hazard,
     *     published before V, is seen by every later scan: cur is safe until its slot is reused.
     *   - nxt: protect itself checked cur.next == nxt after publishing the hazard. If nxt is an entry, cur was
     *     unmarked then; cur is linked at V, later, and nodes are never relinked, so it was linked then too,
     *     hence nxt was linked (the successor of a linked unmarked node is linked) and not yet retired. If nxt
     *     is cur's marker, it is retired only after cur is unlinked, which had not happened at V.
     *   - the successor of a marker (m.next, immutable) is protected in the fourth slot and V is repeated:
     *     cur still linked means m still linked, and m's successor cannot be unlinked while m (never
     *     CASed) precedes it, so it was not retired when its hazard was published.
     *   A plain traversal that protects without V would be unsafe: prev may be unlinked and its next still
     *   point to a node that was retired and recycled before our hazard was published.
     *
     * ABA. Every CAS compares with a node that is protected (prev.next with cur, cur.next with nxt, the pool
     * head in take): a protected node cannot be recycled, so equality at the CAS means the life we read.
     *
     * Linearization points: an insertion at its CAS on prev.next; a successful lookup at its read of a
     * non-null value; an unsuccessful lookup at the last validation V of the traversal (the group of its key
     * held no live equal entry then: entries are only added at the end of their group, behind the point the
     * traversal has reached); a removal at its value CAS.
     */

    private final Reclaimer reclaimer;
    private final ListNodePool<K, V> pool;

    HarrisList(Reclaimer reclaimer, int poolCapacity) {
        this.reclaimer = reclaimer;
        this.pool = new ListNodePool<>(reclaimer, poolCapacity);
    }

    /** Spreads a hash code (as {@code HashMap} does) so that the list and the buckets see its high bits. */
    static int spread(Object key) {
        int h = key.hashCode();
        return h ^ (h >>> 16);
    }

    /** A new head sentinel: never marked, never retired; not from the pool. */
    ListNode<K, V> newHead() {
        return new ListNode<>(reclaimer.era());
    }

    Reclaimer reclaimer() {
        return reclaimer;
    }

    ListNodePool<K, V> pool() {
        return pool;
    }

    /**
     * Finds the live entry equal to {@code key} in the list at {@code head}, unlinking the dead entries it
     * meets; if there is none and {@code insert} is non-null, links a new entry ({@code key}, {@code insert}).
     *
     * @param g the caller's open guard; slots 0..3 are used, and the entry returned stays protected (in one
     *     of them) until the caller's next protect in these slots or the guard's close
     * @param head the list's head sentinel
     * @param key the key, non-null
     * @param hash {@link #spread(Object) spread(key)}
     * @param insert the value to insert when the key is absent, or null to only search
     * @return the live entry found (its value was non-null when found; it may be removed since), or null if
     *     there was none (and, with {@code insert}, the new entry was linked)
     */
    ListNode<K, V> find(Guard g, ListNode<K, V> head, Object key, int hash, V insert) {
        ListNode<K, V> spare = null; // a pool node of ours, not published yet
        try {
            retry:
            while (true) {
                int sp = 0, sc = 1, sn = 2, sx = 3;
                ListNode<K, V> prev = head;
                ListNode<K, V> cur = g.protect(head.next, sc);
                while (cur != null) {
                    ListNode<K, V> nxt = g.protect(cur.next, sn);
                    if (prev.nextVolatile() != cur) continue retry; // V (see the overview)
                    if (nxt != null && nxt.markerPlain()) { // cur is marked: unlink it
                        ListNode<K, V> succ = g.protect(nxt.next, sx);
                        if (prev.nextVolatile() != cur) continue retry; // V again, for succ's hazard
                        if (!prev.casNext(cur, succ)) continue retry;
                        // Our CAS unlinked cur: we, and nobody else, retire it and its marker.
                        g.retire(cur, pool.recycler);
                        g.retire(nxt, pool.recycler);
                        cur = succ;
                        int t = sc; sc = sx; sx = t;
                        continue;
                    }
                    int ch = cur.hashPlain(); // plain: cur protected and validated, its hash is that of this life
                    if (ch > hash) break; // past the group: the insertion point is (prev, cur)
                    if (ch == hash) {
                        V v = cur.valueVolatile();
                        if (v == null) { // removed but not marked yet: mark it for the remover
                            if (spare == null) spare = pool.take(g, sx);
                            spare.setMarkerPlain(nxt); // plain: published by the CAS
                            if (cur.casNext(nxt, spare)) spare = null; // marked
                            continue; // re-read cur.next: the marker, and unlink
                        }
                        K ck = cur.keyPlain();
                        if (ck == key || key.equals(ck)) return cur;
                    }
                    prev = cur;
                    cur = nxt;
                    int t = sp; sp = sc; sc = sn; sn = t;
                }
                if (insert == null) return null;
                if (spare == null) spare = pool.take(g, sx);
                @SuppressWarnings("unchecked")
                K k = (K) key;
                spare.setEntryPlain(k, hash, insert, cur); // plain: published by the CAS
                if (prev.casNext(cur, spare)) { // linearization point of the insertion
                    spare = null;
                    return null;
                }
            }
        } finally {
            if (spare != null) g.retire(spare, pool.recycler); // never linked; back to the pool via the reclaimer
        }
    }

    /**
     * Appends the key and value of every live entry of the list at {@code head} to {@code out} (key, value,
     * key, value, ...), each entry at most once, in list order: a weakly consistent snapshot taken in one
     * guard. A restart (a failed validation) skips what was already appended: entries of smaller hashes, and
     * entries of the current hash whose key was appended.
     */
    void snapshot(Guard g, ListNode<K, V> head, List<Object> out) {
        boolean started = false;
        int lastHash = 0;
        int groupStart = out.size();
        retry:
        while (true) {
            int sp = 0, sc = 1, sn = 2, sx = 3;
            ListNode<K, V> prev = head;
            ListNode<K, V> cur = g.protect(head.next, sc);
            while (cur != null) {
                ListNode<K, V> nxt = g.protect(cur.next, sn);
                if (prev.nextVolatile() != cur) continue retry;
                if (nxt != null && nxt.markerPlain()) { // help unlink, exactly as find does
                    ListNode<K, V> succ = g.protect(nxt.next, sx);
                    if (prev.nextVolatile() != cur) continue retry;
                    if (!prev.casNext(cur, succ)) continue retry;
                    g.retire(cur, pool.recycler);
                    g.retire(nxt, pool.recycler);
                    cur = succ;
                    int t = sc; sc = sx; sx = t;
                    continue;
                }
                V v = cur.valueVolatile();
                if (v != null) {
                    int ch = cur.hashPlain();
                    K k = cur.keyPlain();
                    if (!started || ch > lastHash) {
                        started = true;
                        lastHash = ch;
                        groupStart = out.size();
                        out.add(k);
                        out.add(v);
                    } else if (ch == lastHash && !contains(out, groupStart, k)) {
                        out.add(k);
                        out.add(v);
                    }
                }
                prev = cur;
                cur = nxt;
                int t = sp; sp = sc; sc = sn; sn = t;
            }
            return;
        }
    }

    private static boolean contains(List<Object> out, int from, Object key) {
        for (int i = from; i < out.size(); i += 2) {
            if (key.equals(out.get(i))) return true;
        }
        return false;
    }
}
