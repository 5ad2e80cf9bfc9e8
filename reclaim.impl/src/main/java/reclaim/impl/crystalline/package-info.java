/**
 * Crystalline (Nikolaev &amp; Ravindran, DISC 2021), the lock-free Crystalline-L: Hyaline's reference counts
 * behind a hazard-eras API. Read {@link reclaim.impl.crystalline.CrystallineReclaimer}, then
 * {@code CrystallineGuard}.
 */
package reclaim.impl.crystalline;
