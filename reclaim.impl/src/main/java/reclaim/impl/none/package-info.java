/** The leak baseline: EBR's guards, nothing reclaimed before close. Read {@link reclaim.impl.none.NonePolicy}. */
package reclaim.impl.none;
