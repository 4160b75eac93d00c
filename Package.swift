// swift-tools-version: 6.0
// Sluice: a remote shuffle service for Apache Spark. Swift 6 language mode (tools 6.0 default).
import PackageDescription

let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "Sluice",
    products: [
        .executable(name: "sluice-master", targets: ["sluice-master"]),
        .executable(name: "sluice-worker", targets: ["sluice-worker"]),
        .executable(name: "sluice-bench", targets: ["sluice-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C leaves: system libraries found by pkg-config, and a shim for what Glibc's module lacks.
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .target(name: "CSluiceShim"),

        // Pure modules: no I/O.
        .target(name: "SluiceCore"),
        .target(name: "SluiceCompression", dependencies: ["SluiceCore", "CLZ4", "CZstd", "CSluiceShim"]),

        // I/O modules.
        .target(name: "SluiceNet", dependencies: ["SluiceCore", "CSluiceShim", logging]),
        .target(name: "SluiceStorage", dependencies: ["SluiceCore", "SluiceCompression", "CSluiceShim", logging]),
        .target(name: "SluiceMaster", dependencies: ["SluiceCore", "SluiceNet", logging, metrics]),
        .target(name: "SluiceWorker",
                dependencies: ["SluiceCore", "SluiceNet", "SluiceStorage", "SluiceCompression", logging, metrics]),
        .target(name: "SluiceClient", dependencies: ["SluiceCore", "SluiceNet", "SluiceCompression", logging]),
        // Process-level helpers of the server executables: signals, standard streams, logging set-up.
        .target(name: "SluiceProcess", dependencies: ["SluiceCore", logging]),

        // Shared by Tests/ and Benchmarks/ only: cluster launchers (in-process and child processes), temporary
        // directories, raw connections, polling and seeded generators.
        .target(name: "SluiceTestKit", dependencies: [
            "SluiceClient", "SluiceMaster", "SluiceWorker", "SluiceCore", logging,
        ]),

        // Executables.
        .executableTarget(name: "sluice-master", dependencies: ["SluiceMaster", "SluiceCore", "SluiceProcess", logging]),
        .executableTarget(name: "sluice-worker", dependencies: ["SluiceWorker", "SluiceCore", "SluiceProcess", logging]),
        .executableTarget(name: "sluice-bench", dependencies: [
            "SluiceClient", "SluiceMaster", "SluiceWorker", "SluiceNet", "SluiceCore", "SluiceCompression",
            "CSluiceShim", "SluiceTestKit", logging, argumentParser,
        ], path: "Benchmarks/sluice-bench"),

        // Tests (swift-testing).
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore"]),
        .testTarget(name: "SluiceCompressionTests",
                    dependencies: ["SluiceCompression", "SluiceCore", "CSluiceShim", "SluiceTestKit"]),
        .testTarget(name: "SluiceNetTests", dependencies: ["SluiceNet", "SluiceCore", "SluiceTestKit", logging]),
        .testTarget(name: "SluiceStorageTests",
                    dependencies: ["SluiceStorage", "SluiceCore", "SluiceCompression", "SluiceTestKit"]),
        .testTarget(name: "SluiceMasterTests", dependencies: ["SluiceMaster", "SluiceCore"]),
        .testTarget(name: "SluiceWorkerTests", dependencies: ["SluiceWorker", "SluiceCore"]),
        .testTarget(name: "SluiceClusterTests", dependencies: [
            "SluiceClient", "SluiceMaster", "SluiceWorker", "SluiceNet", "SluiceCore", "SluiceCompression",
            "SluiceTestKit", logging,
        ]),
    ]
)
