package reclaim.impl.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.Set;

import jdk.jfr.SettingControl;

/**
 * The JFR setting {@code rate} of {@link ReclamationEvent}: at most so many events a second ({@code "100/s"}), or
 * every one ({@code "off"}). A busy reclaimer reclaims many batches a second; the default keeps a recording of a
 * production system small, and {@code reclaim.Reclamation#rate=off} records them all. Where several recordings
 * set it, the most permissive value wins. Loaded only where {@link Jfr#AVAILABLE}.
 *
 * <p>The limit is a window of one second: the first {@code n} events of each window pass. Thread-safe: the window
 * and its count move by CAS and getAndAdd; the setting itself changes only when a recording starts or stops, and
 * is read opaque (a commit that sees the old limit for a moment is harmless).
 */
public final class RateControl extends SettingControl {
    /** The default: at most this many events a second. */
    static final String DEFAULT = "100/s";
    private static final long SECOND = 1_000_000_000L;

    /** Events a second, or {@code Long.MAX_VALUE} for "off"; through {@code LIMIT}. */
    private long limit = 100;
    private String value = DEFAULT;
    /** When the current window began ({@code System.nanoTime()}); through {@code WINDOW}. */
    private long window = System.nanoTime();
    /** Events passed in the current window; through {@code COUNT}. */
    private long count;

    /** Creates the control (JFR does, when the event is registered). */
    public RateControl() {
    }

    /**
     * Parses a value: {@code "off"} (no limit) or {@code "n/s"} with {@code n >= 0}.
     *
     * @param value the value
     * @return events a second ({@code Long.MAX_VALUE} for off), or -1 if it does not parse
     */
    static long parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("off")) return Long.MAX_VALUE;
        if (!v.endsWith("/s")) return -1;
        try {
            long n = Long.parseLong(v.substring(0, v.length() - 2).trim());
            return n < 0 ? -1 : n;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public String combine(Set<String> values) {
        long best = -1;
        String chosen = DEFAULT;
        for (String v : values) {
            long n = parse(v);
            if (n > best) {
                best = n;
                chosen = v;
            }
        }
        return chosen;
    }

    @Override
    public void setValue(String value) {
        long n = parse(value);
        if (n < 0) return; // a value that does not parse leaves the setting as it was
        this.value = value;
        setLimitOpaque(n);
    }

    @Override
    public String getValue() {
        return value;
    }

    /**
     * Returns whether one more event may pass in the current second (and counts it).
     *
     * @return whether the event is committed
     */
    boolean allow() {
        long max = limitOpaque();
        if (max == Long.MAX_VALUE) return true;
        long now = System.nanoTime();
        long w = windowOpaque();
        if (now - w >= SECOND && casWindow(w, now)) setCountOpaque(0); // a new window (racy by a few events)
        return getAndAddCount(1) < max;
    }

    private long limitOpaque() {
        return (long) LIMIT.getOpaque(this);
    }

    private void setLimitOpaque(long v) {
        LIMIT.setOpaque(this, v);
    }

    private long windowOpaque() {
        return (long) WINDOW.getOpaque(this);
    }

    private boolean casWindow(long expected, long update) {
        return WINDOW.compareAndSet(this, expected, update);
    }

    private void setCountOpaque(long v) {
        COUNT.setOpaque(this, v);
    }

    private long getAndAddCount(long d) {
        return (long) COUNT.getAndAdd(this, d);
    }

    private static final VarHandle LIMIT;
    private static final VarHandle WINDOW;
    private static final VarHandle COUNT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            LIMIT = l.findVarHandle(RateControl.class, "limit", long.class);
            WINDOW = l.findVarHandle(RateControl.class, "window", long.class);
            COUNT = l.findVarHandle(RateControl.class, "count", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
