package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** A batch gives back each object with its own action, however the actions run, and a cleared batch holds nothing. */
class BatchTest {

    @Test
    void eachObjectKeepsItsOwnActionAcrossRunsOfSharedActions() {
        Consumer<Object> a = o -> { };
        Consumer<Object> b = o -> { };
        Consumer<Object> c = o -> { };
        List<Consumer<Object>> pattern = List.of(a, a, a, b, a, a, c, c, b, b, b, a);
        Batch batch = new Batch(pattern.size());
        Object[] objects = new Object[pattern.size()];
        for (int i = 0; i < pattern.size(); i++) {
            objects[i] = new Object();
            assertEquals(i == pattern.size() - 1, batch.add(objects[i], pattern.get(i)), "full only at the last add");
        }
        for (int i = 0; i < pattern.size(); i++) {
            assertSame(objects[i], batch.object(i), "object " + i);
            assertSame(pattern.get(i), batch.action(i), "action of object " + i);
        }
        assertThrows(IllegalStateException.class, () -> batch.add(new Object(), a));
    }

    @Test
    void aRecycledBatchHoldsNothingAndIsFilledAfreshWithOtherActions() {
        Random rnd = new Random(7);
        List<Consumer<Object>> actions = List.of(o -> { }, o -> { }, o -> { });
        Batch batch = new Batch(64);
        for (int round = 0; round < 50; round++) {
            int n = 1 + rnd.nextInt(64);
            Object[] objects = new Object[n];
            List<Consumer<Object>> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                objects[i] = new Object();
                expected.add(actions.get(rnd.nextInt(4) == 0 ? rnd.nextInt(3) : round % 3)); // mostly runs
                batch.add(objects[i], expected.get(i));
            }
            for (int i = 0; i < n; i++) {
                assertSame(objects[i], batch.object(i), "round " + round + ", object " + i);
                assertSame(expected.get(i), batch.action(i), "round " + round + ", action of object " + i);
            }
            batch.recycle();
            assertTrue(batch.isEmpty());
            for (int i = 0; i < batch.capacity(); i++) {
                assertNull(batch.object(i), "a recycled batch kept object " + i);
                assertNull(batch.action(i), "a recycled batch kept the action of slot " + i);
            }
        }
        assertFalse(batch.add(new Object(), actions.get(0)));
    }
}
