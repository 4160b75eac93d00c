import ArgumentParser
import Foundation
import SluiceCompression
import SluiceConfig
import SluiceCore
import SluiceStorage
import SluiceSystem
import SluiceTestKit

/// `sluice-bench recovery`: how long a worker's start-up recovery takes with many partition files in an `ebs`
/// directory, from the directory's manifest and by scanning every file. Not run by `make test`.
struct RecoveryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Time start-up recovery of many small partition files: from the manifest, and by a full scan.",
        discussion: """
            Writes --files partition files of --batches small batches each into ebs directories of \
            --files-per-directory files (each file written out, so its directory's manifest records it), then opens \
            each directory again and times recover() with the manifest, then removes the manifests and times \
            recover() scanning every file. Both runs find the files in the page cache. See docs/storage.md.
            """)

    @Option(help: "Partition files to create.")
    var files = 100_000

    @Option(
        help: """
            Files per ebs directory. A worker holds a descriptor per file, so one directory's files must fit under \
            the open-file limit; the directories are recovered one after another.
            """)
    var filesPerDirectory = 10_000

    @Option(help: "Batches per file.")
    var batches = 2

    @Option(help: "Payload bytes per batch.")
    var payloadBytes = 200

    func run() throws {
        let temp = try TempDirectory(prefix: "sluice-recovery-")
        defer { temp.remove() }
        let perDirectory = max(1, min(filesPerDirectory, files))
        let directories = (0..<((files + perDirectory - 1) / perDirectory)).map { temp.file("ebs\($0)") }
        let writeStart = Monotonic.nowMs()
        for (index, directory) in directories.enumerated() {
            let count = min(perDirectory, files - index * perDirectory)
            try write(count, into: directory)
        }
        print(
            "wrote \(files) files of \(batches) batches in \(directories.count) directories in "
                + "\(Monotonic.nowMs() - writeStart) ms")
        let manifest = try timeRecovery(directories)
        print(
            "recover() with the manifest: \(manifest.ms) ms (\(manifest.fromManifest) files from the manifest, "
                + "\(manifest.scanned) scanned)")
        for directory in directories { try PosixSystem().unlink(path: directory + "/.sluice-manifest") }
        let scan = try timeRecovery(directories, deleteAfter: true)
        print(
            "recover() scanning every file: \(scan.ms) ms (\(scan.fromManifest) files from the manifest, "
                + "\(scan.scanned) scanned)")
    }

    private func open(_ directory: String) throws -> DirectoryPartitionStore {
        let tier = StorageTierConfig(
            kind: .ebs, directories: [directory], capacityBytes: 1 << 40, fileSystemShare: 1,
            highWatermarkFraction: 1, lowWatermarkFraction: 0.5)
        return try DirectoryPartitionStore(
            tiers: [tier], config: StoreConfig(recycledFilesMax: 0), memoryBudget: MemoryBudget(capacityBytes: 1 << 30),
            logger: quietLogger)
    }

    /// Writes `count` files into a new store in `directory`, each written out (so its manifest records it).
    private func write(_ count: Int, into directory: String) throws {
        let payload = [UInt8](repeating: 0x5A, count: payloadBytes)
        let crc = CRC32C.checksum(payload)
        let store = try open(directory)
        for file in 0..<count {
            let key = try PartitionFileKey(
                applicationId: "app-recovery", shuffleId: UInt32(file / 1_000), partitionId: UInt32(file % 1_000),
                epoch: 0, role: .primary)
            for sequence in 0..<batches {
                let header = BatchHeader(
                    mapIndex: UInt32(sequence), attemptId: 1, sequence: UInt32(sequence), flags: [], codec: .none,
                    rawLength: UInt32(payloadBytes), storedLength: UInt32(payloadBytes), crc32c: crc)
                _ = try store.append(key, batch: Batch(header: header, payload: payload[...]))
            }
            try store.flush(key)
        }
        try store.close()
    }

    /// Recovers each directory in a new store (closed before the next): the total time and what was found.
    /// With `deleteAfter` the files are deleted through the store (FileManager takes minutes for 100,000 files).
    private func timeRecovery(_ directories: [String], deleteAfter: Bool = false) throws -> (
        ms: UInt64, fromManifest: Int, scanned: Int
    ) {
        var total: (ms: UInt64, fromManifest: Int, scanned: Int) = (0, 0, 0)
        for directory in directories {
            let store = try open(directory)
            let start = Monotonic.nowMs()
            let report = try store.recover()
            total.ms += Monotonic.nowMs() - start
            total.fromManifest += report.fromManifest
            total.scanned += report.scannedFromStart
            if deleteAfter { try store.deleteApplication(applicationId: "app-recovery") }
            try store.close()
        }
        return total
    }
}
