import Logging
import SluiceCore
import SluiceNet

/// Forwards a primary's replicated entries to their replica worker and merges the replica's answer into the
/// push's completion: an entry counts as stored only when the replica stored it too.
struct Replicator {
    let clients: FrameClientPool
    let metrics: WorkerMetrics
    let logger: Logger

    /// Sends `push`'s entries at `indexes` (without their replica field) to `replica` as a replica push.
    func forward(
        _ push: PushRequest, _ indexes: [Int], to replica: WorkerAddress, endpoint: String,
        completion: PushCompletion
    ) {
        let entries = indexes.map { index in
            var entry = push.entries[index]
            entry.replica = nil
            return entry
        }
        let forwarded = PushRequest(shuffle: push.shuffle, role: .replica, entries: entries)
        let total = push.entries.count
        let failures = metrics.replicationFailures
        let fail: @Sendable (StatusCode) -> Void = { status in
            failures.increment()
            completion.merge(Self.statuses(indexes, status, total: total))
        }
        let client: FrameClient
        do {
            client = try clients.client(host: replica.host, port: Int(replica.port))
        } catch {
            logger.warning("replica unreachable", metadata: ["replica": "\(replica)", "error": "\(error)"])
            fail(.replicationFailed)
            return
        }
        let pool = clients
        let metrics = self.metrics
        client.send(type: forwarded.frameType, bodyParts: forwarded.encodedParts()) { result in
            switch result {
            case .success(let frame):
                guard let reply = try? PushResponse.decode(body: frame.body) else {
                    fail(.replicationFailed)
                    return
                }
                var merged = [StatusCode](repeating: .ok, count: total)
                for (position, status) in reply.statuses(count: indexes.count).enumerated() {
                    // A replica that refused for lack of room asks the client to split, like a full primary.
                    merged[indexes[position]] =
                        status.isStored ? status : (status == .hardSplit ? .hardSplit : .replicationFailed)
                }
                metrics.replicatedBatches.increment(by: indexes.count)
                completion.merge(merged)
            case .failure:
                pool.remove(endpoint: endpoint)
                fail(.replicationFailed)
            }
        }
    }

    private static func statuses(_ indexes: [Int], _ status: StatusCode, total: Int) -> [StatusCode] {
        var result = [StatusCode](repeating: .ok, count: total)
        for index in indexes { result[index] = status }
        return result
    }
}
