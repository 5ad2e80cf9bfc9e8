/**
 * Quiescent-state-based reclamation (McKenney &amp; Slingwine; liburcu's QSBR flavour; light-qsbr). Read
 * {@link reclaim.impl.qsbr.QsbrReclaimer}.
 */
package reclaim.impl.qsbr;
