package org.apache.spark.shuffle.sluice.client;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the Swift sluice-master and sluice-worker executables on loopback (127.0.0.1 or ::1) for interop tests. */
final class SwiftCluster implements AutoCloseable {
    final Path binDir;
    /** The address every server listens on and the workers advertise: an IPv4 or IPv6 literal, no brackets. */
    final String host;
    final Path scratch;
    final List<Process> processes = new ArrayList<>();
    final List<Process> workers = new ArrayList<>();
    final List<Integer> workerPorts = new ArrayList<>();
    /** Environment variables every server starts with (e.g. SLUICE_CLUSTER_SECRET). */
    final java.util.Map<String, String> environment = new java.util.HashMap<>();
    int masterPort;

    SwiftCluster(Path binDir) throws IOException {
        this(binDir, "127.0.0.1");
    }

    /** A cluster on {@code host} ("::1" for IPv6 loopback). */
    SwiftCluster(Path binDir, String host) throws IOException {
        this.binDir = binDir;
        this.host = host;
        this.scratch = Files.createTempDirectory("sluice-java-interop");
    }

    /** {@code <repo>/.build/debug}, from -Dsluice.repo or the working directory's ancestors. */
    static Path defaultBinDir() {
        String repo = System.getProperty("sluice.repo");
        Path start = repo != null ? Path.of(repo) : Path.of("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("Package.swift"))) {
                return dir.resolve(".build/debug");
            }
        }
        return start.resolve(".build/debug");
    }

    static boolean available(Path binDir) {
        return Files.isExecutable(binDir.resolve("sluice-master")) && Files.isExecutable(binDir.resolve("sluice-worker"));
    }

    /** Starts the master; {@code extraArgs} are further flags (e.g. a short heartbeat interval). */
    void startMaster(String... extraArgs) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--host", host, "--port", "0", "--http-port", "0"));
        args.addAll(List.of(extraArgs));
        masterPort = start("sluice-master", "master", args, null);
    }

    /** The master's address as the servers take it: {@code HOST:PORT}, an IPv6 host in brackets. */
    String masterAddress() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + masterPort;
    }

    /**
     * Starts worker {@code index} and returns its data port. It listens on {@code host} and so advertises it: its
     * worker id is {@code HOST:PORT} ({@code [::1]:PORT} on IPv6).
     */
    int startWorker(int index) throws IOException, InterruptedException {
        Path storage = Files.createDirectories(scratch.resolve("worker" + index));
        int port = start("sluice-worker", "worker" + index, List.of("--host", host, "--port", "0", "--http-port", "0",
                "--storage-dir", storage.toString(), "--master", masterAddress()), workers);
        workerPorts.add(port);
        return port;
    }

    /** The index of the worker listening on {@code port}, or -1. */
    int workerIndexOfPort(int port) {
        return workerPorts.indexOf(port);
    }

    /** Starts an executable and returns the port from its "listening on HOST:PORT" line. */
    private int start(String executable, String name, List<String> args, List<Process> group)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(binDir.resolve(executable).toString());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        builder.redirectError(scratch.resolve(name + ".log").toFile());
        Process process = builder.start();
        processes.add(process);
        if (group != null) {
            group.add(process);
        }
        BlockingQueue<String> lines = new ArrayBlockingQueue<>(64);
        Thread drain = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    lines.offer(line);
                }
            } catch (IOException e) {
                lines.offer("stdout closed: " + e.getMessage());
            }
        }, name + "-stdout");
        drain.setDaemon(true);
        drain.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(200, TimeUnit.MILLISECONDS);
            if (line != null && line.contains("listening on ")) {
                String endpoint = line.substring(line.indexOf("listening on ") + "listening on ".length()).trim();
                return Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
            }
            if (!process.isAlive()) {
                throw new IOException(executable + " exited with " + process.exitValue() + "; see "
                        + scratch.resolve(name + ".log"));
            }
        }
        throw new IOException(executable + " did not announce its port within 30 s");
    }

    /** Registers throw-away shuffles through {@code client} until the master places partitions on two workers. */
    static void awaitTwoWorkers(SluiceClient client) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        IOException last = null;
        for (int probe = 1000; System.currentTimeMillis() < deadline; probe++) {
            try {
                LocationTable probeTable = client.master().registerShuffle("probe", probe, 1, 4, true);
                Set<String> named = new HashSet<>();
                for (PartitionLocation location : probeTable.locations()) {
                    named.add(location.primary.workerId);
                    if (location.replica != null) {
                        named.add(location.replica.workerId);
                    }
                }
                if (named.size() == 2) {
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the master never placed partitions on two workers", last);
    }

    /** Kills a worker at once (no drain). */
    void killWorker(int index) throws InterruptedException {
        Process worker = workers.get(index);
        worker.destroyForcibly();
        worker.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws IOException {
        for (Process process : processes) {
            process.destroyForcibly();
        }
        for (Process process : processes) {
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        try (Stream<Path> paths = Files.walk(scratch)) {
            paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
