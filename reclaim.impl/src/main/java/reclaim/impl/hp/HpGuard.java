package reclaim.impl.hp;

import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

import reclaim.impl.core.Core;
import reclaim.impl.core.Participant;
import reclaim.impl.core.ThreadGuard;
import reclaim.impl.core.Checks;

/**
 * The per-thread guard of {@link HpPolicy}: {@code protect} publishes a hazard pointer and validates it.
 *
 * <p>Slots. {@code protect(ref, slot)} uses fixed slot {@code slot} of the current nesting level: each level
 * has its own {@code k} slots, so a nested guard (a collection operation inside a caller's guard) never
 * releases what an enclosing guard protects; an inner guard's close keeps its slots' hazards until the next guard
 * at that level overwrites them or the outermost guard closes. {@code protect(ref)} without a slot takes a fresh dynamic slot
 * that stays protected until the outermost guard closes. {@code reserve(key, slot)} publishes a {@code long}
 * key (an off-heap address, a slot index) in key slot {@code slot} of the current level: keys have their own
 * array, the record's scheme data, matched by scanners against retired {@link reclaim.api.Keyed} objects.
 * The slots live in the record's arrays, between
 * {@link #PAD} unused elements on each side so that two records' slots never share a cache line.
 *
 * <p>Fields are plain: only the owning thread touches them (behind an owned guard, the thread in a call on it: see
 * {@link ThreadGuard}); the arrays' elements are written through
 * {@link HpParticipant}'s element helpers (volatile to publish, release to clear) and read by scanners with acquire.
 */
final class HpGuard extends ThreadGuard {
    private static final int PAD = HpParticipant.PAD;
    private static final int KPAD = HpParticipant.KPAD;
    /**
     * Protects between two renewals of the slot arrays ({@link #renew}): 2^18, so that a busy reader gets fresh
     * arrays about every millisecond, for 0.001–0.002 bytes allocated per protect.
     */
    static final int RENEW_EVERY = 1 << 18;

    private final int k;
    /** The record's fixed-slot array as last published by this thread. */
    private Object[] fixed;
    /** The record's dynamic-slot array as last published by this thread, or null. */
    private Object[] dynamic;
    /** Dynamic slots in use (all released when the outermost guard closes). */
    private int dynamicCount;
    /**
     * The fixed slots in use (bit i = slot i): the outermost level's in a field of its own ({@link #used0}: the common
     * guard's leave reads one field, no array), each deeper level's at its index of {@link #used} (index 0 unused).
     * {@code used0} also carries {@link #OTHERS}: so a leave that finds it 0 (a guard that protected nothing, or only
     * null) reads no other field.
     */
    private int used0;
    /**
     * The bit of {@link #used0} set when any hazard other than the outermost level's fixed slots was published: a
     * dynamic slot, a key slot, a deeper level's slot. Its sign bit: slots are at most {@code Scheme.HazardPointers.MAX_SLOTS}
     * (31), bits 0 to 30.
     */
    private static final int OTHERS = 1 << 31;
    /** See {@link #used0}: the deeper levels' masks. */
    private int[] used = new int[4];
    /** The record's key-slot array (its scheme data) as last published by this thread, or null. */
    private long[] keys;
    /** The key slots in use, as {@link #used0} and {@link #used} for the fixed slots: the outermost level's. */
    private int keysUsed0;
    /** The deeper levels' key-slot masks (index 0 unused). */
    private int[] keysUsed = new int[4];
    /** Whether a level below the outermost has slots or key slots in use ({@link #releaseAll} then walks them). */
    private boolean deeper;
    /** Protects left before {@link #renew}; counts down, plain (this thread only). */
    private int renewIn = RENEW_EVERY;

    HpGuard(Core core, Thread thread, int k) {
        super(core, thread);
        this.k = k;
    }

    /**
     * The record whose arrays {@link #fixed}, {@link #dynamic} and {@link #keys} are. Only a record's holder
     * replaces its arrays, and this guard tracks what it replaces, so a record held since the last bind (the
     * thread's registered or sticky one, held without a break: see {@link #boundToOwn}) needs no rebinding; a
     * leased record, or an own record given up and taken again, may have been grown by another holder in
     * between and is bound again.
     */
    private HpParticipant bound;
    /** {@link #ownership()} when {@link #bound} was bound: a later change means the hold was broken. */
    private long boundOwnership;

