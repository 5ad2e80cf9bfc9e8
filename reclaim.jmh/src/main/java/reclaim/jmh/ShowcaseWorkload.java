package reclaim.jmh;

import java.util.List;
import java.util.Map;

/**
 * A users' workload that the showcase runs when its module is present (the off-heap map against OHC, mapped
 * files against shared arenas, ...): a module that brings one adds an implementation to this module and
 * lists it in {@code META-INF/services/reclaim.jmh.ShowcaseWorkload}; the showcase finds it with
 * {@link java.util.ServiceLoader}, asks {@link #available()}, runs its JMH runs with the others and prints its
 * results in a table of their own (and in the raw JSON).
 */
public interface ShowcaseWorkload {

    /**
     * Returns the workload's title in the showcase's output.
     *
     * @return the title
     */
    String title();

    /**
     * Returns whether the workload can run here (its module and dependencies are present).
     *
     * @return true if it can run
     */
    boolean available();

    /**
     * Returns the JMH runs of the workload.
     *
     * @param impls {@code gc} and the short names of the schemes present
     * @param full whether the long mode runs
     * @return the runs
     */
    List<Run> runs(List<String> impls, boolean full);

    /**
     * One JMH run.
     *
     * @param include the benchmark regular expression (as JMH's {@code include})
     * @param params the JMH parameters and their values
     * @param threads the number of benchmark threads
     */
    record Run(String include, Map<String, List<String>> params, int threads) {
    }
}
