package reclaim.impl.crystalline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import reclaim.impl.core.SessionLists;

/**
 * The reservation indices of one record: for each index a session word (odd while a guard uses the index), a list
 * head (null, or the newest link) and a reserved era, which the index keeps when its session ends; the session words and list heads are the slots of
 * {@link SessionLists}, which owns the rules for the lists. Index 0 is the guard-wide index behind
 * {@code protect(ref)}. Each index's era and session word are neighbours in one array (the holder writes both when it
 * activates the index); both arrays keep {@link #PAD} unused elements on each side so that two records' reservations
 * never share a cache line.
 *
 * <p>Why the holder never stores a link: under G1 a reference store of a value in another region than the array runs
 * the post-write barrier's slow half, which begins with a store-load fence, whenever the array is not young (an old
 * record in a service). The holder's own stores are longs (session and era) and, when it takes a list, a swap to null,
 * for which C2 emits no post-write barrier.
 */
final class Reservations implements SessionLists.Slots {
    /** Unused elements before and after the indices. */
    static final int PAD = 16;
    /** Indices: k slots per level and the guard-wide one. */
    final int count;
    private final Object[] heads;
    /** Index j's era at {@code PAD + 2j}, its session word at {@code PAD + 2j + 1}. */
    private final long[] words;

    Reservations(int count) {
        this.count = count;
        this.heads = new Object[PAD + count + PAD];
        this.words = new long[PAD + 2 * count + PAD];
    }

    // ---- list heads ----

    /** The holder's look at index {@code j}'s list before it takes it (a link it misses is tidied, see SessionLists). */
    Object headOpaque(int j) {
        return HEAD.getOpaque(heads, PAD + j);
    }

    @Override
    public Object headVolatile(int j) {
        return HEAD.getVolatile(heads, PAD + j);
    }

    /** Takes index {@code j}'s whole list (a swap to null: a volatile read-modify-write, which acquires every insertion). */
    Object takeList(int j) {
        return HEAD.getAndSet(heads, PAD + j, (Object) null);
    }

    @Override
    public boolean casHead(int j, Object expected, Object update) {
        return HEAD.compareAndSet(heads, PAD + j, expected, update);
    }

    // ---- session words ----

    @Override
    public long sessionVolatile(int j) {
        return (long) WORD.getVolatile(words, PAD + 2 * j + 1);
    }

    /**
     * Starts a session on index {@code j}, whose word is even (the holder's guard has not used it): one store of the
     * next value, volatile if {@code fenced} (the fence strategy: the store-load pair is the reader's), else release.
     * Returns the era the index keeps from its last session. One load of the array for both words.
     *
     * @param j the index
     * @param fenced whether the store must be volatile
     * @return the index's era
     */
    long start(int j, boolean fenced) {
        long[] w = words;
        int i = PAD + 2 * j;
        long s = (long) WORD.getOpaque(w, i + 1); // our own word
        if (SessionLists.active(s)) throw new IllegalStateException("internal error: an index was activated twice");
        if (fenced) WORD.setVolatile(w, i + 1, s + 1);
        else WORD.setRelease(w, i + 1, s + 1);
        return (long) WORD.getOpaque(w, i);
    }

    /**
     * Ends index {@code j}'s session if it is active (a release store: see {@code CrystallineGuard.detach}), then
     * looks at its list head (an opaque load, which may miss an insertion racing the store: the tidying pass takes it).
     *
     * @param j the index
     * @return whether the list looked non-empty
     */
    boolean end(int j) {
        long[] w = words;
        int i = PAD + 2 * j + 1;
        long s = (long) WORD.getOpaque(w, i); // the holder's own word, or a dead holder's
        if (SessionLists.active(s)) WORD.setRelease(w, i, s + 1);
        return HEAD.getOpaque(heads, PAD + j) != null;
    }

    // ---- eras ----

    /** The holder's own read of its reserved era (opaque: only the holder writes it). */
    long eraOpaque(int j) {
        return (long) WORD.getOpaque(words, PAD + 2 * j);
    }

    long eraVolatile(int j) {
        return (long) WORD.getVolatile(words, PAD + 2 * j);
    }

    void setEraVolatile(int j, long era) {
        WORD.setVolatile(words, PAD + 2 * j, era);
    }

    void setEraOpaque(int j, long era) {
        WORD.setOpaque(words, PAD + 2 * j, era);
    }

    private static final VarHandle HEAD = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);
}
