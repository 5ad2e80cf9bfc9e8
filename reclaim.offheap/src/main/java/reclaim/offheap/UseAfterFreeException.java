package reclaim.offheap;

/**
 * Thrown when a {@link NativeMemory} finds that a block has already been freed: a read through the library
 * ({@link NativeMemory#load(reclaim.api.Guard, long, long, int) load}, {@link NativeMemory#segment(long)
 * segment}, the accessors) in {@linkplain NativeMemory.Builder#checked(boolean) checked mode}, or a second
 * {@code retire}/{@code free} of a freed block.
 *
 * <p>Each one is counted in {@link NativeStats#useAfterFree()}. The message names the block's address and the
 * reclaimer's scheme, so that a report says which scheme let (or was asked to let) a reader reach a freed
 * block.
 */
public final class UseAfterFreeException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** The block's address. */
    private final long address;
    /** The scheme's short name. */
    private final String scheme;

    /**
     * Creates the exception.
     *
     * @param address the freed block's address
     * @param scheme the short name of the reclaimer's scheme
     * @param detail what was attempted (for the message), for example {@code "load at offset 8"}
     */
    public UseAfterFreeException(long address, String scheme, String detail) {
        super("use after free: block 0x" + Long.toHexString(address) + " (scheme " + scheme + ") was already freed"
                + (detail == null || detail.isEmpty() ? "" : "; " + detail));
        this.address = address;
        this.scheme = scheme;
    }

    /**
     * Returns the address of the freed block.
     *
     * @return the block's address
     */
    public long address() {
        return address;
    }

    /**
     * Returns the short name of the scheme of the reclaimer the block was retired to.
     *
     * @return the scheme's name, as {@link reclaim.api.Scheme#name()}
     */
    public String scheme() {
        return scheme;
    }
}
