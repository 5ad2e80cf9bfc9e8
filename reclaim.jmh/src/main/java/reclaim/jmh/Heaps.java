package reclaim.jmh;

/**
 * The {@code heap} parameter of the benchmarks that measure the collector's share of a reference store: {@code young}
 * leaves what the setup allocated where it is (a benchmark that allocates nothing in steady state never moves it);
 * {@code tenured} runs two full collections before each iteration, so that what survives is in the old generation,
 * where a service's long-lived structures and pooled batches are, and G1's post-write barrier runs its old-object half
 * on every reference store into them.
 */
final class Heaps {
    private Heaps() {
    }

    /**
     * Prepares the heap for an iteration.
     *
     * @param heap {@code young} or {@code tenured}
     * @throws IllegalArgumentException for any other value
     */
    static void prepare(String heap) {
        switch (heap) {
            case "young" -> { }
            case "tenured" -> {
                System.gc(); // twice: what survives the first is in the old generation after the second
                System.gc();
            }
            default -> throw new IllegalArgumentException("unknown heap '" + heap + "': young or tenured");
        }
    }
}
