import SluiceCore
import Synchronization

/// The one registry of partition files a store holds, sharded so appends to different files rarely meet on a
/// lock. Writes and reads both find their file here.
final class FileTable: Sendable {
    /// One lock and the files behind it.
    private final class Shard: Sendable {
        let files = Mutex<[PartitionFileKey: PartitionFile]>([:])
    }

    private let shards: [Shard]

    init(shardCount: Int) {
        shards = (0..<max(shardCount, 1)).map { _ in Shard() }
    }

    private func shard(for key: PartitionFileKey) -> Shard {
        shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
    }

    /// The key's file, if held.
    func file(_ key: PartitionFileKey) -> PartitionFile? {
        shard(for: key).files.withLock { $0[key] }
    }

    /// The key's file, created by `create` under the shard's lock when missing.
    func file(
        _ key: PartitionFileKey,
        orCreate create: () throws(StorageError) -> PartitionFile
    ) throws(StorageError) -> PartitionFile {
        try shard(for: key).files.withLock { files throws(StorageError) -> PartitionFile in
            if let file = files[key] { return file }
            let file = try create()
            files[key] = file
            return file
        }
    }

    /// Registers a file unless the key is held; returns whether it was.
    func adopt(_ file: PartitionFile) -> Bool {
        shard(for: file.key).files.withLock { files in
            guard files[file.key] == nil else { return false }
            files[file.key] = file
            return true
        }
    }

    /// Removes and returns every file whose key matches.
    func remove(where predicate: (PartitionFileKey) -> Bool) -> [PartitionFile] {
        var removed: [PartitionFile] = []
        for shard in shards {
            shard.files.withLock { files in
                for (key, file) in files where predicate(key) {
                    removed.append(file)
                    files[key] = nil
                }
            }
        }
        return removed
    }

    /// Every held file.
    func all() -> [PartitionFile] {
        shards.flatMap { shard in shard.files.withLock { Array($0.values) } }
    }
}
