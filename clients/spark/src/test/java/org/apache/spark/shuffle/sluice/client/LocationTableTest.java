package org.apache.spark.shuffle.sluice.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** LocationTable's protocol encoding (workers once, 0xFFFF for none) and Java serialization. */
class LocationTableTest {
    private final WorkerAddress w1 = new WorkerAddress("w1", "h", 80);
    private final WorkerAddress w2 = new WorkerAddress("w2", "h", 81);

    @Test
    void encodesLikeTheSwiftTable() throws IOException {
        LocationTable table = new LocationTable(List.of(new PartitionLocation(0, 0, w1, w2),
                new PartitionLocation(1, 3, w2, null)));
        String expected = "00000002" + "00027731" + "000168" + "0050" + "00027732" + "000168" + "0051"
                + "00000002" + "00000000" + "00000000" + "0000" + "0001" + "00000001" + "00000003" + "0001" + "ffff";
        assertEquals(expected, HexFormat.of().formatHex(table.encode()));
        assertEquals(table, LocationTable.decode(table.encode()));
        assertNull(LocationTable.decode(table.encode()).locations().get(1).replica);
    }

    @Test
    void rejectsBadTables() {
        HexFormat hex = HexFormat.of();
        // Entry refers to worker index 1 of 1.
        assertThrows(IOException.class, () -> LocationTable.decode(hex.parseHex(
                "00000001" + "00027731" + "000168" + "0050" + "00000001" + "00000000" + "00000000" + "0001" + "ffff")));
        // Neither primary nor replica.
        assertThrows(IOException.class, () -> LocationTable.decode(hex.parseHex(
                "00000000" + "00000001" + "00000000" + "00000000" + "ffff" + "ffff")));
        // Count larger than the body.
        assertThrows(IOException.class, () -> LocationTable.decode(hex.parseHex("7fffffff")));
        // Trailing bytes.
        assertThrows(IOException.class, () -> LocationTable.decode(hex.parseHex("00000000" + "00000000" + "00")));
    }

    @Test
    void serializes() throws Exception {
        LocationTable table = new LocationTable(List.of(new PartitionLocation(4, 1, null, w1)));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(table);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(table, in.readObject());
        }
    }
}
