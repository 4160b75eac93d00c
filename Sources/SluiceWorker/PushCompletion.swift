import SluiceCore
import Synchronization

/// How bad an entry status is when merging the local and the replica answer: stored < soft split < refused.
func severity(_ status: StatusCode) -> Int {
    switch status {
    case .ok: 0
    case .softSplit: 1
    default: 2 + Int(status.rawValue)
    }
}

/// Collects the local and replica answers for one push and replies once all parts are in.
final class PushCompletion: Sendable {
    private struct State {
        var statuses: [StatusCode]
        var remainingParts: Int
    }

    private let state: Mutex<State>
    private let reply: @Sendable ([StatusCode]) -> Void

    init(statuses: [StatusCode], parts: Int, reply: @escaping @Sendable ([StatusCode]) -> Void) {
        precondition(parts >= 1)
        state = Mutex(State(statuses: statuses, remainingParts: parts))
        self.reply = reply
    }

    /// Merges one part's statuses (the worse of the two per entry wins) and replies after the last part.
    func merge(_ statuses: [StatusCode]) {
        let final = state.withLock { s -> [StatusCode]? in
            for index in s.statuses.indices
            where index < statuses.count && severity(statuses[index]) > severity(s.statuses[index]) {
                s.statuses[index] = statuses[index]
            }
            s.remainingParts -= 1
            return s.remainingParts == 0 ? s.statuses : nil
        }
        if let final { reply(final) }
    }
}
