package reclaim.impl.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A virtual thread is no root: parked inside a guard with nothing but a finalizer referring to it (and the JDK not
 * tracking virtual threads), it may lose every weak reference while it lives. The core keeps a virtual holder
 * strongly ({@link ThreadRef}), so no sweep takes its participant and nothing it protected is reclaimed before it
 * resumes and closes its guard.
 */
class ParkedVirtualReaderTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qsbr", "ebr", "hp", "hyaline", "crystalline"})
    void aParkedVirtualReaderThatOnlyAFinalizerReachesKeepsWhatItProtected(String scheme) throws Exception {
        TelemetryChildTest.Child c = TelemetryChildTest.child("-Djdk.trackAllThreads=false",
                ParkedVirtualReaderChild.class.getName(), scheme);
        assertEquals(0, c.exit(), c.toString());
        assertTrue(c.out().contains("freedWhileParked=false"), "reclaimed under a parked reader's open guard: " + c);
        assertTrue(c.out().contains("reader=intact"), "the reader resumed on a reclaimed node: " + c);
    }
}
