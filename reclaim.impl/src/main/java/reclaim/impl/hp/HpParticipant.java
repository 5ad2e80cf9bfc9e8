package reclaim.impl.hp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import reclaim.impl.core.Participant;
import reclaim.impl.core.ThreadRef;

/**
 * A participant of the hazard-pointer scheme: its hazard slots. Three arrays, each padded at both ends against
 * false sharing ({@link #PAD} or {@link #KPAD} unused elements) and replaced, never resized in place, only by the
 * participant's holder: the fixed slots ({@code k} per nesting level), the dynamic slots of {@code protect(ref)}
 * without a slot, and the key slots of {@code reserve}. An array is published (a volatile store) before any hazard
 * is stored in it, so a scanner that read the old array did so before the new one existed, and the protect that
 * follows re-reads its source after the scanner's unlink.
 *
 * <p>Element accesses go through the static helpers below (the element VarHandles are this class's): the holder
 * stores a hazard with volatile semantics (the store side of the store–load pair with the scanner, whose full
 * fence precedes its acquire reads of the slots) and clears one with a release store (its reads of the object
 * are done before).
 */
final class HpParticipant extends Participant {
    /** Unused elements before and after the hazard slots (128 bytes with compressed references). */
    static final int PAD = 32;
    /** Unused elements before and after the key slots (128 bytes). */
    static final int KPAD = 16;

    /** Fixed slots, per nesting level; accessed through {@code HAZARDS}. Null until the first guard. */
    private Object[] hazards;
    /** Dynamic slots; accessed through {@code DYNAMIC}. Null until first needed. */
    private Object[] dynamic;
    /** Key slots; accessed through {@code KEYS}. Null until first needed. */
    private long[] keys;

    HpParticipant(long state, ThreadRef holder, int batchSize) {
        super(state, holder, batchSize);
    }

    // ---- the arrays ----

    Object[] hazardsAcquire() {
        return (Object[]) HAZARDS.getAcquire(this);
    }

    void setHazardsVolatile(Object[] a) {
        HAZARDS.setVolatile(this, a);
    }

    Object[] dynamicAcquire() {
        return (Object[]) DYNAMIC.getAcquire(this);
    }

    void setDynamicVolatile(Object[] a) {
        DYNAMIC.setVolatile(this, a);
    }

    long[] keysAcquire() {
        return (long[]) KEYS.getAcquire(this);
    }

    void setKeysVolatile(long[] a) {
        KEYS.setVolatile(this, a);
    }

    /** Whether any slot holds a hazard (close(): a guard that protected is still open). */
    boolean anyHazard() {
        return anySlot(hazardsAcquire()) || anySlot(dynamicAcquire()) || anyKey(keysAcquire());
    }

    /** Clears every slot (a participant whose thread ended inside its guard). */
    void clearAll() {
        clear(hazardsAcquire());
        clear(dynamicAcquire());
        long[] ks = keysAcquire();
        if (ks != null) for (int i = 0; i < ks.length; i++) setKeyRelease(ks, i, 0L);
    }

    /** The slots of this participant, for the bound: fixed, dynamic and key slots. */
    long slotCount() {
        long h = 0;
        Object[] a = hazardsAcquire();
        if (a != null) h += a.length - 2L * PAD;
        Object[] d = dynamicAcquire();
        if (d != null) h += d.length - 2L * PAD;
        long[] ks = keysAcquire();
        if (ks != null) h += ks.length - 2L * KPAD;
        return h;
    }

    private static boolean anySlot(Object[] slots) {
        if (slots == null) return false;
        for (int i = PAD, end = slots.length - PAD; i < end; i++) {
            if (slotAcquire(slots, i) != null) return true;
        }
        return false;
    }

    private static boolean anyKey(long[] keys) {
        if (keys == null) return false;
        for (int i = KPAD, end = keys.length - KPAD; i < end; i++) {
            if (keyAcquire(keys, i) != 0) return true;
        }
        return false;
    }

    private static void clear(Object[] slots) {
        if (slots == null) return;
        for (int i = 0; i < slots.length; i++) setSlotRelease(slots, i, null);
    }

    // ---- elements ----

    static Object slotAcquire(Object[] a, int i) {
        return SLOT.getAcquire(a, i);
    }

    /** The holder's read of its own slot (opaque: only the holder writes it while it holds the participant). */
    static Object slotOpaque(Object[] a, int i) {
        return SLOT.getOpaque(a, i);
    }

    static void setSlotVolatile(Object[] a, int i, Object value) {
        SLOT.setVolatile(a, i, value);
    }

    static void setSlotOpaque(Object[] a, int i, Object value) {
        SLOT.setOpaque(a, i, value);
    }

    static void setSlotRelease(Object[] a, int i, Object value) {
        SLOT.setRelease(a, i, value);
    }

    static long keyOpaque(long[] a, int i) {
        return (long) KEY.getOpaque(a, i);
    }

    static long keyAcquire(long[] a, int i) {
        return (long) KEY.getAcquire(a, i);
    }

    static void setKeyVolatile(long[] a, int i, long value) {
        KEY.setVolatile(a, i, value);
    }

    static void setKeyOpaque(long[] a, int i, long value) {
        KEY.setOpaque(a, i, value);
    }

    static void setKeyRelease(long[] a, int i, long value) {
        KEY.setRelease(a, i, value);
    }

    private static final VarHandle HAZARDS;
    private static final VarHandle DYNAMIC;
    private static final VarHandle KEYS;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle KEY = MethodHandles.arrayElementVarHandle(long[].class);

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HAZARDS = l.findVarHandle(HpParticipant.class, "hazards", Object[].class);
            DYNAMIC = l.findVarHandle(HpParticipant.class, "dynamic", Object[].class);
            KEYS = l.findVarHandle(HpParticipant.class, "keys", long[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
