package reclaim.offheap.map;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Turns keys or values into bytes in native memory and back: the typed view of an {@link OffHeapMap}.
 *
 * <p>{@link #size} and {@link #write} must agree: {@code write} fills exactly {@code size(value)} bytes, and
 * equal objects must serialize to equal bytes (keys are compared and hashed as bytes). {@link #read} must copy
 * what it needs: the segment it reads is valid only during the call (the entry may be freed once the read's
 * guard closes). Its methods must not call the map they serve: the map calls {@code read} under a segment's
 * lock (for the previous value of a write, and for an iteration's snapshot), and a call back into the same
 * segment throws {@link IllegalStateException}, while one into another segment may deadlock with a thread doing
 * the reverse.
 *
 * @param <T> the type serialized
 */
public interface Serializer<T> {
    /**
     * Returns the number of bytes {@code value} serializes to.
     *
     * @param value the value, not null
     * @return the size in bytes, {@code >= 0}
     */
    int size(T value);

    /**
     * Writes {@code value} into {@code target}, which is exactly {@code size(value)} bytes long.
     *
     * @param value the value
     * @param target the bytes to fill
     */
    void write(T value, MemorySegment target);

    /**
     * Reads a value from {@code source}; must not keep {@code source} after it returns.
     *
     * @param source the serialized bytes, valid only during the call; when the map calls it, a published entry's
     *     own bytes, which must not be written
     * @return the value
     */
    T read(MemorySegment source);

    /**
     * Returns {@code value}'s bytes as a segment (heap or native) valid until the caller drops it. The default
     * serializes into a fresh heap segment; a serializer whose values already are bytes returns a view of them.
     *
     * @param value the value
     * @return its serialized bytes
     * @throws IllegalArgumentException if {@link #size} reports a negative size
     */
    default MemorySegment bytesOf(T value) {
        int n = size(value);
        if (n < 0) throw new IllegalArgumentException(this + " reported a negative size, " + n + ", for " + value);
        MemorySegment s = MemorySegment.ofArray(new byte[n]);
        write(value, s);
        return s;
    }

    /**
     * Byte arrays as they are (no copy to serialize a key for a lookup).
     *
     * @return the serializer
     */
    static Serializer<byte[]> bytes() {
        return Builtin.BYTES;
    }

    /**
     * Strings as UTF-8.
     *
     * @return the serializer
     */
    static Serializer<String> utf8() {
        return Builtin.UTF8;
    }

    /**
     * Longs as 8 bytes (native byte order).
     *
     * @return the serializer
     */
    static Serializer<Long> int64() {
        return Builtin.INT64;
    }
}

/** The serializers {@link Serializer} offers. */
final class Builtin {
    private Builtin() {}

    static final Serializer<byte[]> BYTES = new Serializer<>() {
        @Override
        public int size(byte[] value) {
            return value.length;
        }

        @Override
        public void write(byte[] value, MemorySegment target) {
            MemorySegment.copy(value, 0, target, ValueLayout.JAVA_BYTE, 0, value.length);
        }

        @Override
        public byte[] read(MemorySegment source) {
            return source.toArray(ValueLayout.JAVA_BYTE);
        }

        @Override
        public MemorySegment bytesOf(byte[] value) {
            return MemorySegment.ofArray(Objects.requireNonNull(value, "value"));
        }

        @Override
        public String toString() {
            return "Serializer.bytes()";
        }
    };

    static final Serializer<String> UTF8 = new Serializer<>() {
        @Override
        public int size(String value) {
            return value.getBytes(StandardCharsets.UTF_8).length;
        }

        @Override
        public void write(String value, MemorySegment target) {
            byte[] b = value.getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(b, 0, target, ValueLayout.JAVA_BYTE, 0, b.length);
        }

        @Override
        public String read(MemorySegment source) {
            return new String(source.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }

        @Override
        public MemorySegment bytesOf(String value) {
            return MemorySegment.ofArray(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return "Serializer.utf8()";
        }
    };

    static final Serializer<Long> INT64 = new Serializer<>() {
        @Override
        public int size(Long value) {
            return Long.BYTES;
        }

        @Override
        public void write(Long value, MemorySegment target) {
            target.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
        }

        @Override
        public Long read(MemorySegment source) {
            return source.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        }

        @Override
        public MemorySegment bytesOf(Long value) {
            return MemorySegment.ofArray(new long[] {value});
        }

        @Override
        public String toString() {
            return "Serializer.int64()";
        }
    };
}
