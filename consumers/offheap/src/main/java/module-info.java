// README.md, "Off-heap memory": a client requires reclaim.offheap (which reads reclaim.api for it)
module consumer.offheap {
    requires reclaim.offheap;
}
