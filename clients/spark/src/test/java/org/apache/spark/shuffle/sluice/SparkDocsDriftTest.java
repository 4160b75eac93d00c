package org.apache.spark.shuffle.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.shuffle.sluice.protocol.WireConstantsTest;
import org.junit.jupiter.api.Test;

/**
 * docs/spark.md's settings table against {@link SluiceConf}: every {@code spark.sluice.*} key the client reads is in
 * the table with its default, and the table names no key the client does not read.
 */
class SparkDocsDriftTest {
    private static final Pattern ROW = Pattern.compile("^\\| `(spark\\.sluice\\.[^`]+)` \\| ([^|]+) \\|", Pattern.MULTILINE);

    @Test
    void theSettingsTableListsEveryKeyWithItsDefault() throws Exception {
        String docs = Files.readString(WireConstantsTest.repositoryRoot().resolve("docs/spark.md"),
                StandardCharsets.UTF_8);
        Map<String, String> documented = new TreeMap<>();
        Matcher row = ROW.matcher(docs);
        while (row.find()) {
            documented.put(row.group(1), row.group(2).trim());
        }
        Map<String, String> read = new TreeMap<>();
        for (Field field : SluiceConf.class.getDeclaredFields()) {
            if (!Modifier.isStatic(field.getModifiers()) || field.getType() != String.class) {
                continue;
            }
            String value = (String) field.get(null);
            if (!value.startsWith("spark.sluice.")) {
                continue;
            }
            String defaultText = null;
            try {
                Object fallback = SluiceConf.class.getField(field.getName() + "_DEFAULT").get(null);
                defaultText = "`" + fallback + "`";
            } catch (NoSuchFieldException e) {
                defaultText = documented.get(value); // no default constant: required or unset, as the table says
            }
            read.put(value, defaultText);
        }
        assertEquals(read.keySet(), documented.keySet(), "keys the client reads vs keys docs/spark.md lists");
        assertEquals(read, documented, "defaults in docs/spark.md");
    }
}
