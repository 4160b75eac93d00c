import Dispatch
import SluiceCompression
import SluiceCore
import SluiceNet
import SluiceStorage
import SluiceSystem

/// Handles one push: verifies every batch's checksum, forwards entries that name a replica to that worker,
/// appends locally, and answers once both copies have answered. An entry is acknowledged (`ok`/`softSplit`)
/// only when this worker stored it and, for a replicated entry, the replica stored it too.
struct PushHandler {
    let worker: WorkerServer

    func handle(request: Frame, on connection: ServerConnection) throws {
        let push = try PushRequest.decode(body: request.body[...])
        let count = push.entries.count
        guard request.type != MessageType.pushBatch.rawValue || count == 1 else {
            throw ProtocolError(.malformed, "pushBatch carries exactly one entry, got \(count)")
        }
        let access = WorkerAccess(logger: worker.logger)
        guard access.permits(request, on: connection, shuffles: [push.shuffle], replicating: push.role == .replica)
        else {
            worker.metrics.refusedBatches.increment(by: count)
            return
        }
        if let refusal = refusal(of: push, from: connection) {
            worker.metrics.refusedBatches.increment(by: count)
            connection.respond(
                to: request,
                body: PushResponse(
                    head: ResponseHead(refusal, "push refused"),
                    entryStatuses: Array(repeating: refusal, count: count)
                ).encoded())
            return
        }
        var statuses = [StatusCode](repeating: .ok, count: count)
        let selfId = worker.address?.workerId
        var namesSelf = 0
        for (index, entry) in push.entries.enumerated() {
            if push.role == .primary, let replica = entry.replica, replica.workerId == selfId {
                // Acknowledging would leave one copy: the client routed this batch with a stale location.
                statuses[index] = .invalidArgument
                namesSelf += 1
                continue
            }
            do {
                try BatchCodec.verify(entry.batch)
            } catch {
                statuses[index] = .corrupt
                worker.metrics.corruptBatches.increment()
            }
        }
        if namesSelf > 0 {
            worker.metrics.refusedBatches.increment(by: namesSelf)
            worker.logger.warning(
                "push names this worker as its own replica",
                metadata: [
                    "application.id": "\(push.shuffle.applicationId)", "shuffle.id": "\(push.shuffle.shuffleId)",
                    "entries.refused": "\(namesSelf)",
                    "peer.address": "\(connection.peerAddress)",
                ])
        }
        // Group replicated entries by replica endpoint: one forwarded push per replica worker.
        var groups: [String: (address: WorkerAddress, indexes: [Int])] = [:]
        if push.role == .primary {
            for (index, entry) in push.entries.enumerated() where statuses[index] == .ok {
                guard let replica = entry.replica else { continue }
                groups[replica.endpoint, default: (replica, [])].indexes.append(index)
            }
        }
        let startedNs = Monotonic.nowNs()
        let pushDuration = worker.metrics.pushDuration
        let testDelayMs = worker.config.testPushDelayMs
        let completion = PushCompletion(statuses: statuses, parts: groups.count + 1) { final in
            let worst = final.max { severity($0) < severity($1) } ?? .ok
            let body = PushResponse(head: ResponseHead(worst, ""), entryStatuses: final).encoded()
            guard testDelayMs > 0 else {
                pushDuration.recordNanoseconds(Int64(clamping: Monotonic.nowNs() &- startedNs))
                connection.respond(to: request, body: body)
                return
            }
            // worker.testPushDelay (tests only): answer later without holding the thread that completed the push.
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(testDelayMs)) {
                pushDuration.recordNanoseconds(Int64(clamping: Monotonic.nowNs() &- startedNs))
                connection.respond(to: request, body: body)
            }
        }
        let replicator = Replicator(clients: worker.replicaClients, metrics: worker.metrics, logger: worker.logger)
        for (endpoint, group) in groups {
            replicator.forward(push, group.indexes, to: group.address, endpoint: endpoint, completion: completion)
        }
        appendLocally(push, statuses: statuses, completion: completion)
    }

    /// Why the whole push is refused, if it is: the worker is draining, or the shuffle was deleted (logged once
    /// per shuffle, so a writer that keeps pushing does not flood the log).
    private func refusal(of push: PushRequest, from connection: ServerConnection) -> StatusCode? {
        guard let refusal = worker.state.withLock({ $0.refusePush(to: push.shuffle) }) else { return nil }
        if refusal == .deleted(firstRefusal: true) {
            worker.logger.warning(
                "push to a deleted shuffle refused",
                metadata: [
                    "application.id": "\(push.shuffle.applicationId)", "shuffle.id": "\(push.shuffle.shuffleId)",
                    "peer.address": "\(connection.peerAddress)",
                ])
        }
        return refusal.status
    }

    private func appendLocally(_ push: PushRequest, statuses: [StatusCode], completion: PushCompletion) {
        var local = statuses
        var storedBytes = 0
        for (index, entry) in push.entries.enumerated() where local[index] == .ok {
            do {
                let key = try PartitionFileKey(
                    applicationId: push.shuffle.applicationId,
                    shuffleId: push.shuffle.shuffleId, partitionId: entry.partitionId,
                    epoch: entry.epoch, role: push.role)
                switch try worker.store.append(key, batch: entry.batch) {
                case .stored: local[index] = .ok
                case .storedSoftSplit: local[index] = .softSplit
                case .refusedHardSplit: local[index] = .hardSplit
                }
                storedBytes += entry.batch.encodedByteCount
            } catch {
                local[index] = error.status
                worker.logger.error(
                    "append failed",
                    metadata: [
                        "application.id": "\(push.shuffle.applicationId)",
                        "shuffle.id": "\(push.shuffle.shuffleId)",
                        "partition.id": "\(entry.partitionId)",
                        "error": "\(error)",
                    ])
            }
        }
        worker.metrics.pushedBatches.increment(by: push.entries.count)
        worker.metrics.pushedBytes.increment(by: storedBytes)
        completion.merge(local)
    }
}
