import Logging
import SluiceSystem

extension DirectoryPartitionStore {
    /// Before recovery adopts files: deletes copies a crash left half-moved (`<file>.moving`), and when a crash
    /// between a move's rename and its unlink left a file in two directories of different tiers, keeps the one in
    /// the later tier (the move's destination, complete and fsynced before its rename; appends after the move went
    /// only there) and deletes the other.
    func cleanUpInterruptedMoves() {
        var copies: [String: [(volume: Volume, path: String)]] = [:]
        for volume in volumes {
            for (relativePath, name) in filesUnder(volume) {
                let path = volume.path + "/" + relativePath
                if name.hasSuffix(Self.movingSuffix) {
                    try? fileSystem.unlink(path: path)
                    logger.info("deleted the copy of an interrupted demotion", metadata: ["path": "\(path)"])
                } else if name.hasSuffix(".data") {
                    copies[relativePath, default: []].append((volume, path))
                }
            }
        }
        for (_, found) in copies where found.count > 1 {
            guard let latestTier = found.map(\.volume.tierIndex).max(),
                found.filter({ $0.volume.tierIndex == latestTier }).count == 1
            else { continue }
            for copy in found where copy.volume.tierIndex != latestTier {
                try? fileSystem.unlink(path: copy.path)
                logger.warning(
                    "deleted the old copy of a file whose demotion was interrupted", metadata: ["path": "\(copy.path)"])
            }
        }
    }

    /// Every file at `<application>/<shuffle>/<file>` under the directory: its path relative to it, and its name.
    private func filesUnder(_ volume: Volume) -> [(relativePath: String, name: String)] {
        func entries(_ path: String) -> [DirectoryEntry] { (try? fileSystem.listDirectory(path: path)) ?? [] }
        var found: [(relativePath: String, name: String)] = []
        for application in entries(volume.path)
        where application.isDirectory && application.name != FileRecycler.directoryName {
            for shuffle in entries(volume.path + "/" + application.name) where shuffle.isDirectory {
                let shufflePath = application.name + "/" + shuffle.name
                for file in entries(volume.path + "/" + shufflePath) where !file.isDirectory {
                    found.append((shufflePath + "/" + file.name, file.name))
                }
            }
        }
        return found
    }
}
