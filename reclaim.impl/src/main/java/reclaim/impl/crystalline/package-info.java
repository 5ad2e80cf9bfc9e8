/**
 * Crystalline (Nikolaev &amp; Ravindran, DISC 2021): Hyaline's reference counts behind a hazard-eras API, in
 * two variants. Crystalline-L ({@code crystalline}, lock-free): read
 * {@link reclaim.impl.crystalline.CrystallinePolicy}, then {@code CrystallineGuard}. Crystalline-W
 * ({@code crystalline-w}: bounded {@code protect} with helping, insertion by swap): read
 * {@link reclaim.impl.crystalline.CrystallineWPolicy}, then {@code CrystallineWGuard} and
 * {@code WaitFreeReservations}.
 */
package reclaim.impl.crystalline;
