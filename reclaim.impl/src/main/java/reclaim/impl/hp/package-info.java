/** Hazard pointers (Michael, IEEE TPDS 2004). Read {@link reclaim.impl.hp.HpPolicy}, then {@code HpParticipant} (the slots) and {@code HpGuard}. */
package reclaim.impl.hp;
