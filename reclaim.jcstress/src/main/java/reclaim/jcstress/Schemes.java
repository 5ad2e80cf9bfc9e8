package reclaim.jcstress;

import reclaim.api.Reclaimer;

/**
 * Prints the schemes the jcstress jar can test, one per line, leaving out the {@code none} baseline (it
 * reclaims nothing before close, so its core race is empty). {@code ./reclaim jcstress} runs the whole suite
 * once per scheme printed here, with {@code -Dreclaim.scheme=NAME}.
 */
public final class Schemes {
    private Schemes() {}

    /**
     * Prints the scheme names.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        for (String name : Reclaimer.availableSchemes()) {
            if (!name.equals("none")) System.out.println(name);
        }
    }
}
