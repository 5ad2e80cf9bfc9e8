package reclaim.offheap;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import reclaim.api.Guard;
import reclaim.api.Reclaimer;

/** Tests' helper: a guard that belongs to another thread, for the probes of what such a guard is refused. */
public final class ForeignGuards {
    private ForeignGuards() {}

    /**
     * Runs {@code body} with a guard of {@code r} opened on another thread and held open until {@code body} returns,
     * then closed by its owner: what a misbehaving client hands from one thread to another.
     *
     * @param r the reclaimer
     * @param body what to do with the foreign guard
     * @throws Exception if the owner thread fails to open the guard, or a wait or join fails
     */
    public static void withForeignGuard(Reclaimer r, Consumer<Guard> body) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        CompletableFuture<Guard> opened = new CompletableFuture<>();
        Thread owner = new Thread(() -> {
            try (Guard g = r.enter()) {
                opened.complete(g);
                done.await();
            } catch (Throwable t) {
                opened.completeExceptionally(t);
            }
        }, "guard-owner");
        owner.start();
        try {
            body.accept(opened.get(30, TimeUnit.SECONDS));
        } finally {
            done.countDown();
            owner.join();
        }
    }
}
