/**
 * The built-in provider, and the conventions every scheme in this module follows.
 *
 * <h2>Naming shared-memory accesses</h2>
 * Every access to a field that another thread reads or writes goes through a {@code private static final}
 * {@link java.lang.invoke.VarHandle} and a small helper whose name ends with the access mode, so that a line
 * tells its ordering without opening the helper (after Caffeine's {@code BoundedBuffer}):
 * <ul>
 *   <li>{@code xOpaque()} / {@code setXOpaque(v)}: opaque (atomic, coherent, no ordering against other
 *       variables); used for counters and diagnostics read by {@code stats()}.</li>
 *   <li>{@code xAcquire()} / {@code setXRelease(v)}: acquire load / release store; paired, they pass a
 *       thread's earlier accesses to the thread that reads the value (JLS 17.4.5 via the VarHandle spec).</li>
 *   <li>{@code xVolatile()} / {@code setXVolatile(v)}: volatile (sequentially consistent among volatile
 *       accesses); used where a store must be ordered before a later load of another variable (the Dekker
 *       pattern), which release/acquire does not give.</li>
 *   <li>{@code casX(expected, update)}: {@code compareAndSet}, a volatile read-modify-write (a full barrier).</li>
 * </ul>
 * Fields that only their owning thread touches are plain and say so. Every fence names the store–load pair
 * it orders.
 */
package reclaim.impl;