    /**
     * Returns whether this guard's arrays are {@code rec}'s, {@code rec} is the thread's own record, and the
     * thread has held it without a break since the bind (no deregistration and re-acquisition in between,
     * when another thread could have held it and grown its arrays).
     */
    boolean boundToOwn(Participant rec) {
        return bound == rec && rec == registered() && boundOwnership == ownership();
    }

    /** Binds the record leased for the outermost guard: its arrays, allocated on the record's first use. */
    void bind(HpParticipant rec) {
        bound = rec;
        boundOwnership = ownership();
        Object[] a = rec.hazardsAcquire();
        if (a == null) {
            a = new Object[PAD + k + PAD];
            rec.setHazardsVolatile(a);
        }
        fixed = a;
        dynamic = rec.dynamicAcquire();
        dynamicCount = 0;
        keys = rec.keysAcquire();
    }

    /**
     * The thread gave its record back (its registration ended): forget the record's arrays, which its next holder may
     * grow or renew and leave holding that holder's old hazards; {@link #boundToOwn} is false now, so the next
     * outermost enter binds again.
     */
    @Override
    protected void participantGone() {
        bound = null;
        fixed = null;
        dynamic = null;
        dynamicCount = 0;
        keys = null;
    }

    /** Releases every slot of the outermost guard: release stores of null (the guard's reads are done). */
    void releaseAll() {
        int m = used0;
        // Nothing published: the common empty leave, and a guard of a reclaim action during close() (no record).
        if (m == 0) return;
        used0 = 0;
        Object[] a = fixed;
        for (int b = m & ~OTHERS; b != 0; b &= b - 1) {
            HpParticipant.setSlotRelease(a, PAD + Integer.numberOfTrailingZeros(b), null);
        }
        if (m < 0) releaseOthers(); // OTHERS, the sign bit
    }

    /** The part of {@link #releaseAll} for the hazards {@link #OTHERS} flags. */
    private void releaseOthers() {
        releaseLevel(0); // its key slots (its fixed ones were released)
        if (deeper) { // inner guards' slots, kept since their close (see the note after slots())
            for (int level = 1; level < Math.max(used.length, keysUsed.length); level++) releaseLevel(level);
            deeper = false;
        }
        int n = dynamicCount;
        if (n != 0) {
            Object[] d = dynamic;
            for (int i = 0; i < n; i++) HpParticipant.setSlotRelease(d, PAD + i, null);
            dynamicCount = 0;
        }
    }

    private void releaseLevel(int level) {
        // A level that never protected has no entry; one that protected nothing costs no store.
        int mask = level != 0 && level < used.length ? used[level] : 0; // level 0's fixed slots: releaseAll
        if (mask != 0) {
            Object[] a = fixed;
            int base = PAD + level * k;
            for (int m = mask; m != 0; m &= m - 1) {
                HpParticipant.setSlotRelease(a, base + Integer.numberOfTrailingZeros(m), null);
            }
            used[level] = 0;
        }
        int keyMask = level == 0 ? keysUsed0 : level < keysUsed.length ? keysUsed[level] : 0;
        if (keyMask != 0) {
            long[] ks = keys;
            int kbase = KPAD + level * k;
            for (int m = keyMask; m != 0; m &= m - 1) {
                HpParticipant.setKeyRelease(ks, kbase + Integer.numberOfTrailingZeros(m), 0L);
            }
            if (level == 0) keysUsed0 = 0;
            else keysUsed[level] = 0;
        }
    }

    /**
     * Publishes hazard {@code p} in slot {@code i}, ordered before the caller's re-read of the source: under the
     * fence strategy a volatile store (mov + lock addl on x86), under the asymmetric one an opaque store (a plain
     * mov, kept before the re-read by the JIT, see {@code Barrier}), the scanner's membarrier doing the CPU's part.
     */
    private void publish(Object[] a, int i, Object p) {
        if (asymmetric) HpParticipant.setSlotOpaque(a, i, p);
        else HpParticipant.setSlotVolatile(a, i, p);
    }

    /**
     * {@link #publish} for fixed slot {@code i}, unless it holds {@code p} already (its last protect read the same node:
     * a view's next operation, a retried read). Such a slot is left as it is: the store that put {@code p} there, and
     * under fences its fence, came before the caller's re-read in program order, and the slot has held {@code p}
     * since, so the re-read validates it as it would a new store.
     */
    private void publishFixed(Object[] a, int i, Object p) {
        if (HpParticipant.slotOpaque(a, i) != p) publish(a, i, p);
    }

