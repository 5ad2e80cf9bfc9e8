package reclaim.api;

/**
 * An object that knows the era it was born in.
 *
 * <p>Era-based robust schemes (Hyaline's robust variant, Crystalline) bound the number of unreclaimed
 * objects while a reader is stalled only for objects whose birth era they know. Stamp the era at allocation
 * with {@link Reclaimer#era()} and return it here; {@link Reclaimer#retire} reads it. An object that is not
 * {@code Born} is still reclaimed safely, only without that bound. Schemes without eras ignore it.
 *
 * <p>For an object that is recycled (returned to a pool and handed out again), the birth era must be
 * stamped when the object becomes reachable again, that is when it is published (for example pushed into a
 * pool that readers can see), not later.
 */
public interface Born {
    /**
     * Returns the era this object was born in, as returned by {@link Reclaimer#era()} at allocation.
     *
     * <p>It is called while the retired object waits, possibly on another thread: it must not throw. If it does,
     * the failure is contained and the object counts as of unknown birth, era {@code 0}. The first failure of each
     * class in the JVM is reported on the {@code System.Logger} named {@code reclaim}, whichever reclaimer met it;
     * later ones, of any reclaimer, are not (it may be called for every object retired, and a class that throws
     * once usually throws for all of them).
     *
     * @return the birth era; {@code 0} means "unknown" and forfeits the bound
     */
    long birthEra();
}
