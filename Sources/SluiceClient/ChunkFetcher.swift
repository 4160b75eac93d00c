import SluiceCore
import SluiceNet
import SluiceSystem
import Synchronization

/// Fetches the chunks of one open stream with up to `windowChunks` requests in flight, handing them over in
/// order. Responses are held until their turn; the window bounds the memory held to `windowChunks` chunks.
final class ChunkFetcher: Sendable {
    /// A response and the frame body its data is a slice of (handed back to the connection once consumed).
    private struct Arrived {
        var response: FetchChunkResponse
        var body: [UInt8]
    }

    private struct State {
        var results: [UInt32: Result<Arrived, any Error>] = [:]
    }

    private let client: FrameClient
    private let streamId: UInt64
    private let chunkCount: UInt32
    private let windowChunks: UInt32
    private let timeoutMs: Int
    private let state = Mutex(State())
    private let arrived = ConditionVariable()

    init(client: FrameClient, streamId: UInt64, chunkCount: UInt32, windowChunks: Int, timeoutMs: Int) {
        self.client = client
        self.streamId = streamId
        self.chunkCount = chunkCount
        self.windowChunks = UInt32(max(windowChunks, 1))
        self.timeoutMs = timeoutMs
    }

    private func request(_ chunkIndex: UInt32) {
        let body = FetchChunkRequest(streamId: streamId, chunkIndex: chunkIndex).encoded()
        client.send(type: .fetchChunk, body: body, timeoutMs: timeoutMs) { [self] result in
            let decoded = result.flatMap { frame in
                Result { Arrived(response: try FetchChunkResponse.decode(body: frame.body), body: frame.body) }
            }
            state.withLock { $0.results[chunkIndex] = decoded }
            arrived.broadcast()
        }
    }

    /// Calls `body` with each chunk's data in order. Throws the first failure (a status other than ok included).
    func forEachChunk(_ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var nextToRequest: UInt32 = 0
        for index in 0..<chunkCount {
            while nextToRequest < chunkCount && nextToRequest < index + windowChunks {
                request(nextToRequest)
                nextToRequest += 1
            }
            // The request time-out bounds this wait: every request completes, with a result or an error.
            arrived.wait(until: { self.state.withLock { $0.results[index] != nil } }, timeoutMs: -1)
            guard let result = state.withLock({ $0.results.removeValue(forKey: index) }) else { continue }
            var arrived = try result.get()
            _ = consume result
            let head = arrived.response.head
            guard head.status == .ok else { throw ClientError(head.status, head.message) }
            try body(arrived.response.data)
            // No slice of the body is left here: the reader may read a later chunk into it.
            arrived.response = FetchChunkResponse()
            client.recycle(&arrived.body)
        }
    }
}
