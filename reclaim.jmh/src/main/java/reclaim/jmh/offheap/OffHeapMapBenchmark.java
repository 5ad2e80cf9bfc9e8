package reclaim.jmh.offheap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.caffinitas.ohc.CacheSerializer;
import org.caffinitas.ohc.OHCache;
import org.caffinitas.ohc.OHCacheBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import reclaim.api.Reclaimer;
import reclaim.offheap.map.OffHeapMap;
import reclaim.offheap.map.Serializer;

/**
 * Issue #7, the off-heap map against OHC (Cassandra's off-heap cache, {@code org.caffinitas.ohc:ohc-core}
 * 0.7.4, its default linked implementation): the same {@value #KEYS} keys of {@value #KEY_BYTES} bytes and
 * values of {@value #VALUE_BYTES} bytes, the same capacity ({@value #CAPACITY_MIB} MiB, which holds every key:
 * nothing is evicted) and {@value #SEGMENTS} segments, keys and values as {@code byte[]} through a plain copy
 * serializer on both sides. Targets: gets ≥ 2× OHC, puts ≥ 1× OHC.
 *
 * <p>{@code get}: a random present key; both copy the value into a new {@code byte[]} (OHC's serializer
 * reads its {@code ByteBuffer}, ours {@link Serializer#bytes()}), and OHC also serializes the key into a heap
 * buffer. Ours reads without a lock under a guard; OHC takes a reference count on the entry under its segment
 * lock. {@code put}: a random key gets a new value: {@link OffHeapMap#set} (no old value read back) against
 * {@code OHCache.put} (which returns a boolean, no old value either). Each runs at 1 and 2 threads
 * ({@code get1}, {@code get2}, {@code put1}, {@code put2}); run with {@code -prof gc} for the allocation per
 * operation.
 *
 * <p>OHC on JDK 25 uses {@code sun.misc.Unsafe}; the forks run with
 * {@code --sun-misc-unsafe-memory-access=allow} and need nothing else.
 *
 * <p>Run: {@code ./reclaim bench OffHeapMapBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class OffHeapMapBenchmark {
    /** Distinct keys, all present. */
    static final int KEYS = 65_536;
    /** Bytes per key. */
    static final int KEY_BYTES = 16;
    /** Bytes per value. */
    static final int VALUE_BYTES = 100;
    /** The capacity of both maps, in MiB. */
    static final int CAPACITY_MIB = 64;
    /** Segments of both maps. */
    static final int SEGMENTS = 16;

    /** {@code ohc}, or a scheme's short name ({@link OffHeapMap} under that scheme). */
    @Param({"ohc", "qsbr", "ebr", "hp", "hyaline", "crystalline"})
    public String impl;

    private Reclaimer reclaimer;
    private OffHeapMap<byte[], byte[]> map;
    private OHCache<byte[], byte[]> ohc;
    private byte[][] keys;
    private byte[][] values;

    /** Creates the state. */
    public OffHeapMapBenchmark() {}

    /** Builds the map and puts every key. */
    @Setup(Level.Trial)
    public void setUp() {
        keys = new byte[KEYS][];
        for (int i = 0; i < KEYS; i++) {
            ByteBuffer b = ByteBuffer.allocate(KEY_BYTES);
            b.putLong(i * 0x9E3779B97F4A7C15L).putLong(i);
            keys[i] = b.array();
        }
        values = new byte[16][]; // puts cycle through a few values, so that a put changes the entry
        for (int v = 0; v < values.length; v++) {
            values[v] = new byte[VALUE_BYTES];
            Arrays.fill(values[v], (byte) v);
        }
        if (impl.equals("ohc")) {
            ohc = OHCacheBuilder.<byte[], byte[]>newBuilder()
                    .keySerializer(BytesSerializer.INSTANCE)
                    .valueSerializer(BytesSerializer.INSTANCE)
                    .capacity((long) CAPACITY_MIB << 20)
                    .segmentCount(SEGMENTS)
                    .build();
        } else {
            reclaimer = Reclaimer.create(impl);
            map = OffHeapMap.builder(reclaimer, Serializer.bytes(), Serializer.bytes())
                    .capacityBytes((long) CAPACITY_MIB << 20)
                    .segments(SEGMENTS)
                    .checked(false)
                    .build();
        }
        for (int i = 0; i < KEYS; i++) doPut(keys[i], values[i & 15]);
        for (int i = 0; i < KEYS; i += 997) { // every key must be there, with its whole value: no eviction
            byte[] v = doGet(keys[i]);
            if (v == null || !Arrays.equals(v, values[i & 15])) {
                throw new IllegalStateException(impl + ": key " + i + " lost or wrong after the prefill: " + Arrays.toString(v));
            }
        }
    }

    /** Closes the map (and the reclaimer). */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (ohc != null) {
            try {
                ohc.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            map.close();
            reclaimer.close();
        }
    }

    private byte[] doGet(byte[] k) {
        return ohc != null ? ohc.get(k) : map.get(k);
    }

    private void doPut(byte[] k, byte[] v) {
        if (ohc != null) {
            ohc.put(k, v);
        } else {
            map.set(k, v);
        }
    }

    /**
     * A get of a random present key, 1 thread.
     *
     * @param rng the thread's random source
     * @return the value
     */
    @Benchmark
    @Threads(1)
    public byte[] get1(Rng rng) {
        return doGet(keys[rng.next(KEYS)]);
    }

    /**
     * A get of a random present key, 2 threads.
     *
     * @param rng the thread's random source
     * @return the value
     */
    @Benchmark
    @Threads(2)
    public byte[] get2(Rng rng) {
        return doGet(keys[rng.next(KEYS)]);
    }

    /**
     * A put of a new value under a random key, 1 thread.
     *
     * @param rng the thread's random source
     */
    @Benchmark
    @Threads(1)
    public void put1(Rng rng) {
        int r = rng.next(KEYS << 4);
        doPut(keys[r >>> 4], values[r & 15]);
    }

    /**
     * A put of a new value under a random key, 2 threads.
     *
     * @param rng the thread's random source
     */
    @Benchmark
    @Threads(2)
    public void put2(Rng rng) {
        int r = rng.next(KEYS << 4);
        doPut(keys[r >>> 4], values[r & 15]);
    }

    /** OHC's serializer for {@code byte[]} keys and values: a plain copy, as {@link Serializer#bytes()}. */
    static final class BytesSerializer implements CacheSerializer<byte[]> {
        static final BytesSerializer INSTANCE = new BytesSerializer();

        @Override
        public void serialize(byte[] value, ByteBuffer buf) {
            buf.put(value);
        }

        @Override
        public byte[] deserialize(ByteBuffer buf) {
            byte[] b = new byte[buf.remaining()];
            buf.get(b);
            return b;
        }

        @Override
        public int serializedSize(byte[] value) {
            return value.length;
        }
    }
}
