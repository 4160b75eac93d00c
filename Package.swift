// swift-tools-version: 6.0
// Sluice: a remote shuffle service for Apache Spark. Swift 6 language mode (tools 6.0 default).
import PackageDescription

let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "Sluice",
    products: [
        .executable(name: "sluice-master", targets: ["sluice-master"]),
        .executable(name: "sluice-worker", targets: ["sluice-worker"]),
        .executable(name: "sluice-bench", targets: ["sluice-bench"]),
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // C leaves: system libraries found by pkg-config, and a shim for what Glibc's module lacks.
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .target(name: "CSluiceShim"),

        // Pure modules: no I/O.
        .target(name: "SluiceCore"),
        // Every system call, threads, timers, the memory budget, signals and standard streams.
        .target(name: "SluiceSystem", dependencies: ["CSluiceShim", logging]),
        // Typed configuration keys, sources (file, environment, flags), generated docs; the only home of defaults.
        .target(name: "SluiceConfig", dependencies: ["SluiceCore", "SluiceSystem", "SluiceAuth", logging]),
        .target(name: "SluiceCompression", dependencies: ["SluiceCore", "CLZ4", "CZstd", "CSluiceShim"]),

        // The cluster secret, the keys derived from it, handshake proofs and signed HTTP requests (HMAC-SHA256).
        .target(name: "SluiceAuth", dependencies: ["SluiceCore", crypto]),

        // I/O modules.
        .target(name: "SluiceNet", dependencies: ["SluiceCore", "SluiceSystem", "SluiceAuth", "CSluiceShim", logging]),
        // HTTP/1.1 and HTTP/2 (libnghttp2) on Dispatch sources, with one router; for the operations API.
        .target(name: "SluiceHTTP", dependencies: ["SluiceCore", "SluiceSystem", "CNghttp2", "CSluiceShim", logging]),
        // The operations API every server has: health, readiness, Prometheus metrics, version, JSON helpers.
        .target(
            name: "SluiceOperations",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceSystem", "SluiceHTTP", "SluiceAuth", logging, prometheus,
            ]),
        .target(
            name: "SluiceStorage",
            dependencies: ["SluiceCore", "SluiceConfig", "SluiceSystem", "SluiceCompression", "CSluiceShim", logging]),
        .target(
            name: "SluiceMaster",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceSystem", "SluiceNet", "SluiceOperations", "SluiceAuth", logging,
                metrics, prometheus,
            ]),
        .target(
            name: "SluiceWorker",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceSystem", "SluiceNet", "SluiceStorage", "SluiceCompression",
                "SluiceOperations", "SluiceAuth", logging, metrics, prometheus,
            ]),
        .target(
            name: "SluiceClient",
            dependencies: ["SluiceCore", "SluiceSystem", "SluiceNet", "SluiceCompression", "SluiceAuth", logging]),

        // Shared by Tests/ and Benchmarks/ only: cluster launchers (in-process and child processes), temporary
        // directories, raw connections, polling and seeded generators.
        .target(
            name: "SluiceTestKit",
            dependencies: [
                "SluiceClient", "SluiceMaster", "SluiceWorker", "SluiceCore", "SluiceConfig", "SluiceSystem",
                "SluiceAuth", "SluiceCompression",
                logging,
            ]),

        // Executables.
        .executableTarget(
            name: "sluice-master",
            dependencies: ["SluiceMaster", "SluiceCore", "SluiceConfig", "SluiceSystem", logging]),
        .executableTarget(
            name: "sluice-worker",
            dependencies: ["SluiceWorker", "SluiceCore", "SluiceConfig", "SluiceSystem", logging]),
        // The operator's command-line tool: speaks the master's operations API.
        .executableTarget(
            name: "sluice", dependencies: ["SluiceCore", "SluiceSystem", "SluiceNet", "SluiceAuth", argumentParser]),
        .executableTarget(
            name: "sluice-bench",
            dependencies: [
                "SluiceClient", "SluiceMaster", "SluiceWorker", "SluiceNet", "SluiceCore", "SluiceConfig",
                "SluiceSystem", "SluiceStorage",
                "SluiceCompression", "CSluiceShim", "SluiceTestKit", logging, argumentParser,
            ], path: "Benchmarks/sluice-bench"),

        // Tests (swift-testing).
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore"]),
        .testTarget(name: "SluiceAuthTests", dependencies: ["SluiceAuth", "SluiceCore"]),
        .testTarget(name: "SluiceConfigTests", dependencies: ["SluiceConfig"]),
        .testTarget(name: "SluiceSystemTests", dependencies: ["SluiceSystem", "SluiceTestKit", logging]),
        .testTarget(
            name: "SluiceCompressionTests",
            dependencies: ["SluiceCompression", "SluiceCore", "CSluiceShim", "SluiceTestKit"]),
        .testTarget(
            name: "SluiceNetTests", dependencies: ["SluiceNet", "SluiceCore", "SluiceSystem", "SluiceTestKit", logging]),
        .testTarget(name: "SluiceHTTPTests", dependencies: ["SluiceHTTP", "SluiceSystem", "SluiceTestKit", logging]),
        // In-process fuzzing of every decoder (frames, messages, batches, codecs, HTTP/1.1, HTTP/2) for a bounded
        // time; Corpus/ holds checked-in inputs, read from the source tree.
        .testTarget(
            name: "SluiceFuzzTests",
            dependencies: ["SluiceCore", "SluiceCompression", "SluiceHTTP", "SluiceSystem", "SluiceTestKit"],
            exclude: ["Corpus"]),
        .testTarget(
            name: "SluiceStorageTests",
            dependencies: [
                "SluiceStorage", "SluiceCore", "SluiceConfig", "SluiceSystem", "SluiceTestKit", "SluiceCompression",
            ]),
        .testTarget(name: "SluiceMasterTests", dependencies: ["SluiceMaster", "SluiceCore", "SluiceConfig"]),
        .testTarget(
            name: "SluiceWorkerTests", dependencies: ["SluiceWorker", "SluiceCore", "SluiceSystem", "SluiceConfig"]),
        .testTarget(
            name: "SluiceClusterTests",
            dependencies: [
                "SluiceClient", "SluiceMaster", "SluiceWorker", "SluiceNet", "SluiceCore", "SluiceConfig",
                "SluiceSystem", "SluiceStorage",
                "SluiceCompression", "SluiceTestKit", "SluiceAuth", logging,
            ]),
    ]
)
