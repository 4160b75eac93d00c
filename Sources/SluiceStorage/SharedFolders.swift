import SluiceConfig
import SluiceCore

extension DirectoryPartitionStore {
    /// The longest folder name made of a worker id.
    static let folderNameMaxBytes = 200

    /// A worker id made safe as one file name: bytes other than `A-Z a-z 0-9 . _ -` become `_`, "." and ".."
    /// become "_." and "_..", and it is cut to 200 bytes.
    public static func folderName(_ workerId: String) -> String {
        var name = String(
            decoding: workerId.utf8.prefix(folderNameMaxBytes).map { byte -> UInt8 in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    byte
                default: UInt8(ascii: "_")
                }
            }, as: UTF8.self)
        if name.isEmpty || name == "." || name == ".." { name = "_" + name }
        return name
    }

    /// Where a tier's directory keeps this worker's files: its own folder inside an `fsx` directory, else the
    /// directory itself.
    static func volumePath(_ directory: String, kind: StorageTierConfig.Kind, folder: String?) -> String {
        guard kind == .fsx, let folder else { return directory }
        var base = directory
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        return base + "/" + folder
    }

    /// This worker's folders in shared (`fsx`) directories, to report to the master (so it can ask another worker
    /// to adopt them when this one is lost for good). Empty without a folder of its own.
    public func sharedFolders() -> [SharedFolder] {
        guard let ownFolder else { return [] }
        return volumes.filter { $0.kind == .fsx }.compactMap { volume in
            guard volume.path.hasSuffix("/" + ownFolder) else { return nil }
            return SharedFolder(directory: String(volume.path.dropLast(ownFolder.count + 1)), folder: ownFolder)
        }
    }

    /// Adopts a lost worker's folder on a shared file system: recovers its files from its manifest (scanning only
    /// what the manifest does not vouch for) and holds them read-only (appends answer a hard split; the folder gets
    /// no new files), so this store serves them and deletes them with their shuffle. Adopting a folder again returns
    /// what it holds. Files whose key this store already holds are left alone.
    /// - Returns: the adopted files.
    /// - Throws: `StorageError` when the folder is one of this store's own or cannot be opened.
    public func adoptSharedFolder(_ shared: SharedFolder) throws(StorageError) -> [HeldPartitionFile] {
        let path = Self.volumePath(shared.directory, kind: .fsx, folder: Self.folderName(shared.folder))
        guard !volumes.contains(where: { $0.path == path }) else {
            throw StorageError(.invalidKey, message: "cannot adopt this worker's own folder", path: path)
        }
        let existing = adoptedVolumes.withLock { volumes in volumes.first { $0.path == path } }
        if let existing {
            return files.all().filter { $0.volume === existing }
                .map { HeldPartitionFile(key: $0.key, fileBytes: $0.fileBytes, isFailed: $0.failure != nil) }
        }
        // A capacity of one byte: the folder takes no batch, so appends to adopted files answer a hard split.
        let readOnly = StorageTierConfig(
            kind: .fsx, directories: [path], capacityBytes: 1, fileSystemShare: 1, highWatermarkFraction: 1,
            lowWatermarkFraction: 0.5)
        let volume = try Volume(
            path: path, tierIndex: volumes.count, tier: readOnly, recycledFilesMax: 0,
            stallTimeoutMs: config.stallTimeoutMs, fileSystem: fileSystem, logger: logger,
            syncManifest: config.fsyncOnFlush)
        adoptedVolumes.withLock { $0.append(volume) }
        var report = RecoveryReport()
        try recover(volume, into: &report)
        logger.info(
            "adopted a lost worker's shared folder",
            metadata: [
                "path": "\(path)", "files": "\(report.recovered.count)", "from.manifest": "\(report.fromManifest)",
                "scanned": "\(report.scannedFromStart)",
            ])
        return report.recovered
    }
}
