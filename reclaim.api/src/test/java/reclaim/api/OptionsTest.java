package reclaim.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
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
        System.clearProperty(Options.CLOSE_WAIT_PROPERTY);
    }

    @Test
    void theDefaultsAreAutoUncheckedAndInline() {
        assertSame(Options.Barrier.AUTO, Options.DEFAULT.barrier());
        assertFalse(Options.DEFAULT.checked());
        assertNull(Options.DEFAULT.actionExecutor());
        assertEquals(Duration.ofSeconds(1), Options.DEFAULT.closeWait());
        assertEquals(Options.DEFAULT, Options.fromSystemProperties());
    }

    @Test
    void eachWitherChangesOneSettingOnly() {
        Executor direct = Runnable::run;
        Options o = Options.DEFAULT.withBarrier(Options.Barrier.FENCE).withChecked(true).withActionExecutor(direct);
        assertEquals(new Options(Options.Barrier.FENCE, true, direct), o);
        assertEquals(new Options(Options.Barrier.FENCE, false, direct), o.withChecked(false));
        Options waiting = o.withCloseWait(Duration.ofMillis(250));
        assertEquals(new Options(Options.Barrier.FENCE, true, direct, Duration.ofMillis(250)), waiting);
        assertEquals(o, waiting.withCloseWait(Options.DEFAULT_CLOSE_WAIT), "the three-setting constructor's close wait");
        assertEquals(Duration.ofMillis(250), waiting.withBarrier(Options.Barrier.AUTO).withChecked(false)
                .withActionExecutor(null).withActionThread().closeWait(), "another wither changed the close wait");
    }

    @Test
    void aCloseWaitThatIsNullOrNegativeIsRefused() {
        NullPointerException n = assertThrows(NullPointerException.class, () -> Options.DEFAULT.withCloseWait(null));
        assertTrue(n.getMessage().contains("closeWait"), n.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Options.DEFAULT.withCloseWait(Duration.ofNanos(-1)));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new Options(Options.Barrier.AUTO, false, null, Duration.ofSeconds(-1)));
        assertThrows(NullPointerException.class, () -> new Options(Options.Barrier.AUTO, false, null, null));
        assertEquals(Duration.ZERO, Options.DEFAULT.withCloseWait(Duration.ZERO).closeWait());
    }

    @Test
    void theCloseWaitPropertyTakesMillisecondsSecondsOrIso8601() {
        String[][] cases = {{"250ms", "PT0.25S"}, {" 2s ", "PT2S"}, {"0ms", "PT0S"}, {"PT1M", "PT1M"}, {"pt0.5s", "PT0.5S"},
            {"0000000000000000250ms", "PT0.25S"}, {"+PT1S", "PT1S"}, {"10000000000000000s", "PT2777777777777H46M40S"},
            {"10000000000000000000ms", "PT2777777777777H46M40S"}, {"9223372036854775807999ms", "PT2562047788015215H30M7.999S"},
            {"99999999999999999999999s", Duration.ofSeconds(Long.MAX_VALUE, 999_999_999).toString()},
            {"99999999999999999999999999ms", Duration.ofSeconds(Long.MAX_VALUE, 999_999_999).toString()}};
        for (String[] c : cases) {
            System.setProperty(Options.CLOSE_WAIT_PROPERTY, c[0]);
            assertEquals(Duration.parse(c[1]), Options.fromSystemProperties().closeWait(), c[0]);
        }
        for (String bad : new String[] {"250", "-1s", "1.5s", "soon", "PT-1S", "250 ms", "1h"}) {
            System.setProperty(Options.CLOSE_WAIT_PROPERTY, bad);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Options::fromSystemProperties, bad);
            assertTrue(e.getMessage().contains(Options.CLOSE_WAIT_PROPERTY) && e.getMessage().contains(bad),
                    e.getMessage());
        }
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
