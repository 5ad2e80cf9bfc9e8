/** Hazard pointers (Michael, IEEE TPDS 2004). Read {@link reclaim.impl.hp.HpReclaimer}, then {@code HpGuard}. */
package reclaim.impl.hp;
