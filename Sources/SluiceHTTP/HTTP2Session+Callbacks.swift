import CNghttp2
import SluiceSystem

/// nghttp2's callbacks: C function pointers that find their session through `user_data`.
extension HTTP2Session {
    private static func from(_ userData: UnsafeMutableRawPointer?) -> HTTP2Session? {
        userData.map { Unmanaged<HTTP2Session>.fromOpaque($0).takeUnretainedValue() }
    }

    private static let callbackFailure = NGHTTP2_ERR_CALLBACK_FAILURE.rawValue

    static func install(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame, let session = HTTP2Session.from(userData) else { return HTTP2Session.callbackFailure }
            guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
                frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
            else { return 0 }
            let streamId = frame.pointee.hd.stream_id
            // nghttp2 refuses streams beyond our SETTINGS once acknowledged; this bounds the map before that.
            guard session.streams.count < max(session.maxConcurrentStreams, 1) * 2 else {
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
            }
            session.streams[streamId] = Stream(startedMs: Monotonic.nowMs())
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame, let name, let value, let session = HTTP2Session.from(userData) else {
                return HTTP2Session.callbackFailure
            }
            let streamId = frame.pointee.hd.stream_id
            guard var stream = session.streams[streamId] else { return 0 }
            stream.headerBytes += nameLength + valueLength + 32
            if stream.headerBytes > session.maxHeaderBytes {
                stream.refusal = stream.refusal ?? HTTPRefusal(status: 431, reason: "header list too large")
                stream.headers = []
            } else if stream.refusal == nil {
                let fieldName = String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self)
                let fieldValue = String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self)
                switch fieldName {
                case ":method": stream.method = fieldValue
                case ":path": stream.path = fieldValue
                case ":authority": stream.headers.append(HTTPHeader("host", fieldValue))
                case ":scheme": break
                default: stream.headers.append(HTTPHeader(fieldName, fieldValue))
                }
            }
            session.streams[streamId] = stream
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamId, data, length, userData in
            guard let session = HTTP2Session.from(userData) else { return HTTP2Session.callbackFailure }
            // Mutated in place: a copy of the stream would copy its body at every chunk.
            guard session.streams[streamId]?.answered == false else { return 0 }
            let held = session.streams[streamId]?.body.count ?? 0
            if held + length > session.maxBodyBytes {
                if session.streams[streamId]?.refusal == nil {
                    session.streams[streamId]?.refusal = HTTPRefusal(status: 413, reason: "body too large")
                }
                session.streams[streamId]?.body = []
            } else if session.streams[streamId]?.refusal == nil, let data {
                session.streams[streamId]?.body.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame, let session = HTTP2Session.from(userData) else { return HTTP2Session.callbackFailure }
            let type = frame.pointee.hd.type
            guard type == UInt8(NGHTTP2_HEADERS.rawValue) || type == UInt8(NGHTTP2_DATA.rawValue),
                frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            else { return 0 }
            session.requestEnded(streamId: frame.pointee.hd.stream_id)
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamId, _, userData in
            guard let session = HTTP2Session.from(userData) else { return HTTP2Session.callbackFailure }
            session.streams[streamId] = nil
            return 0
        }
    }

    /// The client ended its side of the stream: the request is complete.
    private func requestEnded(streamId: Int32) {
        guard let stream = streams[streamId], !stream.answered else { return }
        let parts = stream.path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let request = HTTPRequest(
            method: stream.method, path: parts.first.map(String.init) ?? "",
            query: parts.count > 1 ? String(parts[1]) : "", headers: stream.headers,
            body: stream.body, version: "2")
        answer(streamId: streamId, request: request)
    }

    /// The data provider's read callback: copies the next part of a stream's response body.
    static let readBody: nghttp2_data_source_read_callback = { _, streamId, buffer, length, flags, _, userData in
        guard let buffer, let flags, let session = HTTP2Session.from(userData),
            var stream = session.streams[streamId]
        else { return Int(HTTP2Session.callbackFailure) }
        let count = min(length, stream.responseBody.count - stream.responseOffset)
        stream.responseBody.withUnsafeBufferPointer { body in
            guard let base = body.baseAddress, count > 0 else { return }
            buffer.update(from: base + stream.responseOffset, count: count)
        }
        stream.responseOffset += count
        if stream.responseOffset == stream.responseBody.count {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            stream.responseBody = []
        }
        session.streams[streamId] = stream
        return count
    }
}
