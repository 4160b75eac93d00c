import Foundation

/// The checked-in corpus: `Corpus/<target name>/<entry>.bin`, raw input bytes read from the source tree. Entries
/// are edge cases and regressions; they need not decode, only pass their target's checks.
enum FuzzCorpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    /// The entries of one target, by file name; none when it has no directory.
    static func entries(of target: String) throws -> [(name: String, bytes: [UInt8])] {
        let targetDirectory = directory.appendingPathComponent(target)
        guard FileManager.default.fileExists(atPath: targetDirectory.path) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: targetDirectory.path)
            .filter { $0.hasSuffix(".bin") }.sorted()
        return try names.map { name in
            (name, Array(try Data(contentsOf: targetDirectory.appendingPathComponent(name))))
        }
    }

    /// The names of the target directories present.
    static func targetDirectories() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
    }
}
