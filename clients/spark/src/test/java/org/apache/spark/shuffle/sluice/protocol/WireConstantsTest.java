package org.apache.spark.shuffle.sluice.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.shuffle.sluice.auth.Credential;
import org.junit.jupiter.api.Test;

/**
 * The Java client's wire numbers against docs/wire-constants.tsv, the list the Swift suite's WireConstantsTests checks
 * the servers' definitions against. Every constant here must be in the list with the same number and name; every
 * status in the list must be here (the client must understand every answer). Message types the client never sends
 * (worker messages) may be absent.
 */
public class WireConstantsTest {
    /** The repository root: the first ancestor of the working directory holding Package.swift. */
    public static Path repositoryRoot() {
        String repo = System.getProperty("sluice.repo");
        Path start = repo != null ? Path.of(repo) : Path.of("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("Package.swift"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no Package.swift above " + start);
    }

    /** kind -> number -> name. */
    private static Map<String, Map<Integer, String>> sharedList() throws IOException {
        Map<String, Map<Integer, String>> list = new HashMap<>();
        for (String line : Files.readAllLines(repositoryRoot().resolve("docs/wire-constants.tsv"),
                StandardCharsets.UTF_8)) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] fields = line.split("\t");
            assertEquals(3, fields.length, line);
            int number = fields[1].startsWith("0x") ? Integer.parseInt(fields[1].substring(2), 16)
                    : Integer.parseInt(fields[1]);
            list.computeIfAbsent(fields[0], k -> new TreeMap<>()).put(number, fields[2]);
        }
        return list;
    }

    /** {@code getLocations} -> {@code GET_LOCATIONS}. */
    private static String upperSnake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase();
    }

    /** The {@code public static final int} fields of {@code type} whose names start with {@code prefix}. */
    private static Map<Integer, String> constants(Class<?> type, String prefix) throws IllegalAccessException {
        Map<Integer, String> found = new TreeMap<>();
        for (Field field : type.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (field.getType() == int.class && Modifier.isStatic(modifiers) && Modifier.isPublic(modifiers)
                    && Modifier.isFinal(modifiers) && field.getName().startsWith(prefix)) {
                found.put(field.getInt(null), field.getName().substring(prefix.length()));
            }
        }
        return found;
    }

    private static void assertInList(String kind, Map<Integer, String> javaSide, Map<Integer, String> list) {
        for (Map.Entry<Integer, String> constant : javaSide.entrySet()) {
            String listed = list.get(constant.getKey());
            assertTrue(listed != null, kind + " " + constant.getValue() + " = " + constant.getKey() + " is not in the list");
            assertEquals(upperSnake(listed), constant.getValue(), kind + " " + constant.getKey());
        }
    }

    @Test
    void everyJavaConstantMatchesTheSharedList() throws Exception {
        Map<String, Map<Integer, String>> list = sharedList();
        Map<Integer, String> statuses = constants(StatusCode.class, "");
        assertInList("status", statuses, list.get("status"));
        assertEquals(list.get("status").keySet(), statuses.keySet(), "the client must know every status");
        for (int status : statuses.keySet()) {
            assertEquals(status, StatusCode.decode(status), "decode keeps known status " + status);
        }
        assertInList("message", constants(MessageType.class, ""), list.get("message"));
        assertInList("credential", constants(Credential.class, "KIND_"), list.get("credential"));
        assertInList("role", constants(Hello.class, "ROLE_"), list.get("role"));
    }
}