    /** Publishes key hazard {@code key} in key slot {@code i}, as {@link #publish} does. */
    private void publishKey(long[] ks, int i, long key) {
        if (asymmetric) HpParticipant.setKeyOpaque(ks, i, key);
        else HpParticipant.setKeyVolatile(ks, i, key);
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        Objects.requireNonNull(ref, "ref");
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null) return ref.get(); // a guard of a reclaim action during close(): nothing to hazard
        int level = depth() - 1;
        int i = PAD + level * k + slot;
        if (--renewIn < 0) renew();
        Object[] a = fixed.length - PAD > i ? fixed : growFixed(level);
        T p = ref.get();
        if (p == null) {
            HpParticipant.setSlotRelease(a, i, null); // nothing to protect; release what the slot held
            return null;
        }
        while (true) {
            // Store-load pair with the scanner: the hazard is visible before the re-read below (see publish); the
            // scanner fences (or runs membarrier) after its unlink, before it reads hazards.
            publishFixed(a, i, p);
            T q = ref.get();
            if (q == p) break;
            if (q == null) {
                HpParticipant.setSlotRelease(a, i, null);
                return null;
            }
            p = q;
        }
        markUsed(level, slot);
        return p;
    }

    @Override
    public <T> T protect(AtomicReference<T> ref) {
        Objects.requireNonNull(ref, "ref");
        checkInGuard();
        if (record() == null) return ref.get(); // a guard of a reclaim action during close()
        T p = ref.get();
        if (p == null) return null;
        if (--renewIn < 0) renew();
        Object[] d = dynamic != null && dynamic.length - PAD > PAD + dynamicCount ? dynamic : growDynamic();
        int i = PAD + dynamicCount;
        while (true) {
            publish(d, i, p); // store-load pair with the scanner, as above
            T q = ref.get();
            if (q == p) break;
            if (q == null) {
                HpParticipant.setSlotRelease(d, i, null);
                return null;
            }
            p = q;
        }
        if (dynamicCount++ == 0) used0 |= OTHERS; // once per guard, not per dynamic protect
        return p;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T protect(VarHandle field, Object holder, int slot) {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(holder, "holder");
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null) return (T) field.getVolatile(holder); // a guard of a reclaim action during close()
        int level = depth() - 1;
        int i = PAD + level * k + slot;
        if (--renewIn < 0) renew();
        Object[] a = fixed.length - PAD > i ? fixed : growFixed(level);
        Object p = field.getVolatile(holder);
        while (p != null) {
            publishFixed(a, i, p); // store-load pair with the scanner, as above
            Object q = field.getVolatile(holder);
            if (q == p) {
                markUsed(level, slot);
                return (T) p;
            }
            p = q;
        }
        HpParticipant.setSlotRelease(a, i, null);
        return null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T protect(VarHandle field, Object holder) {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(holder, "holder");
        checkInGuard();
        Object p = field.getVolatile(holder);
        if (p == null || record() == null) return (T) p; // null, or a guard of a reclaim action during close()
        if (--renewIn < 0) renew();
        Object[] d = dynamic != null && dynamic.length - PAD > PAD + dynamicCount ? dynamic : growDynamic();
        int i = PAD + dynamicCount;
        while (true) {
            publish(d, i, p); // store-load pair with the scanner, as above
            Object q = field.getVolatile(holder);
            if (q == p) break;
            if (q == null) {
                HpParticipant.setSlotRelease(d, i, null);
                return null;
            }
            p = q;
        }
        if (dynamicCount++ == 0) used0 |= OTHERS; // once per guard, not per dynamic protect
        return (T) p;
    }

    /**
     * Hazard pointers for keys: the key itself is the hazard, in the key slot {@code slot} of the current
     * nesting level. If the slot already holds {@code key}, the hazard was published before the caller read
     * it, so the key is safe; otherwise publish it (volatile) and ask the caller to re-read: either the
     * scanner sees the hazard, or the caller's volatile re-read sees the unlink.
     */
    @Override
    public boolean reserve(long key, int slot) {
        if (slot < 0 || slot >= k) Checks.slot(slot, k);
        checkInGuard();
        if (record() == null) return true; // a guard of a reclaim action during close(): nothing to hazard
        // No key: nothing to protect, and nothing released (Guard.reserve): the slot keeps the key it held, which a
        // caller that read a null link in the slot it stands on may still be using. Freed when the slot takes
        // another key or the outermost guard closes.
        if (key == 0) return true;
        int level = depth() - 1;
        int i = KPAD + level * k + slot;
        long[] ks = keys != null && keys.length - KPAD > i ? keys : growKeys(level);
        long held = HpParticipant.keyOpaque(ks, i); // our own slot: only this thread writes it
        if (held == key) return true;
        // Store-load pair with the scanner: the hazard is visible before the caller's volatile re-read (see
        // publish); the scanner fences (or runs membarrier) after taking its bags, before reading key slots.
        publishKey(ks, i, key);
        if (level == 0) {
            keysUsed0 |= 1 << slot;
        } else {
            if (keysUsed.length <= level) keysUsed = Arrays.copyOf(keysUsed, Math.max(level + 1, keysUsed.length * 2));
            keysUsed[level] |= 1 << slot;
            deeper = true;
        }
        used0 |= OTHERS;
        return false;
    }

    @Override
    public int slots() {
        return k;
    }

    /*
     * An inner guard's close keeps its level's slots: they hold their hazards until the next guard at that level
     * overwrites them or the outermost guard closes (releaseAll, which walks the deeper levels when any was used).
     * Conservative, and bounded by k slots per level; releasing them there cost a release store per slot and per
     * inner guard, which a guard nested per operation (a collection's view) paid on every operation.
     */

    /**
     * Records that fixed slot {@code slot} of {@code level} holds a hazard. The record's arrays may already
     * be deep enough for this level (grown by an earlier holder), so this guard's own bookkeeping grows here.
     */
    private void markUsed(int level, int slot) {
        if (level == 0) {
            used0 |= 1 << slot;
            return;
        }
        if (used.length <= level) used = Arrays.copyOf(used, Math.max(level + 1, used.length * 2));
        used[level] |= 1 << slot;
        deeper = true;
        used0 |= OTHERS;
    }

    /**
     * Grows the fixed array for a deeper nesting level ({@code level} -1: a copy of the same size, for
     * {@link #renew}). The new array is published (volatile) before any hazard is stored in it: a scanner that read
     * the old array did so before the publication, so the protect that follows re-reads its source after the
     * scanner's unlink and fails validation if needed.
     */
    private Object[] growFixed(int level) {
        Object[] a = Arrays.copyOf(fixed, Math.max(fixed.length, PAD + (level + 1) * k + PAD));
        bound.setHazardsVolatile(a);
        fixed = a;
        if (level >= 0 && used.length <= level) used = Arrays.copyOf(used, Math.max(level + 1, used.length * 2));
        return a;
    }

    /**
     * Replaces the fixed and dynamic slot arrays with copies of the same size, published as in {@link #growFixed}
     * (the copies carry the hazards held now; the old arrays keep stale ones only for a scanner that read them
     * before the publication, which can only delay a reclaim). Why: a hazard is a reference store into the slot
     * array, and under G1 (JDK 25 and earlier) a reference store into an array in an old region, of a value from
     * another region, runs the post-write barrier's slow half, which begins with a store–load fence. An array that
     * lives as long as its thread is old in a service; one renewed every {@link #RENEW_EVERY} protects is young
     * (eden or survivor) whenever its thread protects much, and a store into a young region skips that half before
     * the fence. Collectors without that fence (Parallel, ZGC) lose nothing but the copy. Key slots are longs: no
     * GC barrier, no renewal.
     */
    private void renew() {
        renewIn = RENEW_EVERY;
        growFixed(-1);
        if (dynamic != null) {
            Object[] d = dynamic.clone();
            bound.setDynamicVolatile(d); // before any hazard is stored in it, as in growFixed
            dynamic = d;
        }
    }

    /** Grows (or creates) the key-slot array to hold {@code level}; published as in {@link #growFixed}. */
    private long[] growKeys(int level) {
        int levels = Math.max(level + 1, keys == null ? 1 : (keys.length - 2 * KPAD) / k);
        long[] ks = keys == null ? new long[KPAD + levels * k + KPAD] : Arrays.copyOf(keys, KPAD + levels * k + KPAD);
        bound.setKeysVolatile(ks);
        keys = ks;
        if (keysUsed.length <= level) keysUsed = Arrays.copyOf(keysUsed, Math.max(level + 1, keysUsed.length * 2));
        return ks;
    }

    /** Grows (or creates) the dynamic array; published as in {@link #growFixed}. */
    private Object[] growDynamic() {
        int slots = dynamic == null ? 8 : (dynamic.length - 2 * PAD) * 2;
        Object[] d = dynamic == null ? new Object[PAD + slots + PAD] : Arrays.copyOf(dynamic, PAD + slots + PAD);
        bound.setDynamicVolatile(d);
        dynamic = d;
        return d;
    }

}
