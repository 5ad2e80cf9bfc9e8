package reclaim.offheap.map;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;
import reclaim.offheap.NativeMemory;
import reclaim.offheap.NativeStats;
import reclaim.offheap.UseAfterFreeException;
import reclaim.offheap.internal.NativeAccess;

/**
 * A concurrent hash map whose keys and values live in native memory, with lock-free reads and a capacity
 * bound in bytes: the job of OHC, Cassandra's off-heap cache, with reads that take no lock and count no
 * reference.
 *
 * <h2>Structure</h2>
 * The map is split into segments by the high bits of a 64-bit hash of the key's bytes; each segment has a
 * bucket table (a native block of addresses) and chains of entries, each entry one native block holding its
 * links, hash, lengths, key bytes and value bytes. Writers of a segment take its lock (a write never waits for
 * a reader, and writers of other segments never wait for each other); readers take no lock: they open a
 * {@link Guard} of the map's {@link Reclaimer} and read the chain with {@link Guard#reserve} hand over hand
 * (two slots for the chain, one for the table), so the same code is safe under every scheme, hazard pointers
 * included. An entry replaced or removed is unlinked and retired to the reclaimer, which frees its block once
 * no reader can hold it. Entries never change once published: a write builds a new entry.
 *
 * <p>Unlinking marks first. A writer sets the low bit of the unlinked entry's {@code next} word before it
 * changes the link that pointed to the entry (Michael's marking, "High Performance Dynamic Lock-Free Hash
 * Tables and List-Based Sets", SPAA 2002, here under a writer lock): a reader that finds a marked word
 * restarts from the table, so a reservation validated by an unmarked re-read proves the entry was still
 * reachable when the reservation was published (what hazard pointers need; the epoch schemes need nothing).
 *
 * <p>Resizing copies. When a segment's entry count passes 3/4 of its buckets, its writer copies every entry
 * into a table twice the size, publishes the new table, marks every bucket and entry of the old one and
 * retires them: readers on the old table see a frozen, consistent snapshot until they reach a mark and move
 * to the new one. Reads stay correct during a resize; the copy costs one allocation per entry, once per
 * doubling. If an allocation of the copy fails, the copies made so far and the new table are freed at once
 * (none was published) and the old table stays; the write that asked for the resize has taken effect, and the
 * {@link OutOfMemoryError} reaches its caller.
 *
 * <h2>Capacity and eviction</h2>
 * Each segment holds at most {@code capacityBytes / segments} bytes of entries (an entry counts its block:
 * {@value #HEADER} bytes of header, the key and the value). A write that passes the budget evicts the
 * segment's least recently inserted entries, giving a second chance to entries read since their last pass
 * (the CLOCK approximation of LRU: a read sets a bit, eviction clears it and moves the entry to the back). An
 * entry larger than a segment's budget is refused with {@link IllegalArgumentException}, and nothing is
 * evicted for it.
 *
 * <h2>Guarantees</h2>
 * Every operation of {@link ConcurrentMap} is linearizable except the bulk views: {@link #entrySet()} (and
 * the views built on it) iterates a weakly consistent snapshot taken one segment at a time, and
 * {@link #size()} sums segment counters that change meanwhile. Keys and values are compared as serialized
 * bytes ({@code get}, {@code remove(key, value)}, {@code replace(key, old, new)}, {@code containsValue}, and the
 * {@code contains} and {@code remove} of the entry set, the key set and the values); {@code equals} and {@code hashCode} of the map, its views
 * and their entries are {@link AbstractMap}'s, on the deserialized objects (for {@link Serializer#bytes()},
 * array identity). {@link #get} allocates what the value serializer allocates and the key's serialization (none for
 * {@link Serializer#bytes()}); {@link #read(Object, Function)} reads the value in place. Nulls are refused
 * with {@link NullPointerException}, by the key set's and the values' {@code contains} and {@code remove} too;
 * the entry set's answer {@code false} for a null or an entry with a null key or value, which the map cannot hold
 * (as {@link java.util.concurrent.ConcurrentHashMap}'s do). {@link #close()} retires every entry and table; the bytes return to the
 * allocator once the reclaimer reclaims them ({@code reclaimer.flush()} or {@code close()}).
 *
 * <p><b>Close the map before its reclaimer.</b> Once the reclaimer has closed (or if the map was built on a closed
 * one), the reads that open a guard ({@code get}, {@code read}, {@code containsKey}) throw the reclaimer's
 * {@link IllegalStateException}; the writes and the other operations still work, and a write frees what it unlinks at
 * once, since no guard can open any more; {@code close()} frees everything.
 *
 * <p><b>Progress.</b> Reads are lock-free: they retry only when a writer unlinked what they stood on (and,
 * under hazard pointers, when the link moved between the read and its reservation). Writes are blocking per
 * segment.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class OffHeapMap<K, V> extends AbstractMap<K, V> implements ConcurrentMap<K, V>, AutoCloseable {
    /*
     * Entry layout (a native block from NativeMemory, 16-byte aligned):
     *   NEXT  0  long  chain link; bit 0 set once the entry is unlinked (then readers restart)
     *   PREV  8  long  eviction list, previous (writers only, under the segment lock)
     *   AFTER 16 long  eviction list, next (writers only)
     *   HASH  24 long  the key's 64-bit hash
     *   KLEN  32 int   key length
     *   VLEN  36 int   value length
     *   USED  40 int   1 when read since the last eviction pass (readers set it, opaque; racy by design)
     *   data  48       key bytes, then value bytes
     * A bucket table is a native block of 8-byte words: 0 (empty), an entry address, or MARK once frozen.
     */
    static final long NEXT = 0;
    static final long PREV = 8;
    static final long AFTER = 16;
    static final long HASH = 24;
    static final long KLEN = 32;
    static final long VLEN = 36;
    static final long USED = 40;
    /** Bytes of an entry before its key. */
    public static final int HEADER = 48;
    static final long MARK = 1;

    /** Chain slots (hand over hand) and the table's slot, for {@link Guard#reserve}. */
    private static final int TABLE_SLOT = 2;

    private final Reclaimer reclaimer;
    private final NativeMemory memory;
    private final boolean ownsMemory;
    private final boolean checked;
    private final Serializer<K> keys;
    private final Serializer<V> values;
    private final Segment[] segments;
    private final int segmentShift;
    private final long segmentBudget;
    private final LongAdder evictions = new LongAdder();
    private volatile boolean closed;

    private OffHeapMap(Builder<K, V> b) {
        this.reclaimer = b.reclaimer;
        this.memory = b.memory != null ? b.memory : NativeMemory.builder(b.reclaimer).checked(b.checked).build();
        this.ownsMemory = b.memory == null;
        this.checked = memory.isChecked();
        this.keys = b.keys;
        this.values = b.values;
        int n = b.segments;
        this.segments = new Segment[n];
        this.segmentShift = 64 - Integer.numberOfTrailingZeros(n);
        this.segmentBudget = b.capacityBytes / n;
        for (int i = 0; i < n; i++) segments[i] = new Segment(this, b.initialBuckets);
    }

    /**
     * Starts a builder.
     *
     * @param <K> the key type
     * @param <V> the value type
     * @param reclaimer the reclaimer that decides when replaced entries are freed
     * @param keys the key serializer
     * @param values the value serializer
     * @return a builder with a 64 MiB capacity and 16 segments
     * @throws NullPointerException if an argument is null
     */
    public static <K, V> Builder<K, V> builder(Reclaimer reclaimer, Serializer<K> keys, Serializer<V> values) {
        return new Builder<>(reclaimer, keys, values);
    }

    /**
     * The map's settings.
     *
     * @param <K> the key type
     * @param <V> the value type
     */
    public static final class Builder<K, V> {
        private final Reclaimer reclaimer;
        private final Serializer<K> keys;
        private final Serializer<V> values;
        private long capacityBytes = 64L << 20;
        private int segments = 16;
        private int initialBuckets = 64;
        private boolean checked = Boolean.getBoolean("reclaim.offheap.checked");
        private NativeMemory memory;

        private Builder(Reclaimer reclaimer, Serializer<K> keys, Serializer<V> values) {
            this.reclaimer = Objects.requireNonNull(reclaimer, "reclaimer");
            this.keys = Objects.requireNonNull(keys, "keys");
            this.values = Objects.requireNonNull(values, "values");
        }

        /**
         * Sets the capacity: the bytes of entries (headers, keys and values) the map holds before it evicts.
         *
         * @param bytes the capacity, at least {@code segments × 1024}
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is not positive
         */
        public Builder<K, V> capacityBytes(long bytes) {
            if (bytes <= 0) throw new IllegalArgumentException("capacityBytes must be positive: " + bytes);
            this.capacityBytes = bytes;
            return this;
        }

        /**
         * Sets the number of segments (independent writer locks and eviction budgets).
         *
         * @param segments a power of two from 1 to 1024
         * @return this builder
         * @throws IllegalArgumentException if {@code segments} is not a power of two in range
         */
        public Builder<K, V> segments(int segments) {
            if (segments < 1 || segments > 1024 || Integer.bitCount(segments) != 1) {
                throw new IllegalArgumentException("segments must be a power of two from 1 to 1024: " + segments);
            }
            this.segments = segments;
            return this;
        }

        /**
         * Sets each segment's initial bucket count; tables double as entries arrive.
         *
         * @param buckets a power of two from 2 to 2^24
         * @return this builder
         * @throws IllegalArgumentException if {@code buckets} is not a power of two in range
         */
        public Builder<K, V> initialBuckets(int buckets) {
            if (buckets < 2 || buckets > (1 << 24) || Integer.bitCount(buckets) != 1) {
                throw new IllegalArgumentException("initialBuckets must be a power of two from 2 to 2^24: " + buckets);
            }
            this.initialBuckets = buckets;
            return this;
        }

        /**
         * Turns on the allocator's checked mode (poisoned, quarantined frees; every read verified), for a map
         * that creates its own allocator. Default: the system property {@code reclaim.offheap.checked}.
         *
         * @param checked whether to check
         * @return this builder
         */
        public Builder<K, V> checked(boolean checked) {
            this.checked = checked;
            return this;
        }

        /**
         * Uses an existing allocator (shared with other structures) instead of creating one; it must use the
         * same reclaimer. The map then does not close it.
         *
         * @param memory the allocator
         * @return this builder
         * @throws IllegalArgumentException if it belongs to another reclaimer
         */
        public Builder<K, V> memory(NativeMemory memory) {
            if (memory.reclaimer() != reclaimer) {
                throw new IllegalArgumentException("the allocator belongs to another reclaimer: " + memory.reclaimer());
            }
            this.memory = memory;
            return this;
        }

        /**
         * Builds the map.
         *
         * @return a new, empty map
         * @throws IllegalArgumentException if the capacity leaves a segment less than 1024 bytes
         * @throws IllegalStateException if the JVM does not grant {@code reclaim.offheap} native access (the
         *     message names the flag: {@code --enable-native-access=reclaim.offheap} on the module path,
         *     {@code --enable-native-access=ALL-UNNAMED} on the class path)
         */
        public OffHeapMap<K, V> build() {
            NativeAccess.require("OffHeapMap");
            if (capacityBytes / segments < 1024) {
                throw new IllegalArgumentException("capacityBytes " + capacityBytes + " leaves less than 1024 bytes for each of "
                        + segments + " segments");
            }
            return new OffHeapMap<>(this);
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Native access
    // ---------------------------------------------------------------------------------------------------

    /**
     * All of memory, for reads and writes at absolute addresses inside the map's blocks. In a holder, so that
     * the restricted {@code reinterpret} runs only once a map exists (its builder checked native access), not
     * when this class is initialized.
     */
    private static final class Absolute {
        @SuppressWarnings("restricted") // the module is granted native access; every address used is a live block's
        static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

        private Absolute() {
        }
    }
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    // Accesses to the map's native words, named per docs/memory-orderings.md.

    private static long longPlain(long address) {
        return Absolute.ALL.get(ValueLayout.JAVA_LONG, address);
    }

    private static void setLongPlain(long address, long value) {
        Absolute.ALL.set(ValueLayout.JAVA_LONG, address, value);
    }

    private static int intPlain(long address) {
        return Absolute.ALL.get(ValueLayout.JAVA_INT, address);
    }

    private static long longVolatile(long address) {
        return (long) WORD.getVolatile(Absolute.ALL, address);
    }

    private static void setLongVolatile(long address, long value) {
        WORD.setVolatile(Absolute.ALL, address, value);
    }

    /** Opaque: the racy USED hints of eviction (coherent, no ordering with other words). */
    private static int intOpaque(long address) {
        return (int) INT.getOpaque(Absolute.ALL, address);
    }

    private static void setIntOpaque(long address, int value) {
        INT.setOpaque(Absolute.ALL, address, value);
    }

    /**
     * Reads the link word at {@code address} (volatile) and reserves it in {@code slot} (Guard.reserve's
     * loop); returns a marked word without reserving it (the caller restarts).
     */
    private static long reserveLink(Guard g, long address, int slot) {
        long v = longVolatile(address);
        while ((v & MARK) == 0 && !g.reserve(v, slot)) v = longVolatile(address);
        return v;
    }

    // ---------------------------------------------------------------------------------------------------
    // Hashing
    // ---------------------------------------------------------------------------------------------------

    /** A 64-bit hash of the bytes (8 bytes a step, a final avalanche); the same for heap and native bytes. */
    static long hash(MemorySegment s) {
        long n = s.byteSize();
        long h = 0x9E3779B97F4A7C15L ^ n;
        long i = 0;
        for (; i + 8 <= n; i += 8) {
            h ^= s.get(ValueLayout.JAVA_LONG_UNALIGNED, i) * 0xC2B2AE3D27D4EB4FL;
            h = Long.rotateLeft(h, 31) * 0x9E3779B185EBCA87L;
        }
        for (; i < n; i++) {
            h ^= (s.get(ValueLayout.JAVA_BYTE, i) & 0xFFL) * 0x165667B19E3779F9L;
            h = Long.rotateLeft(h, 23) * 0x9E3779B185EBCA87L;
        }
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h;
    }

    private Segment segmentFor(long hash) {
        return segments[segmentShift == 64 ? 0 : (int) (hash >>> segmentShift)];
    }

    /** Whether entry {@code e} holds the key {@code key} of hash {@code hash}. */
    private static boolean matches(long e, long hash, MemorySegment key) {
        if (longPlain(e + HASH) != hash) return false;
        int klen = intPlain(e + KLEN);
        if (klen != key.byteSize()) return false;
        return MemorySegment.mismatch(Absolute.ALL, e + HEADER, e + HEADER + klen, key, 0, klen) == -1;
    }

    /**
     * The key's bytes of entry {@code e}: the entry's own memory, writable; readers and serializers must not write
     * through it (documented on {@link #read(Object, Function)} and {@link Serializer#read}).
     */
    private static MemorySegment keyBytes(long e) {
        return Absolute.ALL.asSlice(e + HEADER, intPlain(e + KLEN));
    }

    /** The value's bytes of entry {@code e}: what a reader or a serializer's {@code read} sees (see keyBytes). */
    private static MemorySegment valueBytes(long e) {
        return Absolute.ALL.asSlice(e + HEADER + intPlain(e + KLEN), intPlain(e + VLEN));
    }

    // ---------------------------------------------------------------------------------------------------
    // Reads
    // ---------------------------------------------------------------------------------------------------

    /**
     * Finds the entry of {@code key} under {@code g} (lock-free), leaving it reserved; 0 if absent.
     */
    private long find(Guard g, Segment seg, long hash, MemorySegment key) {
        restart:
        while (true) {
            Table t = seg.table; // volatile
            while (!g.reserve(t.address, TABLE_SLOT)) t = seg.table;
            // The map closes by setting dead before it retires the last table: seen false here (after the
            // reservation, or inside the guard), the table was not retired before this reader protected it.
            if (seg.dead) throw closedException();
            long e = reserveLink(g, t.slot(hash), 0);
            int slot = 0;
            while (true) {
                if ((e & MARK) != 0) { // a frozen table, or an unlinked entry: restart, unless the map closed
                    if (seg.dead) throw closedException();
                    continue restart;
                }
                if (e == 0) return 0;
                if (checked) memory.getLong(e, HASH); // checked mode: throws UseAfterFreeException on a freed entry
                if (matches(e, hash, key)) return e;
                slot ^= 1;
                e = reserveLink(g, e + NEXT, slot); // releases the predecessor's reservation
            }
        }
    }

    private static void touch(long e) {
        if (intOpaque(e + USED) == 0) setIntOpaque(e + USED, 1); // racy by design
    }

    private MemorySegment keyOf(Object key) {
        Objects.requireNonNull(key, "key");
        @SuppressWarnings("unchecked")
        K k = (K) key;
        return keys.bytesOf(k);
    }

    @Override
    public V get(Object key) {
        MemorySegment k = keyOf(key);
        long h = hash(k);
        Segment seg = segmentFor(h);
        checkOpen();
        try (Guard g = reclaimer.enter()) {
            long e = find(g, seg, h, k);
            if (e == 0) return null;
            touch(e);
            return values.read(valueBytes(e));
        }
    }

    /**
     * Reads the value of {@code key} in place, inside a guard: {@code reader} sees the value's native bytes
     * (valid only during the call) and returns what it extracts. No copy of the value is made: the bytes are the
     * published entry's own, which every reader shares, and {@code reader} must not write through them.
     *
     * @param <R> the result type
     * @param key the key
     * @param reader reads the value's bytes; must not keep the segment
     * @return what {@code reader} returned, or null if the key is absent
     * @throws NullPointerException if an argument is null
     * @throws IllegalStateException if the map is closed, or its reclaimer is (see the class documentation)
     */
    public <R> R read(K key, Function<? super MemorySegment, ? extends R> reader) {
        Objects.requireNonNull(reader, "reader");
        MemorySegment k = keyOf(key);
        long h = hash(k);
        Segment seg = segmentFor(h);
        checkOpen();
        try (Guard g = reclaimer.enter()) {
            long e = find(g, seg, h, k);
            if (e == 0) return null;
            touch(e);
            return reader.apply(valueBytes(e));
        }
    }

    @Override
    public boolean containsKey(Object key) {
        MemorySegment k = keyOf(key);
        long h = hash(k);
        Segment seg = segmentFor(h);
        checkOpen();
        try (Guard g = reclaimer.enter()) {
            return find(g, seg, h, k) != 0;
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Writes
    // ---------------------------------------------------------------------------------------------------

    /** What a write does when it finds the key (or does not). */
    private enum Mode { SET, PUT, PUT_IF_ABSENT, REPLACE, REPLACE_IF, REMOVE, REMOVE_IF }

    @Override
    public V put(K key, V value) {
        return write(key, value, null, Mode.PUT);
    }

    /**
     * Maps {@code key} to {@code value} like {@link #put} but does not read the previous value back (no
     * deserialization): the cheaper write when the old value is not needed.
     *
     * @param key the key
     * @param value the value
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the entry is larger than a segment's capacity
     * @throws IllegalStateException if the map is closed
     */
    public void set(K key, V value) {
        write(key, value, null, Mode.SET);
    }

    @Override
    public V putIfAbsent(K key, V value) {
        return write(key, value, null, Mode.PUT_IF_ABSENT);
    }

    @Override
    public V replace(K key, V value) {
        return write(key, value, null, Mode.REPLACE);
    }

    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        Objects.requireNonNull(oldValue, "oldValue");
        return write(key, newValue, oldValue, Mode.REPLACE_IF) != null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V remove(Object key) {
        return write((K) key, null, null, Mode.REMOVE);
    }

    @Override
    @SuppressWarnings("unchecked")
    public boolean remove(Object key, Object value) {
        Objects.requireNonNull(value, "value"); // nulls are refused (the class documentation), not "never mapped"
        return write((K) key, null, (V) value, Mode.REMOVE_IF) != null;
    }

    /**
     * The one write path. Returns the previous value (PUT, PUT_IF_ABSENT, REPLACE, REMOVE), or non-null for
     * success (REPLACE_IF, REMOVE_IF).
     */
    private V write(K key, V value, V expected, Mode mode) {
        MemorySegment k = keyOf(key);
        MemorySegment v = null;
        long size = HEADER + k.byteSize();
        if (mode != Mode.REMOVE && mode != Mode.REMOVE_IF) {
            v = values.bytesOf(Objects.requireNonNull(value, "value"));
            size += v.byteSize();
            if (size > segmentBudget) {
                throw new IllegalArgumentException("an entry of " + size + " bytes (key " + k.byteSize() + ", value "
                        + v.byteSize() + ", header " + HEADER + ") exceeds a segment's capacity of " + segmentBudget
                        + " bytes (capacityBytes / segments)");
            }
        }
        MemorySegment exp = expected == null ? null : values.bytesOf(expected);
        long h = hash(k);
        Segment seg = segmentFor(h);
        lock(seg);
        try {
            if (seg.dead) throw closedException();
            Table t = seg.table;
            long link = t.slot(h); // the word that points to e
            long e = longPlain(link);
            while (e != 0 && !matches(e, h, k)) {
                link = e + NEXT;
                e = longPlain(link);
            }
            V previous = e == 0 || mode == Mode.SET || mode == Mode.REPLACE_IF || mode == Mode.REMOVE_IF ? null
                    : values.read(valueBytes(e));
            switch (mode) {
                case PUT_IF_ABSENT -> {
                    if (e != 0) {
                        touch(e);
                        return previous;
                    }
                }
                case REPLACE, REMOVE -> {
                    if (e == 0) return null;
                }
                case REPLACE_IF, REMOVE_IF -> {
                    if (e == 0 || !sameBytes(valueBytes(e), exp)) return null;
                    previous = expected; // non-null: success
                }
                case SET, PUT -> { }
            }
            if (mode == Mode.REMOVE || mode == Mode.REMOVE_IF) {
                seg.unlink(link, e);
                return previous; // non-null: the entry existed (REMOVE_IF succeeded)
            }
            long n = newEntry(h, k, v);
            if (e == 0) {
                setLongPlain(n + NEXT, longPlain(link)); // plain: n is not published yet
                setLongVolatile(link, n); // publishes n's bytes to readers' volatile reads of the link
                seg.count++;
                seg.bytes += size;
                seg.append(n);
            } else {
                seg.replace(link, e, n);
            }
            seg.evict(n); // before any resize: n must still be the entry in the list, not a frozen original
            // The write is done; a resize that cannot allocate leaves the segment as it was and rethrows.
            if (e == 0 && seg.count > t.mask - (t.mask >>> 2)) seg.resize();
            return previous;
        } finally {
            unlock(seg);
        }
    }

    private static boolean sameBytes(MemorySegment a, MemorySegment b) {
        return a.byteSize() == b.byteSize() && MemorySegment.mismatch(a, 0, a.byteSize(), b, 0, b.byteSize()) == -1;
    }

    /** Allocates and fills an entry (not yet published). */
    private long newEntry(long h, MemorySegment k, MemorySegment v) {
        long klen = k.byteSize();
        long vlen = v.byteSize();
        long e = memory.allocateAddress(HEADER + klen + vlen, 16); // an address: no segment object per entry
        setLongPlain(e + NEXT, 0);
        setLongPlain(e + PREV, 0);
        setLongPlain(e + AFTER, 0);
        setLongPlain(e + HASH, h);
        Absolute.ALL.set(ValueLayout.JAVA_INT, e + KLEN, (int) klen);
        Absolute.ALL.set(ValueLayout.JAVA_INT, e + VLEN, (int) vlen);
        setLongPlain(e + USED, 0); // USED and the padding after it
        MemorySegment.copy(k, 0, Absolute.ALL, e + HEADER, klen);
        MemorySegment.copy(v, 0, Absolute.ALL, e + HEADER + klen, vlen);
        return e;
    }

    private static long entrySize(long e) {
        return HEADER + (long) intPlain(e + KLEN) + intPlain(e + VLEN);
    }

    /**
     * Retires a block (an entry or a table) unlinked from the map. Once the reclaimer's close has completed no
     * guard can be open or open again, so a block unlinked then (a map closed after its reclaimer) is freed at
     * once instead of being refused.
     */
    private void retireEntry(long e) {
        // by address (the map's own blocks): no segment object per retire
        if (reclaimer.isClosed()) {
            memory.free(e);
            return;
        }
        try {
            memory.retire(e);
        } catch (UseAfterFreeException bug) {
            throw bug; // checked mode's diagnosis of a map bug: never stashed
        } catch (IllegalStateException closing) {
            // The reclaimer refused (its close() has begun; the block is live again): a guard may still hold the
            // block, so it waits here until close() finds the reclaimer closed and frees it.
            refused.add(e);
        }
    }

    /** Blocks whose retire the reclaimer refused while closing: freed by {@link #close()} once it has closed. */
    private final ConcurrentLinkedQueue<Long> refused = new ConcurrentLinkedQueue<>();

    // ---------------------------------------------------------------------------------------------------
    // Segments
    // ---------------------------------------------------------------------------------------------------

    /** A bucket table: its native block and mask. Immutable; a resize publishes a new one. */
    private static final class Table {
        final long address;
        final int mask;

        Table(long address, int mask) {
            this.address = address;
            this.mask = mask;
        }

        long slot(long hash) {
            return address + ((hash & mask) << 3);
        }
    }

    /** One lock, one table, one eviction list. Fields other than {@code table} are the lock holder's. */
    private static final class Segment {
        final OffHeapMap<?, ?> map;
        final ReentrantLock lock = new ReentrantLock();
        /** Read by readers (volatile), written under the lock. */
        volatile Table table;
        int count;
        long bytes;
        /** Eviction list: oldest first. */
        long head;
        long tail;
        /** Set (under the lock) when the map closes, before the last table is frozen; readers read it volatile. */
        volatile boolean dead;
        /**
         * Blocks unlinked under the lock, retired once it is released ({@link OffHeapMap#unlock}): a retire may run
         * due reclaim actions of other objects on this thread, and such an action may call the map.
         */
        long[] unlinked = new long[4];
        int unlinkedCount;
        /**
         * Writers that released the lock and are still retiring what they unlinked under it (raised under the lock):
         * {@link OffHeapMap#close()} waits for them on {@link #retiresDone}, so that it returns only once every block
         * unlinked by a write that preceded it was retired (or recorded as refused).
         */
        final java.util.concurrent.atomic.AtomicInteger retiring = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.locks.Condition retiresDone = lock.newCondition();

        void retireAfterUnlock(long a) {
            if (unlinkedCount == unlinked.length) unlinked = java.util.Arrays.copyOf(unlinked, unlinkedCount * 2);
            unlinked[unlinkedCount++] = a;
        }

        Segment(OffHeapMap<?, ?> map, int buckets) {
            this.map = map;
            table = newTable(buckets);
        }

        Table newTable(int buckets) {
            long a = map.memory.allocateAddress((long) buckets * 8, 16);
            Absolute.ALL.asSlice(a, (long) buckets * 8).fill((byte) 0);
            return new Table(a, buckets - 1);
        }

        void append(long e) {
            setLongPlain(e + PREV, tail);
            setLongPlain(e + AFTER, 0);
            if (tail == 0) head = e;
            else setLongPlain(tail + AFTER, e);
            tail = e;
        }

        void detach(long e) {
            long p = longPlain(e + PREV);
            long a = longPlain(e + AFTER);
            if (p == 0) head = a;
            else setLongPlain(p + AFTER, a);
            if (a == 0) tail = p;
            else setLongPlain(a + PREV, p);
        }

        /** Unlinks {@code e}, found through the word {@code link}: mark, then bypass, then retire. */
        void unlink(long link, long e) {
            long next = longPlain(e + NEXT);
            // Mark before the bypass (release: a reader that sees the bypass and then reads e.next sees the
            // mark, and a reader whose reservation is validated by an unmarked re-read reserved in time).
            setLongVolatile(e + NEXT, next | MARK);
            setLongVolatile(link, next);
            detach(e);
            count--;
            bytes -= entrySize(e);
            retireAfterUnlock(e);
        }

        /** Puts {@code n} in {@code e}'s place (same chain position and eviction position), retires e. */
        void replace(long link, long e, long n) {
            long next = longPlain(e + NEXT);
            setLongPlain(n + NEXT, next); // plain: n is not published yet
            setLongVolatile(e + NEXT, next | MARK);
            setLongVolatile(link, n); // publishes n
            bytes += entrySize(n) - entrySize(e);
            append(n);
            detach(e);
            retireAfterUnlock(e);
        }

        /** Evicts oldest-first, with a second chance for entries read since, until within budget. */
        void evict(long keep) {
            long passes = count; // each entry gets at most one second chance per eviction run
            while (bytes > map.segmentBudget && head != 0) {
                long e = head;
                if (e == keep && tail == keep) break; // only the new entry left: it fits (checked at entry)
                if (e == keep || (passes-- > 0 && intOpaque(e + USED) != 0)) {
                    setIntOpaque(e + USED, 0);
                    detach(e);
                    append(e);
                    continue;
                }
                long link = findLink(e);
                unlink(link, e);
                map.evictions.increment();
            }
        }

        /** The word that points to {@code e} in its chain (under the lock). */
        long findLink(long e) {
            long link = table.slot(longPlain(e + HASH));
            long x;
            while ((x = longPlain(link)) != e) {
                if (x == 0) throw new IllegalStateException("entry 0x" + Long.toHexString(e) + " is not in its chain");
                link = x + NEXT;
            }
            return link;
        }

        /** Doubles the table by copying every entry (oldest first), then freezes and retires the old one. */
        void resize() {
            Table old = table;
            if (old.mask >= (1 << 29)) return;
            Table t = newTable((old.mask + 1) * 2);
            long oldHead = head;
            long oldTail = tail;
            head = 0;
            tail = 0;
            try {
                for (long e = oldHead; e != 0; e = longPlain(e + AFTER)) {
                    long size = entrySize(e);
                    long c = map.memory.allocateAddress(size, 16);
                    MemorySegment.copy(Absolute.ALL, e, Absolute.ALL, c, size);
                    long slot = t.slot(longPlain(e + HASH));
                    setLongPlain(c + NEXT, longPlain(slot)); // plain: t is not published yet
                    setLongPlain(slot, c);
                    append(c);
                }
            } catch (RuntimeException | Error x) {
                // an allocation failed: nothing new was published, so free the copies and the new table at
                // once and keep the old table and its eviction list
                for (long c = head, a; c != 0; c = a) {
                    a = longPlain(c + AFTER);
                    map.memory.free(c);
                }
                map.memory.free(t.address);
                head = oldHead;
                tail = oldTail;
                throw x;
            }
            table = t; // volatile: publishes the new table and the copies
            freeze(old, oldHead);
        }

        /**
         * Marks every bucket and entry of a table no longer current, then retires them: a reader still in it
         * restarts at the next link it reads.
         */
        void freeze(Table old, long oldHead) {
            for (long i = 0; i <= old.mask; i++) setLongVolatile(old.address + i * 8, MARK);
            for (long e = oldHead; e != 0; e = longPlain(e + AFTER)) {
                setLongVolatile(e + NEXT, longPlain(e + NEXT) | MARK);
            }
            for (long e = oldHead, a; e != 0; e = a) {
                a = longPlain(e + AFTER);
                retireAfterUnlock(e);
            }
            retireAfterUnlock(old.address);
        }

        /** Removes everything: freezes the current table and starts an empty one. */
        void clear(boolean last) {
            if (last) dead = true; // before the marks: a reader that meets a mark then sees it
            Table old = table;
            long oldHead = head;
            if (!last) table = newTable(old.mask + 1);
            head = 0;
            tail = 0;
            count = 0;
            bytes = 0;
            freeze(old, oldHead);
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Bulk
    // ---------------------------------------------------------------------------------------------------

    @Override
    public int size() {
        checkOpen(); // refuses once closed, as every other operation
        long n = 0;
        for (Segment s : segments) {
            lock(s);
            try {
                if (s.dead) throw closedException();
                n += s.count;
            } finally {
                unlock(s);
            }
        }
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    @Override
    public boolean isEmpty() {
        return size() == 0;
    }

    /**
     * Whether some key maps to a value with the same serialized bytes as {@code value} (serialized once, then
     * compared with each entry's bytes, one segment at a time under its lock; not atomic across segments).
     *
     * @throws NullPointerException if {@code value} is null
     * @throws ClassCastException if the value serializer cannot serialize {@code value}
     * @throws IllegalStateException if the map is closed
     */
    @Override
    public boolean containsValue(Object value) {
        Objects.requireNonNull(value, "value");
        checkOpen();
        @SuppressWarnings("unchecked")
        MemorySegment v = values.bytesOf((V) value);
        for (Segment s : segments) {
            lock(s);
            try {
                if (s.dead) throw closedException();
                for (long e = s.head; e != 0; e = longPlain(e + AFTER)) {
                    if (sameBytes(valueBytes(e), v)) return true;
                }
            } finally {
                unlock(s);
            }
        }
        return false;
    }

    @Override
    public void clear() {
        for (Segment s : segments) {
            lock(s);
            try {
                if (s.dead) throw closedException();
                s.clear(false);
            } finally {
                unlock(s);
            }
        }
    }

    /**
     * Returns the entries evicted to stay within capacity, ever.
     *
     * @return the count
     */
    public long evictions() {
        return evictions.sum();
    }

    /**
     * Returns the bytes of entries held (headers, keys, values), summed over the segments.
     *
     * @return the bytes
     */
    public long usedBytes() {
        long n = 0;
        for (Segment s : segments) {
            lock(s);
            try {
                n += s.bytes;
            } finally {
                unlock(s);
            }
        }
        return n;
    }

    /**
     * Returns the capacity in bytes (what the segments' budgets add up to).
     *
     * @return the capacity
     */
    public long capacityBytes() {
        return segmentBudget * segments.length;
    }

    /**
     * Returns the allocator's accounting (the map's own allocator, or the one it shares).
     *
     * @return the native memory statistics
     */
    public NativeStats nativeStats() {
        return memory.stats();
    }

    /**
     * Returns the allocator the map's entries come from.
     *
     * @return the allocator
     */
    public NativeMemory memory() {
        return memory;
    }

    private List<Map.Entry<K, V>> snapshot() {
        checkOpen();
        List<Map.Entry<K, V>> out = new ArrayList<>();
        for (Segment s : segments) {
            // Under the lock: a consistent segment, read without reservations (no writer can unlink).
            lock(s);
            try {
                for (long e = s.head; e != 0; e = longPlain(e + AFTER)) {
                    out.add(new AbstractMap.SimpleImmutableEntry<>(keys.read(keyBytes(e)), values.read(valueBytes(e))));
                }
            } finally {
                unlock(s);
            }
        }
        return out;
    }

    /**
     * Returns a view whose iterator walks a snapshot taken one segment at a time (weakly consistent: it
     * reflects each segment as it was when the iterator reached it); {@code Iterator.remove} removes the
     * entry if it still maps to the value seen.
     *
     * @return the entries
     */
    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Map.Entry<K, V>> iterator() {
                Iterator<Map.Entry<K, V>> it = snapshot().iterator();
                return new Iterator<>() {
                    private Map.Entry<K, V> last;

                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Map.Entry<K, V> next() {
                        if (!it.hasNext()) throw new NoSuchElementException();
                        return last = it.next();
                    }

                    @Override
                    public void remove() {
                        if (last == null) throw new IllegalStateException("next() not called, or already removed");
                        OffHeapMap.this.remove(last.getKey(), last.getValue());
                        last = null;
                    }
                };
            }

            @Override
            public int size() {
                return OffHeapMap.this.size();
            }

            /** Whether the key maps to a value of the same serialized bytes (as the map compares values). */
            @Override
            @SuppressWarnings("unchecked")
            public boolean contains(Object o) {
                if (!(o instanceof Map.Entry<?, ?> e) || e.getKey() == null || e.getValue() == null) return false;
                V v = get(e.getKey());
                return v != null && sameBytes(values.bytesOf(v), values.bytesOf((V) e.getValue()));
            }

            /** The map's {@code remove(key, value)}: compares the value's serialized bytes. */
            @Override
            public boolean remove(Object o) {
                if (!(o instanceof Map.Entry<?, ?> e) || e.getKey() == null || e.getValue() == null) return false;
                return OffHeapMap.this.remove(e.getKey(), e.getValue());
            }
        };
    }

    /** The entries' iterator seen through {@code part} (a key or a value); its {@code remove} removes the entry. */
    private static <K, V, T> Iterator<T> projecting(Iterator<Map.Entry<K, V>> it,
            java.util.function.Function<Map.Entry<K, V>, T> part) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public T next() {
                return part.apply(it.next());
            }

            @Override
            public void remove() {
                it.remove();
            }
        };
    }

    /**
     * Returns a view of the keys over {@link #entrySet()}: {@code contains} and {@code remove} compare the key's
     * serialized bytes, as the map does ({@code remove} is the map's {@code remove(key)}).
     *
     * @return the keys
     */
    @Override
    public Set<K> keySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<K> iterator() {
                return projecting(entrySet().iterator(), Map.Entry::getKey);
            }

            @Override
            public int size() {
                return OffHeapMap.this.size();
            }

            @Override
            public boolean contains(Object o) {
                return containsKey(o); // null: NullPointerException, as the map's
            }

            @Override
            public boolean remove(Object o) {
                return OffHeapMap.this.remove(o) != null; // null: NullPointerException, as the map's
            }

            @Override
            public void clear() {
                OffHeapMap.this.clear();
            }
        };
    }

    /**
     * Returns a view of the values over {@link #entrySet()}: {@code contains} and {@code remove} compare the value's
     * serialized bytes, as the map does ({@code remove} removes one entry that still maps to those bytes, with the
     * map's {@code remove(key, value)}).
     *
     * @return the values
     */
    @Override
    public java.util.Collection<V> values() {
        return new java.util.AbstractCollection<>() {
            @Override
            public Iterator<V> iterator() {
                return projecting(entrySet().iterator(), Map.Entry::getValue);
            }

            @Override
            public int size() {
                return OffHeapMap.this.size();
            }

            @Override
            public boolean contains(Object o) {
                return containsValue(o); // null: NullPointerException, as the map's
            }

            @Override
            @SuppressWarnings("unchecked")
            public boolean remove(Object o) {
                Objects.requireNonNull(o, "value");
                MemorySegment v = values.bytesOf((V) o);
                for (Map.Entry<K, V> e : snapshot()) {
                    if (sameBytes(values.bytesOf(e.getValue()), v) && OffHeapMap.this.remove(e.getKey(), o)) return true;
                }
                return false;
            }

            @Override
            public void clear() {
                OffHeapMap.this.clear();
            }
        };
    }

    // ---------------------------------------------------------------------------------------------------
    // Lifecycle
    // ---------------------------------------------------------------------------------------------------

    private void checkOpen() {
        if (closed) throw closedException();
    }

    /**
     * Locks {@code s}, refusing a thread that already holds it: a {@link Serializer} called under the lock (the
     * previous value of a write, an iteration's snapshot) that calls back into the map. The lock is re-entrant,
     * so such a call would otherwise change the segment under the operation that called the serializer.
     */
    private static void lock(Segment s) {
        if (s.lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("the map was called from its own Serializer (under a segment's lock):"
                    + " a Serializer must not call the map");
        }
        s.lock.lock();
    }

    /**
     * Unlocks {@code s}, then retires what was unlinked under the lock: outside the lock, so that a reclaim action
     * that the retire runs on this thread (another object's, of a shared reclaimer) may call the map, on this
     * segment or another, without re-entering a write in progress or taking a second segment's lock.
     */
    private void unlock(Segment s) {
        int n = s.unlinkedCount;
        if (n == 0) {
            s.lock.unlock();
            return;
        }
        long one = s.unlinked[0];
        long[] many = n == 1 ? null : java.util.Arrays.copyOf(s.unlinked, n);
        s.unlinkedCount = 0;
        if (s.unlinked.length > 64) s.unlinked = new long[4]; // a clear or resize: do not keep its array
        s.retiring.getAndIncrement(); // under the lock: a close() that takes it next sees this retire in flight
        s.lock.unlock();
        int[] own = ownRetires.get();
        own[0]++;
        try {
            if (many == null) {
                retireEntry(one);
            } else {
                for (long a : many) retireEntry(a);
            }
        } finally {
            own[0]--;
            // Dekker with close(): our decrement, then the volatile load of dead; close() stores dead, then loads
            // the count under the lock. Either it sees the decrement or we see dead and wake it.
            if (s.retiring.decrementAndGet() == 0 && s.dead) {
                s.lock.lock();
                try {
                    s.retiresDone.signalAll();
                } finally {
                    s.lock.unlock();
                }
            }
        }
    }

    /** This thread's retires in flight in {@link #unlock} (a reclaim action they run may call close()). */
    private final ThreadLocal<int[]> ownRetires = ThreadLocal.withInitial(() -> new int[1]);

    /**
     * Waits until no writer is still retiring what it unlinked from {@code s} before the segment died; not when
     * this thread is itself retiring for this map (a reclaim action of another object that closes the map; it
     * would wait for itself).
     */
    private void awaitRetires(Segment s) {
        if (ownRetires.get()[0] != 0) return;
        s.lock.lock();
        try {
            while (s.retiring.get() != 0) s.retiresDone.awaitUninterruptibly();
        } finally {
            s.lock.unlock();
        }
    }

    private static IllegalStateException closedException() {
        return new IllegalStateException("the map is closed");
    }

    /**
     * Retires every entry and table and refuses later use (idempotent). The bytes return to the allocator once
     * the reclaimer reclaims them; this method asks it to ({@code flush()}), so with no guard open elsewhere
     * they are freed when it returns. Writes that preceded it retire what they replaced or removed after releasing
     * their segment's lock; it returns once they have. A map that created its own allocator closes it too.
     *
     * <p>While the reclaimer is closing (its {@code close()} was refused because guards are open), it refuses
     * retires: the map is closed all the same, keeps the blocks it could not retire (a guard may still read them),
     * and throws; a {@code close()} called again once the reclaimer has closed frees them (and closes the map's own
     * allocator).
     *
     * @throws IllegalStateException if the reclaimer is closing and blocks are left to free (see above)
     */
    @Override
    public void close() {
        if (!closed) {
            for (Segment s : segments) {
                lock(s);
                try {
                    if (!s.dead) s.clear(true);
                } finally {
                    unlock(s);
                }
            }
            // Writes that preceded the close may still be retiring what they unlinked (after their unlock): wait, so
            // that a refusal of theirs is recorded before the check of refused blocks below.
            for (Segment s : segments) awaitRetires(s);
            closed = true;
            if (!reclaimer.isClosed()) {
                try {
                    reclaimer.flush();
                } catch (IllegalStateException closing) {
                    // closing: its close() reclaims what was retired
                }
            }
        }
        if (!refused.isEmpty()) {
            if (!reclaimer.isClosed()) {
                throw new IllegalStateException("the reclaimer is closing: " + refused.size() + " block(s) of this map"
                        + " could not be retired; call close() again once the reclaimer has closed, to free them");
            }
            for (Long a; (a = refused.poll()) != null; ) memory.free(a); // no guard is open or can open
        }
        if (ownsMemory) memory.close();
    }

    @Override
    public String toString() {
        return "OffHeapMap[" + segments.length + " segments, " + capacityBytes() + " bytes capacity, " + keys + ", "
                + values + "]";
    }
}
