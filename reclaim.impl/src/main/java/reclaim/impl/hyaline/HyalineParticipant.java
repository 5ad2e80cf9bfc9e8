package reclaim.impl.hyaline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import reclaim.impl.core.Participant;

/**
 * A participant of Hyaline: a slot. Its head is the participant itself (inactive: no guard), null (active: a guard,
 * no batch yet) or the newest link of the batches inserted while a guard was open (values chosen so that the
 * holder's stores skip G1's post-write barrier: see {@code HyalinePolicy}); its access era is the era the
 * holder reserved (robust variant). Retirers CAS the head (insertion) and read the access era; the holder swaps
 * the head on enter and leave and stores the access era with volatile semantics (the store side of the store–load
 * pair with the retirer's fence and reads). Both words sit after the padding of the participant, on a line of
 * their own, with padding after them.
 */
final class HyalineParticipant extends Participant {
    /** The slot head; through {@code HEAD}. Starts inactive: the participant itself. */
    private Object head = this;
    /** The reserved era; through {@code ACCESS}. */
    private long access;
    /** Padding after the slot words. */
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;

    HyalineParticipant(long state, Thread holder, int batchSize) {
        super(state, holder, batchSize);
    }

    /**
     * Whether {@code head}, a value of this slot's head, means inactive (no guard: nothing may be inserted).
     *
     * @param head a value read from the head
     * @return true if it is this participant
     */
    boolean inactive(Object head) {
        return head == this;
    }

    Object headOpaque() {
        return HEAD.getOpaque(this);
    }

    void setHeadOpaque(Object value) {
        HEAD.setOpaque(this, value);
    }

    Object headVolatile() {
        return HEAD.getVolatile(this);
    }

    Object getAndSetHead(Object value) {
        return HEAD.getAndSet(this, value);
    }

    boolean casHead(Object expected, Object update) {
        return HEAD.compareAndSet(this, expected, update);
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
    private static final VarHandle ACCESS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(HyalineParticipant.class, "head", Object.class);
            ACCESS = l.findVarHandle(HyalineParticipant.class, "access", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
