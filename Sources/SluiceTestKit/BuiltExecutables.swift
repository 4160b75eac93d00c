import Foundation

/// Where `swift build` put the server executables (`sluice-master`, `sluice-worker`).
public enum BuiltExecutables {
    /// The names that must be executable in a directory for it to count.
    public static let serverNames = ["sluice-master", "sluice-worker"]

    /// The directory of this process's executable (the benchmark's, or the test runner's).
    public static var besideMainExecutable: URL {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        return executable.resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// The first of `candidates` that holds every server executable, or nil.
    public static func directory(among candidates: [URL]) -> URL? {
        candidates.first { directory in
            serverNames.allSatisfy {
                FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent($0).path)
            }
        }
    }

    /// For tests: next to the test bundle, or under the package's `.build/debug`; nil when not built.
    public static let directory: URL? = {
        var candidates = [besideMainExecutable]
        let argument0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var bundleDirectory = argument0.deletingLastPathComponent()
        // Inside an `.xctest` bundle directory (Darwin), step out of it.
        while bundleDirectory.pathComponents.count > 1,
            bundleDirectory.pathComponents.contains(where: { $0.hasSuffix(".xctest") })
        {
            bundleDirectory.deleteLastPathComponent()
        }
        candidates.append(bundleDirectory)
        // This file is Sources/SluiceTestKit/BuiltExecutables.swift: three levels below the package root.
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        return directory(among: candidates)
    }()
}
