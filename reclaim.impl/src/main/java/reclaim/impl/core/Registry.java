package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The records of a reclaimer: append-only, with a <b>wait-free</b> append, so that a thread that needs a new
 * record (a new thread, or more guards open at once than records) finishes in a bounded number of its own
 * steps however many threads append at the same time (the wait-free memory-manager RFC's "wait-free even when
 * threads are dynamically recycled": reuse is a bounded scan of the records, growth is this append).
 *
 * <p>Records live in chunks that never move: chunk {@code c} holds {@code FIRST << c} records, so index
 * {@code i} maps to a fixed chunk and offset. An append takes an index with one fetch-and-add, installs the
 * chunk if it is the first there (one CAS: if it fails, another appender installed it, and that one is used),
 * and publishes the record with one volatile store: O(1) steps, no retry loop.
 *
 * <p>Readers take a {@linkplain #snapshot() snapshot}: an array of every record published so far, in index
 * order, cached while the count stays the same. An index claimed but not yet published is skipped: its
 * appender has announced nothing yet (a record announces through its publication), so it holds nothing back,
 * and the store-load argument is the one of a CAS-published array: the publication is a volatile store that
 * precedes, in the appender's program order, its first volatile read of a shared link; a collector fences and
 * then reads the count and the chunks (volatile). If the collector missed the record, the appender's
 * publication comes after the collector's reads in the synchronization order, and so does its first read of
 * a link, which therefore sees every unlink that preceded the collector's fence.
 */
final class Registry {
    /** Records in chunk 0; chunk c holds {@code FIRST << c}. 26 chunks hold more than 2^31 records. */
    private static final int FIRST = 32;
    private static final int CHUNKS = 26;

    private final AtomicReferenceArray<Participant[]> chunks = new AtomicReferenceArray<>(CHUNKS);
    /** Indices claimed so far (published or about to be). */
    private final AtomicInteger claimed = new AtomicInteger();
    /** The last complete snapshot and the count it covers; racy cache (any complete snapshot is right). */
    private volatile Snapshot cache = new Snapshot(new Participant[0], 0);

    private record Snapshot(Participant[] records, int covered) {}

    /**
     * Appends {@code r} (already in the state it announces): wait-free.
     *
     * @param r the record
     * @return its index
     */
    int append(Participant r) {
        int i = claimed.getAndIncrement();
        if (i < 0) throw new IllegalStateException("more than 2^31 records");
        int c = chunk(i);
        Participant[] chunk = chunks.get(c);
        if (chunk == null) {
            Participant[] fresh = new Participant[FIRST << c];
            chunk = chunks.compareAndExchange(c, null, fresh); // one CAS: the winner's chunk is everyone's
            if (chunk == null) chunk = fresh;
        }
        // The publication: volatile, so that it precedes the appender's later reads of shared links (see the
        // class documentation) and carries the record's construction to readers.
        SLOT.setVolatile(chunk, i - base(c), r);
        return i;
    }

    /**
     * Returns every record published so far, in index order (volatile reads of the count and of each record).
     *
     * @return the records; do not modify
     */
    Participant[] snapshot() {
        int n = claimed.get();
        Snapshot s = cache;
        if (s.covered == n) return s.records;
        Participant[] out = new Participant[n];
        int m = 0;
        for (int c = 0, i = 0; i < n; c++) {
            Participant[] chunk = chunks.get(c);
            int size = FIRST << c;
            for (int j = 0; j < size && i < n; j++, i++) {
                Participant r = chunk == null ? null : (Participant) SLOT.getVolatile(chunk, j);
                if (r != null) out[m++] = r;
            }
        }
        if (m == n) {
            cache = new Snapshot(out, n);
            return out;
        }
        return Arrays.copyOf(out, m); // an appender between its claim and its publication: skipped
    }

    /** The chunk of index {@code i}: the c with base(c) <= i < base(c + 1). */
    private static int chunk(int i) {
        return 31 - Integer.numberOfLeadingZeros(i / FIRST + 1);
    }

    /** The first index of chunk {@code c}: FIRST × (2^c − 1). */
    private static int base(int c) {
        return FIRST * ((1 << c) - 1);
    }

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Participant[].class);
}
