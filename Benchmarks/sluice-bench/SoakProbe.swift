import Foundation
import Glibc
import SluiceTestKit

/// One reading of one server process from /proc (Linux) and, for a worker, of its storage directory.
struct SoakReading: Codable, Sendable {
    /// Seconds since the soak started.
    var atSeconds: Double
    /// Seconds since this process (this incarnation of the worker) started.
    var ageSeconds: Double
    /// VmRSS.
    var rssBytes: Int
    /// Entries of /proc/PID/fd.
    var fds: Int
    /// Of `fds`, those open on files under the worker's storage directory that still exist (live partition
    /// files): they follow the shuffles in flight, not a leak.
    var storageFds: Int
    /// Of `fds`, those open on deleted files (a file that was unlinked but never closed: a leak).
    var deletedFds: Int
    /// Regular files under the storage directory, outside the recycled-file pool (partition files); nil for
    /// the master.
    var partitionFiles: Int?
    /// Files in the recycled-file pool (`.recycle`, bounded by the worker); nil for the master.
    var recycledFiles: Int?
    /// Threads of the process.
    var threads: Int?
    /// A worker's memory budget in use (`sluice_worker_memory_used_bytes`), read when idle only: what is still
    /// charged once every shuffle is gone.
    var budgetUsedBytes: Int?

    /// The fds a leak would show in: every fd but those on live partition files.
    var judgedFds: Int { fds - storageFds }
}

/// Reads `SoakReading`s.
enum SoakProbe {
    /// Reads process `pid`; nil when it is gone (killed) or /proc cannot be read.
    static func read(
        pid: Int32, storageDirectory: String?, atSeconds: Double, ageSeconds: Double
    ) -> SoakReading? {
        guard let rss = rssBytes(pid: pid) else { return nil }
        let fdDirectory = "/proc/\(pid)/fd"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else { return nil }
        var storageFds = 0
        var deletedFds = 0
        for entry in entries {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fdDirectory + "/" + entry)
            else { continue }
            if target.hasSuffix(" (deleted)") {
                deletedFds += 1
            } else if let storageDirectory, target.hasPrefix(storageDirectory + "/") {
                storageFds += 1
            }
        }
        var reading = SoakReading(
            atSeconds: atSeconds, ageSeconds: ageSeconds, rssBytes: rss, fds: entries.count, storageFds: storageFds,
            deletedFds: deletedFds)
        reading.threads = statusField("Threads:", pid: pid)
        if let storageDirectory {
            let files = storageFiles(storageDirectory)
            reading.partitionFiles = files.partition
            reading.recycledFiles = files.recycled
        }
        return reading
    }

    /// `path` with symbolic links, `.` and `..` resolved (as /proc/PID/fd shows paths), or `path` itself.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// VmRSS of `pid` in bytes, or nil.
    static func rssBytes(pid: Int32) -> Int? { statusField("VmRSS:", pid: pid).map { $0 * 1024 } }

    /// The number after `name` in /proc/PID/status (kB for sizes), or nil.
    static func statusField(_ name: String, pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let number = line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return number.flatMap { Int($0) }
        }
        return nil
    }

    /// `sluice_worker_memory_used_bytes` from the operations API of the worker whose standard output is
    /// `outputPath` (it announces the port there), or nil.
    static func budgetUsedBytes(workerOutput outputPath: String) -> Int? {
        let prefix = "sluice-worker operations API on "
        guard let text = try? String(contentsOfFile: outputPath, encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
            let colon = line.lastIndex(of: ":"), let port = Int(line[line.index(after: colon)...]),
            let metrics = try? curl(["-s", "--max-time", "5"], port: port, path: "/metrics")
        else { return nil }
        let name = "sluice_worker_memory_used_bytes "
        return metrics.text.split(separator: "\n").first(where: { $0.hasPrefix(name) })
            .flatMap { Double($0.dropFirst(name.count)) }.map { Int($0) }
    }

    /// Files under `root`: partition files, and those in the recycled-file pool (`root/.recycle`).
    static func storageFiles(_ root: String) -> (partition: Int, recycled: Int) {
        var partition = 0
        var recycled = 0
        var pending = [(directory: root, inPool: false)]
        while let (directory, inPool) = pending.popLast() {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                let path = directory + "/" + name
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    pending.append((path, inPool || (directory == root && name == ".recycle")))
                } else if inPool {
                    recycled += 1
                } else {
                    partition += 1
                }
            }
        }
        return (partition, recycled)
    }
}
