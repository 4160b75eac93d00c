package org.apache.spark.shuffle.sluice;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The driver log's text about one shuffle's workers: which one was slowest, by time per byte, on the push or the fetch
 * side, compared with the median of the others (docs/spark.md, "Which worker was slowest"). Pure functions.
 */
final class SlowestWorker {
    private SlowestWorker() {
    }

    /** One worker's time and bytes on one side. */
    record Side(String worker, long nanos, long bytes) {
        /** Nanoseconds per byte; a worker that took time and moved no bytes (failed requests) is the slowest kind. */
        double nanosPerByte() {
            return bytes == 0 ? (nanos == 0 ? 0 : Double.POSITIVE_INFINITY) : (double) nanos / bytes;
        }
    }

    /** The workers that have figures on one side (time or bytes), sorted by name. */
    static List<Side> sides(Map<String, WorkerFigures> byWorker, boolean push) {
        List<Side> sides = new ArrayList<>();
        for (Map.Entry<String, WorkerFigures> entry : new java.util.TreeMap<>(byWorker).entrySet()) {
            WorkerFigures figures = entry.getValue();
            if (figures.nanos(push) != 0 || figures.bytes(push) != 0) {
                sides.add(new Side(entry.getKey(), figures.nanos(push), figures.bytes(push)));
            }
        }
        return sides;
    }

    /**
     * {@code Sluice shuffle 3 push: slowest worker W (1.80 s for 40.0 MiB, 22.2 MiB/s; median of 2 others 0.30 s for
     * 41.0 MiB, 136.7 MiB/s; 6.2x their time per byte)}; null when no worker has figures on that side. The slowest is
     * the one with the most time per byte (ties: more time, then the first name).
     */
    static String summary(int shuffleId, boolean push, Map<String, WorkerFigures> byWorker) {
        List<Side> sides = sides(byWorker, push);
        if (sides.isEmpty()) {
            return null;
        }
        Side slowest = sides.get(0);
        for (Side side : sides) {
            int byRate = Double.compare(side.nanosPerByte(), slowest.nanosPerByte());
            if (byRate > 0 || (byRate == 0 && side.nanos > slowest.nanos)) {
                slowest = side;
            }
        }
        StringBuilder text = new StringBuilder("Sluice shuffle ").append(shuffleId).append(push ? " push" : " fetch")
                .append(": slowest worker ").append(slowest.worker).append(" (").append(figures(slowest));
        List<Side> others = new ArrayList<>(sides);
        others.remove(slowest);
        if (others.isEmpty()) {
            return text.append("; no other worker)").toString();
        }
        double[] nanos = new double[others.size()];
        double[] bytes = new double[others.size()];
        double[] rates = new double[others.size()];
        for (int i = 0; i < others.size(); i++) {
            nanos[i] = others.get(i).nanos;
            bytes[i] = others.get(i).bytes;
            rates[i] = others.get(i).nanosPerByte();
        }
        double medianNanosPerByte = median(rates);
        text.append("; median of ").append(others.size()).append(others.size() == 1 ? " other " : " others ")
                .append(seconds(median(nanos))).append(" for ").append(size(median(bytes))).append(", ")
                .append(rate(medianNanosPerByte));
        if (medianNanosPerByte > 0 && Double.isFinite(slowest.nanosPerByte())) {
            text.append(String.format(Locale.ROOT, "; %.1fx their time per byte",
                    slowest.nanosPerByte() / medianNanosPerByte));
        }
        return text.append(")").toString();
    }

    /** {@code Sluice shuffle 3 push per worker: A 0.30 s for 41.0 MiB, 136.7 MiB/s; B ...}; null without figures. */
    static String table(int shuffleId, boolean push, Map<String, WorkerFigures> byWorker) {
        List<Side> sides = sides(byWorker, push);
        if (sides.isEmpty()) {
            return null;
        }
        StringBuilder text = new StringBuilder("Sluice shuffle ").append(shuffleId).append(push ? " push" : " fetch")
                .append(" per worker: ");
        for (int i = 0; i < sides.size(); i++) {
            text.append(i == 0 ? "" : "; ").append(sides.get(i).worker).append(' ').append(figures(sides.get(i)));
        }
        return text.toString();
    }

    private static String figures(Side side) {
        return seconds(side.nanos) + " for " + size(side.bytes) + ", " + rate(side.nanosPerByte());
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static String seconds(double nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    private static String size(double bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int unit = 0;
        while (bytes >= 1024 && unit < units.length - 1) {
            bytes /= 1024;
            unit++;
        }
        return unit == 0 ? String.format(Locale.ROOT, "%.0f B", bytes)
                : String.format(Locale.ROOT, "%.1f %s", bytes, units[unit]);
    }

    private static String rate(double nanosPerByte) {
        if (nanosPerByte == 0 || !Double.isFinite(nanosPerByte)) {
            return nanosPerByte == 0 ? "no time" : "no bytes";
        }
        return size(1e9 / nanosPerByte) + "/s";
    }
}
