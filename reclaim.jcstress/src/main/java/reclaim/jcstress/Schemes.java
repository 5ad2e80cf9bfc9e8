package reclaim.jcstress;

import reclaim.api.Reclaimer;
import reclaim.api.Scheme;

/**
 * Prints the schemes the jcstress jar can test, one per line, leaving out the {@code none} baseline (it
 * reclaims nothing before close, so its core race is empty), and adding the variants that are not in
 * {@link reclaim.api.Scheme#NAMES} but have races of their own ({@code crystalline-w}: the wait-free slow path
 * and swap insertion). {@code ./reclaim jcstress} runs the whole suite once per scheme printed here, with
 * {@code -Dreclaim.scheme=NAME}.
 */
public final class Schemes {
    private Schemes() {}

    /** Scheme variants tested beside {@link Reclaimer#availableSchemes()}. */
    private static final String[] VARIANTS = {"crystalline-w"};

    /**
     * Returns the scheme of {@code -Dreclaim.scheme} (the default scheme without it) with batches of {@code size}
     * objects where the scheme has a batch size, so that a test's few retires seal batches: for Hyaline and
     * Crystalline every seal is an insertion racing the guards, and a recycled batch comes round again at once.
     * Crystalline-W stays wait-free; schemes without a batch size (HP) keep their own.
     *
     * @param size objects per batch
     * @return the scheme
     */
    static Scheme batchesOf(int size) {
        Scheme s = Scheme.named(System.getProperty(Reclaimer.SCHEME_PROPERTY, Reclaimer.DEFAULT_SCHEME));
        return switch (s) {
            case Scheme.Hyaline h -> new Scheme.Hyaline(size, h.robust());
            case Scheme.Crystalline c -> new Scheme.Crystalline(size, c.slots(), c.waitFree());
            case Scheme.Ebr e -> new Scheme.Ebr(size, e.collectInterval(), e.stallThresholdNanos());
            case Scheme.Qsbr q -> new Scheme.Qsbr(size, q.passIntervalNanos(), q.stallThresholdNanos());
            default -> s;
        };
    }

    /**
     * Prints the scheme names.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        for (String name : Reclaimer.availableSchemes()) {
            if (!name.equals("none")) System.out.println(name);
        }
        for (String variant : VARIANTS) {
            try {
                Reclaimer.create(variant).close();
                System.out.println(variant);
            } catch (IllegalArgumentException notProvided) {
                // no provider present supports it: nothing to test
            }
        }
    }
}
