/**
 * The engine every scheme runs on, in parts that each do one job ({@code docs/core.md} maps them):
 * <ul>
 *   <li>{@link reclaim.impl.core.ReclaimerHandle}: the {@code Reclaimer} a user holds; finds the calling thread's
 *       guard ({@code GuardLookup}: a thread-id cache in front of a thread local) and calls the core; cleans up a
 *       reclaimer dropped without {@code close()}.</li>
 *   <li>{@link reclaim.impl.core.Core}: enter and leave, retire and sealing, collection, flush, registration,
 *       stats, over the parts below.</li>
 *   <li>{@link reclaim.impl.core.Participant}: the state word and its ownership protocol; {@code Participants}:
 *       the registry, leases, reserved participants, sweeping the participants of ended threads.</li>
 *   <li>{@link reclaim.impl.core.SealedBags}: where sealed bags wait (a shared stack, or per participant);
 *       {@code Lifecycle}: open, closing, closed, and the reclamation in flight that close() waits for;
 *       {@code Closing}: close() itself.</li>
 *   <li>{@link reclaim.impl.core.Policy} with {@link reclaim.impl.core.Capabilities}: what a scheme decides;
 *       {@link reclaim.impl.core.ClockPolicy} (bags judged by a clock: EBR, QSBR) and
 *       {@link reclaim.impl.core.CountingPolicy} (bags inserted and counted: Hyaline, Crystalline).</li>
 *   <li>{@link reclaim.impl.core.Batch}, {@link reclaim.impl.core.CountedBatches},
 *       {@link reclaim.impl.core.Reclamation} (runs actions, contained and counted) and
 *       {@link reclaim.impl.core.Checks} (misuse errors with clear messages).</li>
 *   <li>{@code RetireCheck}, {@code CheckedGuard}, {@code CheckedReclaimerHandle}: checked mode
 *       ({@link reclaim.api.Options#checked()}), absent from an unchecked reclaimer.</li>
 * </ul>
 * Not exported.
 */
package reclaim.impl.core;
