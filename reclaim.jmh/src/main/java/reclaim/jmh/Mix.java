package reclaim.jmh;

import java.util.SplittableRandom;

/**
 * The operation mixes of the IBR benchmark (Wen et al., PPoPP 2018), as the Hyaline and Crystalline papers
 * run them: {@code read-mostly} = 90% lookups and 10% updates, {@code write-heavy} = 50% inserts and 50%
 * removes. Updates are half inserts and half removes, so the structure stays at its prefilled size (half
 * the key range).
 */
final class Mix {
    private Mix() {}

    /** Lookups per 100 operations. */
    static int readPercent(String mix) {
        return switch (mix) {
            case "read-mostly" -> 90;
            case "write-heavy" -> 0;
            default -> throw new IllegalArgumentException("unknown mix '" + mix + "': read-mostly or write-heavy");
        };
    }

    /** The keys 0 .. range-1, boxed once, so that the benchmark loop allocates no key. */
    static Integer[] keys(int range) {
        Integer[] k = new Integer[range];
        for (int i = 0; i < range; i++) k[i] = i;
        return k;
    }

    /** A fast per-thread random source (xorshift), seeded per thread. */
    static final class Rng {
        private long x;

        Rng(long seed) {
            x = new SplittableRandom(seed).nextLong() | 1;
        }

        int next(int bound) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            return (int) ((x >>> 33) % bound);
        }
    }
}
