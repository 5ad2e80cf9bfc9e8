/**
 * Hyaline (Nikolaev &amp; Ravindran, PLDI 2021): reference counts on retired batches, never on reads. Read
 * {@link reclaim.impl.hyaline.HyalinePolicy}.
 */
package reclaim.impl.hyaline;
