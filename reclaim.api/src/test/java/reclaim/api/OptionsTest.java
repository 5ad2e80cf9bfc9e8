package reclaim.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import reclaim.spi.ReclaimerProvider;

class OptionsTest {

    @AfterEach
    void clearProperties() {
        System.clearProperty(Options.BARRIER_PROPERTY);
        System.clearProperty(Options.CHECKED_PROPERTY);
    }

    @Test
    void theDefaultsAreAutoUncheckedAndInline() {
        assertSame(Options.Barrier.AUTO, Options.DEFAULT.barrier());
        assertFalse(Options.DEFAULT.checked());
        assertNull(Options.DEFAULT.actionExecutor());
        assertEquals(Options.DEFAULT, Options.fromSystemProperties());
    }

    @Test
    void eachWitherChangesOneSettingOnly() {
        Executor direct = Runnable::run;
        Options o = Options.DEFAULT.withBarrier(Options.Barrier.FENCE).withChecked(true).withActionExecutor(direct);
        assertEquals(new Options(Options.Barrier.FENCE, true, direct), o);
        assertEquals(new Options(Options.Barrier.FENCE, false, direct), o.withChecked(false));
    }

    @Test
    void withActionThreadSetsTheOneSharedDaemonExecutor() throws InterruptedException {
        Options o = Options.DEFAULT.withChecked(true).withActionThread();
        assertSame(Options.actionThread(), o.actionExecutor());
        assertTrue(o.checked(), "withActionThread() changed another setting");
        assertEquals(o, Options.DEFAULT.withActionThread().withChecked(true));
        CountDownLatch ran = new CountDownLatch(1);
        Thread[] on = new Thread[1];
        Options.actionThread().execute(() -> {
            on[0] = Thread.currentThread();
            ran.countDown();
        });
        assertTrue(ran.await(60, TimeUnit.SECONDS), "the action thread ran nothing");
        assertEquals(Options.ACTION_THREAD_NAME, on[0].getName());
        assertTrue(on[0].isDaemon(), "the action thread keeps the JVM alive");
    }

    @Test
    void systemPropertiesSetTheBarrierAndCheckedModeInAnyCase() {
        System.setProperty(Options.BARRIER_PROPERTY, " Fence ");
        System.setProperty(Options.CHECKED_PROPERTY, "TRUE");
        assertEquals(new Options(Options.Barrier.FENCE, true, null), Options.fromSystemProperties());
    }

    @Test
    void anUnknownPropertyValueIsRefusedWithItsName() {
        System.setProperty(Options.BARRIER_PROPERTY, "sometimes");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Options::fromSystemProperties);
        assertTrue(e.getMessage().contains("reclaim.barrier") && e.getMessage().contains("sometimes"), e.getMessage());
        System.clearProperty(Options.BARRIER_PROPERTY);
        System.setProperty(Options.CHECKED_PROPERTY, "yes");
        e = assertThrows(IllegalArgumentException.class, Options::fromSystemProperties);
        assertTrue(e.getMessage().contains("reclaim.checked"), e.getMessage());
    }

    @Test
    void aNullBarrierIsRefused() {
        assertThrows(NullPointerException.class, () -> new Options(null, false, null));
    }

    @Test
    void aProviderWithoutSettingsRefusesAnyButTheDefaults() {
        ReclaimerProvider plain = new ReclaimerProvider() {
            @Override
            public String name() {
                return "plain";
            }

            @Override
            public Set<String> schemes() {
                return Set.of("ebr");
            }

            @Override
            public Reclaimer create(Scheme scheme) {
                throw new UnsupportedOperationException("not needed: the refusal comes first");
            }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> plain.create(new Scheme.Ebr(), Options.DEFAULT.withChecked(true)));
        assertTrue(e.getMessage().contains("plain"), e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> plain.create(new Scheme.Ebr(), Options.DEFAULT));
    }
}
