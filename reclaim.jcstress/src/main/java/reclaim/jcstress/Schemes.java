package reclaim.jcstress;

import reclaim.api.Reclaimer;

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
