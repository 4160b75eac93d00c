import Foundation
import Logging
import Testing

@testable import SluiceSystem

/// Log lines: JSON objects that parse, with every field and metadata; text with millisecond UTC timestamps.
@Suite struct LineLogHandlerTests {
    @Test func jsonLinesParseAndCarryEveryField() throws {
        let line = LineLogHandler.line(
            timestamp: "2026-12-06T20:50:00.123Z", level: .warning, label: "sluice.worker", source: "SluiceWorker",
            message: "replica \"unreachable\"\n", metadata: ["peer.address": "10.0.0.1:9098", "error": "a\tb\u{1}"],
            format: .json)
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1, "one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["ts"] == "2026-12-06T20:50:00.123Z" && object["level"] == "warning")
        #expect(object["logger"] == "sluice.worker" && object["source"] == "SluiceWorker")
        #expect(object["msg"] == "replica \"unreachable\"\n")
        #expect(object["peer.address"] == "10.0.0.1:9098" && object["error"] == "a\tb\u{1}")
    }

    @Test func textLinesAreSortedAndTimestampsHaveMilliseconds() {
        let line = LineLogHandler.line(
            timestamp: "T", level: .info, label: "sluice.master", source: "SluiceMaster", message: "master listening",
            metadata: ["port": "9097", "host": "0.0.0.0"], format: .text)
        #expect(line == "T info sluice.master: host=0.0.0.0 port=9097 [SluiceMaster] master listening\n")
        let stamp = LineLogHandler.timestamp()
        #expect(stamp.count == "2026-12-06T20:50:00.123Z".count && stamp.hasSuffix("Z"))
        #expect(stamp.split(separator: ".").last?.count == 4, "three digits of milliseconds, then Z: \(stamp)")
    }
}
