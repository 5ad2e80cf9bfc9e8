/**
 * What the schemes share: {@link reclaim.impl.common.Batch} (retired objects with their actions),
 * {@link reclaim.impl.common.Reclamation} (runs actions with failures contained and counted) and
 * {@link reclaim.impl.common.Checks} (argument and misuse checks with clear messages). Not exported.
 */
package reclaim.impl.common;
