package reclaim.offheap.internal;

/**
 * The check every entry point that needs native access makes first: {@code NativeMemory.create}/{@code build},
 * {@code MappedFile.map} (and so {@code MappedFileSwap}) and {@code OffHeapMap.Builder.build}.
 *
 * <p>The module calls {@code malloc}, {@code free}, {@code mmap} and {@code munmap} through the
 * {@link java.lang.foreign.Linker} and views native addresses with {@code MemorySegment.reinterpret}: restricted
 * methods. Without native access the JDK either prints its restricted-method warning (the default,
 * {@code --illegal-native-access=warn}) or throws {@link IllegalCallerException} from the first downcall
 * ({@code =deny}), which, in a class initializer, becomes an {@link ExceptionInInitializerError} and then a
 * {@link NoClassDefFoundError} on every later use. A library must not make the JDK print that warning on its
 * user's console nor fail that way, so every entry point asks {@link Module#isNativeAccessEnabled()} first,
 * before any restricted method runs and before the classes that hold the downcall handles are initialized,
 * and refuses with one {@link IllegalStateException} that names the flag to add.
 *
 * <p>Not exported: the package is internal to {@code reclaim.offheap}.
 */
public final class NativeAccess {
    /** The module's name, for the flag on the module path. */
    public static final String MODULE = "reclaim.offheap";

    private NativeAccess() {
    }

    /**
     * Throws unless this module (on the module path) or the unnamed module (on the class path) has native
     * access. Touches no restricted method.
     *
     * @param what the entry point, for the message (e.g. {@code "NativeMemory.create"})
     * @throws IllegalStateException if native access is not enabled, naming the flag to add
     */
    public static void require(String what) {
        Module module = NativeAccess.class.getModule();
        if (!module.isNativeAccessEnabled()) {
            throw new IllegalStateException(refusal(what, module.isNamed() ? module.getName() : null));
        }
    }

    /**
     * The message of the refusal: names the flag for the way the module was loaded, and the other spelling.
     *
     * @param what the entry point
     * @param moduleName the module's name when it is loaded as a named module (module path), or null when it
     *     is on the class path (the unnamed module)
     * @return the message
     */
    public static String refusal(String what, String moduleName) {
        String flag = moduleName != null ? "--enable-native-access=" + moduleName : "--enable-native-access=ALL-UNNAMED";
        String where = moduleName != null ? "on the module path" : "on the class path";
        return what + " needs native access (reclaim.offheap calls malloc, free, mmap and munmap through the "
                + "java.lang.foreign Linker), and the JVM does not grant it to reclaim.offheap " + where
                + ": run java with " + flag + " (module path: --enable-native-access=" + MODULE
                + "; class path: --enable-native-access=ALL-UNNAMED; an executable jar: the manifest attribute "
                + "Enable-Native-Access: ALL-UNNAMED)";
    }
}
