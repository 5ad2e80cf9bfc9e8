package reclaim.api;

/**
 * An object retired on behalf of a {@code long} key: an off-heap block's address, a slot's index.
 *
 * <p>Structures that keep their links off the heap store addresses, not references, and readers protect
 * those with {@link Guard#reserve(long, int)}. Hazard pointers know only what was reserved, so they must
 * be able to match a retired object with a reserved key: retire a {@code Keyed} object whose
 * {@link #key()} is the address (or index) readers reserve, and it is reclaimed only once no guard reserves
 * that key. Schemes that protect everything a guard could read (EBR, QSBR, Hyaline, Crystalline) ignore the
 * key. An object may be both {@code Keyed} and {@link Born}.
 *
 * <p>The key must not change while the object is retired and must not be {@code 0} (0 means "nothing" in a
 * reservation).
 */
public interface Keyed {
    /**
     * Returns the key readers reserve for this object.
     *
     * @return the key, not {@code 0}
     */
    long key();
}
