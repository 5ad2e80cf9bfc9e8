/**
 * Quiescent-state-based reclamation (McKenney &amp; Slingwine; liburcu's QSBR flavour; light-qsbr). Read
 * {@link reclaim.impl.qsbr.QsbrPolicy}.
 */
package reclaim.impl.qsbr;
