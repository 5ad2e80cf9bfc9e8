/**
 * The jcstress tests. Conventions, shared by every class here:
 * <ul>
 *   <li>One reclaimer per test class, in a {@code static final} field: a reclaimer per state object would
 *       cost more than the race it guards (jcstress makes millions of states). The scheme is
 *       {@link reclaim.api.Reclaimer#create()}'s: {@code ebr} unless {@code -Dreclaim.scheme} says otherwise
 *       (pass it to the forked VMs with {@code -jvmArgsPrepend}).</li>
 *   <li>Fresh objects per state: what a test retires belongs to that state alone, so the outcome of one
 *       state cannot be disturbed by actions that run for another.</li>
 *   <li>A reclaim action that would really free something here just records that it ran (a flag or a
 *       count on the object); the reader looks at that record as the <em>last</em> thing it does inside its
 *       guard. Seeing it set there is the use-after-free the reclaimer exists to prevent.</li>
 * </ul>
 */
package reclaim.jcstress;
