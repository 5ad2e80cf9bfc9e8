package reclaim.impl.hyaline;

import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

import reclaim.impl.core.Core;
import reclaim.impl.core.ThreadGuard;

/**
 * The guard of robust Hyaline (Hyaline-1S): {@code protect} reserves the current era in the slot's access
 * era before it trusts what it read (the hazard-eras read protocol). The fast path, when the era has not
 * moved since the slot's last reservation, is two volatile loads and no store.
 */
final class HyalineGuard extends ThreadGuard {
    private final HyalinePolicy hyaline;

    HyalineGuard(Core core, Thread thread, HyalinePolicy hyaline) {
        super(core, thread);
        this.hyaline = hyaline;
    }

    /**
     * Publishes era {@code e} as the slot's access era: a volatile store under the fence strategy, an opaque one
     * under the asymmetric strategy (the retirer's membarrier does the CPU's part; see {@code Barrier}).
     */
    private void reserveEra(HyalineParticipant rec, long e) {
        if (asymmetric) rec.setAccessOpaque(e);
        else rec.setAccessVolatile(e);
    }

    @Override
    public <T> T protect(AtomicReference<T> ref) {
        Objects.requireNonNull(ref, "ref");
        checkInGuard();
        HyalineParticipant rec = (HyalineParticipant) record();
        if (rec == null) return ref.get(); // a guard of a reclaim action during close()
        long a = rec.accessOpaque(); // our own slot's word: only the holder writes it
        while (true) {
            T v = ref.get();
            long e = hyaline.eraVolatile();
            if (a >= e) return v; // our reservation covers every object born up to now
            // Store-load pair with the retirer (unlink, fence or membarrier, read of the access era): the
            // reservation is visible before the re-read of the source.
            reserveEra(rec, e);
            a = e;
        }
    }

    /**
     * The same hazard-eras step for a key the caller read: if the slot's access era already covers the
     * current era, whatever the caller read before this call is protected; otherwise publish the era and ask
     * the caller to re-read.
     */
    @Override
    public boolean reserve(long key, int slot) {
        if (slot < 0 || slot == Integer.MAX_VALUE) reclaim.impl.core.Checks.slot(slot, Integer.MAX_VALUE);
        checkInGuard();
        HyalineParticipant rec = (HyalineParticipant) record();
        if (rec == null || key == 0) return true; // a guard of a reclaim action during close(), or nothing read
        long e = hyaline.eraVolatile();
        if (rec.accessOpaque() >= e) return true;
        reserveEra(rec, e); // store-load pair with the retirer, as in protect
        return false;
    }

    @Override
    public <T> T protect(AtomicReference<T> ref, int slot) {
        if (slot < 0 || slot == Integer.MAX_VALUE) reclaim.impl.core.Checks.slot(slot, Integer.MAX_VALUE);
        return protect(ref);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T protect(VarHandle field, Object holder) {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(holder, "holder");
        checkInGuard();
        HyalineParticipant rec = (HyalineParticipant) record();
        if (rec == null) return (T) field.getVolatile(holder);
        long a = rec.accessOpaque();
        while (true) {
            Object v = field.getVolatile(holder);
            long e = hyaline.eraVolatile();
            if (a >= e) return (T) v;
            reserveEra(rec, e); // store-load pair with the retirer, as above
            a = e;
        }
    }

    @Override
    public <T> T protect(VarHandle field, Object holder, int slot) {
        if (slot < 0 || slot == Integer.MAX_VALUE) reclaim.impl.core.Checks.slot(slot, Integer.MAX_VALUE);
        return protect(field, holder);
    }
}
