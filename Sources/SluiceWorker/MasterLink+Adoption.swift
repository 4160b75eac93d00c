import SluiceCore
import SluiceNet
import SluiceStorage

extension MasterLink {
    /// Carries out the master's adoption orders: adopts each lost worker's shared folder (its files, from its
    /// manifest, held read-only) and reports the adopted files in pages on `client`, the last page completing the
    /// order. A folder that cannot be adopted is logged and left: the master asks again on the next heartbeat.
    func adopt(_ orders: [AdoptionOrder], client: FrameClient) throws {
        for order in orders {
            let adopted: [HeldPartitionFile]
            do {
                adopted = try worker.store.adoptSharedFolder(order.folder)
            } catch {
                worker.logger.error(
                    "cannot adopt a lost worker's shared folder",
                    metadata: [
                        "worker.id": "\(order.lostWorkerId)", "path": "\(order.folder.path)", "error": "\(error)",
                    ])
                continue
            }
            let held = adopted.map(\.reported)
            let pageSize = max(worker.config.registrationPageSize, 1)
            let pageStarts = Array(stride(from: 0, to: max(held.count, 1), by: pageSize))
            for (index, start) in pageStarts.enumerated() {
                let page = AdoptPartitionsRequest(
                    workerId: address.workerId, lostWorkerId: order.lostWorkerId, folderPath: order.folder.path,
                    last: index == pageStarts.count - 1, held: Array(held[start..<min(start + pageSize, held.count)]))
                let reply = try StatusResponse.decode(
                    body: try client.call(type: .adoptPartitions, body: page.encoded()).body)
                try reply.head.requireOK()
            }
            worker.logger.warning(
                "adopted a lost worker's shared folder",
                metadata: [
                    "worker.id": "\(order.lostWorkerId)", "path": "\(order.folder.path)", "files": "\(held.count)",
                ])
        }
    }
}

extension HeldPartitionFile {
    /// The file as the master hears of it.
    var reported: HeldPartition {
        HeldPartition(
            shuffle: key.shuffle, partitionId: key.partitionId, epoch: key.epoch, role: key.role,
            bytes: UInt64(fileBytes))
    }
}
