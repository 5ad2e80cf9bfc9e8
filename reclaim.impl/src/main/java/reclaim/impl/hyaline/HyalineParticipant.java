package reclaim.impl.hyaline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import reclaim.impl.core.Participant;
import reclaim.impl.core.SessionLists;
import reclaim.impl.core.ThreadRef;

/**
 * A participant of Hyaline: a slot. Three words, after the padding of the participant, on a line of their own with
 * padding after them:
 * <ul>
 *   <li>the session word: even while no guard holds the slot, odd while one does; the holder adds one at each enter
 *       and each leave (release stores; volatile where a leased slot enters under the fence strategy), and only the
 *       holder writes it (or the sweeper of a holder that ended). Retirers read it to decide whether to insert, and stamp the link they
 *       insert with the value they read; whoever takes a list from a slot other than its holder decrements only the
 *       links of sessions that had ended when it read the word ({@code HyalinePolicy}, "Sessions").</li>
 *   <li>the list head: null (empty) or the newest link inserted. Retirers CAS links in front of it; the holder
 *       leaving and a sweeper take the whole list with a swap to null, the tidying pass with a CAS to null from the
 *       head it read.</li>
 *   <li>the access era the holder reserved (robust variant): opaque or volatile stores by the holder, volatile reads
 *       by retirers.</li>
 * </ul>
 * The first two are the one slot ({@code i = 0}) of {@link SessionLists}, which owns the rules for the list.
 */
final class HyalineParticipant extends Participant implements SessionLists.Slots {
    /** The list of inserted links, or null; through {@code HEAD}. */
    private Object head;
    /** The session word (odd: a guard holds the slot); through {@code SESSION}. */
    private long session;
    /** The reserved era; through {@code ACCESS}. */
    private long access;
    /** Padding after the slot words. */
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;

    HyalineParticipant(long state, ThreadRef holder, int batchSize) {
        super(state, holder, batchSize);
    }

    /**
     * Whether a value of the session word means a guard holds the slot.
     *
     * @param session a value of the session word
     * @return true if it is odd
     */
    static boolean active(long session) {
        return SessionLists.active(session);
    }

    long sessionOpaque() {
        return (long) SESSION.getOpaque(this);
    }

    long sessionVolatile() {
        return (long) SESSION.getVolatile(this);
    }

    void setSessionRelease(long value) {
        SESSION.setRelease(this, value);
    }

    /**
     * Starts a session: the holder's store of the next value of its even session word, volatile if {@code fenced} (the
     * store-load pair is then the reader's own), else release (a tidying pass that reads it trusts that the sessions
     * before it ended).
     *
     * @param fenced whether the store must be volatile
     */
    void start(boolean fenced) {
        long s = sessionOpaque(); // our own word: only the holder writes it
        assert !active(s) : "a slot entered twice"; // the core opens the outermost guard of a slot's holder only
        if (fenced) SESSION.setVolatile(this, s + 1);
        else SESSION.setRelease(this, s + 1);
    }

    /**
     * Ends the holder's active session (a release store: every read of the session happens-before it, so whoever reads
     * this value or a later one may drop the references of the session's links), then looks at the list head (an opaque
     * load, which may miss an insertion racing the store: the tidying pass takes it).
     *
     * @return whether the list looked non-empty
     */
    boolean end() {
        SESSION.setRelease(this, sessionOpaque() + 1);
        return headOpaque() != null;
    }

    Object headOpaque() {
        return HEAD.getOpaque(this);
    }

    Object headVolatile() {
        return HEAD.getVolatile(this);
    }

    /** Takes the whole list (a swap to null: a volatile read-modify-write, which acquires every insertion). */
    Object takeList() {
        return HEAD.getAndSet(this, (Object) null);
    }

    boolean casHead(Object expected, Object update) {
        return HEAD.compareAndSet(this, expected, update);
    }

    @Override
    public Object headVolatile(int i) {
        return headVolatile();
    }

    @Override
    public long sessionVolatile(int i) {
        return sessionVolatile();
    }

    @Override
    public boolean casHead(int i, Object expected, Object update) {
        return casHead(expected, update);
    }

    long accessOpaque() {
        return (long) ACCESS.getOpaque(this);
    }

    long accessVolatile() {
        return (long) ACCESS.getVolatile(this);
    }

    void setAccessOpaque(long era) {
        ACCESS.setOpaque(this, era);
    }

    void setAccessVolatile(long era) {
        ACCESS.setVolatile(this, era);
    }

    private static final VarHandle HEAD;
    private static final VarHandle SESSION;
    private static final VarHandle ACCESS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(HyalineParticipant.class, "head", Object.class);
            SESSION = l.findVarHandle(HyalineParticipant.class, "session", long.class);
            ACCESS = l.findVarHandle(HyalineParticipant.class, "access", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
