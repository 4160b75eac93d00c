import Foundation
import SluiceSystem
import SluiceTestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a worker's storage holds on disk, and what it says it holds, for tests that compare the two.
enum StorageFiles {
    /// The bytes of the partition files (`.data`) under `directory`, recursively, the recycled-file pool left out.
    static func dataFileBytes(under directory: String) -> Int {
        guard let entries = try? PosixSystem().listDirectory(path: directory) else { return 0 }
        return entries.reduce(0) { total, entry in
            let path = directory + "/" + entry.name
            if entry.isDirectory { return entry.name == ".recycle" ? total : total + dataFileBytes(under: path) }
            var status = stat()
            return total + (entry.name.hasSuffix(".data") && stat(path, &status) == 0 ? Int(status.st_size) : 0)
        }
    }

    /// The bytes a worker counts as appended to its files, buffered or not: the sum of `usedBytes` over the
    /// directories its operations API (`GET /api/v1/worker` on `httpPort`) lists.
    static func appendedBytes(httpPort: Int) throws -> Int {
        let view = try OperationsAPITests.json(try curl([], port: httpPort, path: "/api/v1/worker"))
        let directories = try #require((view as? [String: Any])?["directories"] as? [[String: Any]])
        return directories.reduce(0) { $0 + ($1["usedBytes"] as? Int ?? 0) }
    }
}
