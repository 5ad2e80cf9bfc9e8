/**
 * Epoch-based reclamation (Fraser 2004; crossbeam-epoch), and the {@code none} leak baseline built on the
 * same guards. Read {@link reclaim.impl.ebr.EbrPolicy} first.
 */
package reclaim.impl.ebr;
