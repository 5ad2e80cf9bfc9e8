package reclaim.offheap.slots;

/**
 * A message's header, read by {@link SlotMemory#header(long)} without touching the payload.
 *
 * @param handle the handle it was read through
 * @param length the payload length in bytes
 * @param kind the user kind given at store (or by {@link SlotWrite#setKind(int)})
 */
public record SlotHeader(long handle, int length, int kind) {
}
