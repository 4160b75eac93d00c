package org.apache.spark.shuffle.sluice;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import org.apache.spark.shuffle.BlockingShuffleManager;
import org.apache.spark.shuffle.ShuffleManager;
import org.junit.jupiter.api.Test;

/**
 * The manager's check of where {@code BlockingShuffleManager} came from (docs/spark.md, "One jar for every Spark 4.x
 * minor"): it must pass when the jar's copy is the only one or the one Spark itself uses, and fail with an explanation
 * when the copy was loaded beside a different one Spark sees (child-first user class loading).
 */
class InterfaceLoaderCheckTest {
    private static final String BLOCKING = "org.apache.spark.shuffle.BlockingShuffleManager";

    /** Loads BlockingShuffleManager from its own URLs before asking its parent, as Spark's ChildFirstURLClassLoader. */
    private static final class ChildFirstLoader extends URLClassLoader {
        ChildFirstLoader(URL[] urls, ClassLoader parent) {
            super(urls, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                if (name.equals(BLOCKING)) {
                    Class<?> loaded = findLoadedClass(name);
                    return loaded != null ? loaded : findClass(name);
                }
                return super.loadClass(name, resolve);
            }
        }
    }

    private static URL clientJar() {
        return SluiceShuffleManager.class.getProtectionDomain().getCodeSource().getLocation();
    }

    private static URL sparkCoreJar() {
        return ShuffleManager.class.getProtectionDomain().getCodeSource().getLocation();
    }

    @Test
    void passesWhenSparkAndTheManagerShareTheInterface() {
        assertDoesNotThrow(() -> SluiceShuffleManager.checkInterfaceLoader(BlockingShuffleManager.class,
                ShuffleManager.class));
    }

    @Test
    void failsWithAnExplanationWhenTheJarsCopyWasLoadedBesideSparks() throws Exception {
        try (ChildFirstLoader user = new ChildFirstLoader(new URL[] {clientJar()}, getClass().getClassLoader())) {
            Class<?> copy = Class.forName(BLOCKING, false, user);
            assertNotSame(BlockingShuffleManager.class, copy);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> SluiceShuffleManager.checkInterfaceLoader(copy, ShuffleManager.class));
            assertTrue(e.getMessage().contains("userClassPathFirst"), e.getMessage());
        }
    }

    @Test
    void passesWhenSparkHasNoSuchInterface() throws Exception {
        // Spark 3.5 to 4.2 with the jar in spark.jars: Spark's loader has no BlockingShuffleManager at all.
        try (URLClassLoader spark = new URLClassLoader(new URL[] {sparkCoreJar()}, ClassLoader.getPlatformClassLoader());
             ChildFirstLoader user = new ChildFirstLoader(new URL[] {clientJar()}, spark)) {
            Class<?> sparkShuffleManager = Class.forName(ShuffleManager.class.getName(), false, spark);
            Class<?> copy = Class.forName(BLOCKING, false, user);
            assertDoesNotThrow(() -> SluiceShuffleManager.checkInterfaceLoader(copy, sparkShuffleManager));
        }
    }
}
