import CNghttp2
import SluiceSystem

/// One server-side nghttp2 session: frames in through `receive` (nghttp2_session_mem_recv), frames out through
/// `produce` (nghttp2_session_mem_send). Requests are collected per stream from the header and data callbacks and
/// answered when their stream ends. Not thread-safe: its connection calls it on the connection's queue only.
/// nghttp2 gets `self` as user_data unretained; every callback runs inside a `receive` or `produce` call made
/// through `self`, so `self` is alive whenever nghttp2 can call back, and `deinit` deletes the session.
final class HTTP2Session {
    struct Stream {
        var method = ""
        var path = ""
        var headers: [HTTPHeader] = []
        var headerBytes = 0
        var body: [UInt8] = []
        var refusal: HTTPRefusal?
        var startedMs: UInt64
        var answered = false
        var responseBody: [UInt8] = []
        var responseOffset = 0
    }

    let maxConcurrentStreams: Int
    let maxHeaderBytes: Int
    let maxBodyBytes: Int
    let respond: (HTTPRequest) -> HTTPResponse
    var streams: [Int32: Stream] = [:]
    /// The request of an h2c upgrade, answered on stream 1 once the client's first HTTP/2 bytes arrived: only
    /// SETTINGS may follow the 101 before that (curl 7.88 fails when more than 32 KiB follow it in one read).
    private var upgradedRequest: HTTPRequest?
    private var session: OpaquePointer?

    /// Creates the session and submits SETTINGS (max concurrent streams, max header list size); nil when
    /// nghttp2 cannot allocate it.
    init?(
        maxConcurrentStreams: Int, maxHeaderBytes: Int, maxBodyBytes: Int,
        respond: @escaping (HTTPRequest) -> HTTPResponse
    ) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.respond = respond
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { return nil }
        defer { nghttp2_session_callbacks_del(callbacks) }
        HTTP2Session.install(callbacks)
        var created: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        guard nghttp2_session_server_new(&created, callbacks, userData) == 0, let created else { return nil }
        session = created
        var settings = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: UInt32(clamping: maxConcurrentStreams)),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                value: UInt32(clamping: maxHeaderBytes)),
        ]
        guard nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count) == 0 else {
            return nil
        }
    }

    deinit { nghttp2_session_del(session) }

    /// Monotonic ms at which the oldest stream whose request is still arriving began; nil when none is.
    var oldestIncompleteRequestMs: UInt64? {
        streams.values.filter { !$0.answered }.map(\.startedMs).min()
    }

    /// False once nghttp2 wants neither to read nor to write (after GOAWAY both ways, or a fatal error).
    var wantsIO: Bool {
        nghttp2_session_want_read(session) != 0 || nghttp2_session_want_write(session) != 0
    }

    /// Takes over an upgraded HTTP/1.1 request as stream 1 (nghttp2_session_upgrade2); it is answered when the
    /// client's preface arrives.
    func upgrade(settings: [UInt8], request: HTTPRequest) -> Bool {
        let rc = settings.withUnsafeBufferPointer { buffer in
            nghttp2_session_upgrade2(session, buffer.baseAddress, buffer.count, request.method == "HEAD" ? 1 : 0, nil)
        }
        guard rc == 0 else { return false }
        streams[1] = Stream(method: request.method, path: request.path, startedMs: Monotonic.nowMs())
        upgradedRequest = request
        return true
    }

    /// Feeds received bytes to nghttp2. Returns nghttp2's error text when the connection must end.
    func receive(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        let rc = nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if rc < 0 { return HTTP2Session.errorText(rc) }
        if let request = upgradedRequest {
            upgradedRequest = nil
            answer(streamId: 1, request: request)
        }
        return nil
    }

    /// Appends the frames nghttp2 has ready to `output` until it has none or `limitBytes` are pending.
    /// Returns nghttp2's error text when the connection must end.
    func produce(into output: inout [UInt8], limitBytes: Int) -> String? {
        while output.count < limitBytes {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            if count < 0 { return HTTP2Session.errorText(count) }
            guard count > 0, let data else { return nil }
            // The bytes are valid until the next nghttp2 call: copy them now.
            output.append(contentsOf: UnsafeBufferPointer(start: data, count: count))
        }
        return nil
    }

    /// Routes the stream's request (or answers its refusal) and submits the response.
    func answer(streamId: Int32, request: HTTPRequest) {
        guard var stream = streams[streamId], !stream.answered else { return }
        let response = stream.refusal.map { HTTPResponse.text($0.status, $0.reason + "\n") } ?? respond(request)
        stream.answered = true
        stream.body = []
        let headOnly = request.method == "HEAD"
        stream.responseBody = headOnly ? [] : response.body
        streams[streamId] = stream
        if submit(streamId: streamId, response: response, withBody: !stream.responseBody.isEmpty) != 0 {
            nghttp2_submit_rst_stream(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamId,
                NGHTTP2_INTERNAL_ERROR.rawValue)
        }
    }

    /// nghttp2_submit_response with the headers laid out in one buffer (nghttp2 copies them).
    private func submit(streamId: Int32, response: HTTPResponse, withBody: Bool) -> Int32 {
        let dropped: Set<String> = [
            "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
            "content-length",
        ]
        var fields = [(":status", "\(response.status)")]
        for header in response.headers where !dropped.contains(header.name.lowercased()) {
            fields.append((header.name.lowercased(), header.value))
        }
        fields.append(("content-length", "\(response.body.count)"))
        var bytes: [UInt8] = []
        var spans: [(name: Range<Int>, value: Range<Int>)] = []
        for (name, value) in fields {
            let nameStart = bytes.count
            bytes.append(contentsOf: name.utf8)
            let valueStart = bytes.count
            bytes.append(contentsOf: value.utf8)
            spans.append((nameStart..<valueStart, valueStart..<bytes.count))
        }
        var provider = nghttp2_data_provider(
            source: nghttp2_data_source(ptr: nil),
            read_callback: HTTP2Session.readBody)
        return bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            var fields = spans.map { span in
                nghttp2_nv(
                    name: base + span.name.lowerBound, value: base + span.value.lowerBound,
                    namelen: span.name.count, valuelen: span.value.count, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return withBody
                ? nghttp2_submit_response(session, streamId, &fields, fields.count, &provider)
                : nghttp2_submit_response(session, streamId, &fields, fields.count, nil)
        }
    }

    static func errorText(_ code: Int) -> String {
        guard let text = nghttp2_strerror(Int32(clamping: code)) else { return "nghttp2 error \(code)" }
        return String(cString: text)
    }
}
