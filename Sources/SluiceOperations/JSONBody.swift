import FoundationEssentials
import SluiceHTTP

/// JSON answers of the operations API: sorted keys, so output is stable for scripts and tests.
public enum JSONBody {
    /// `value` as a 200 `application/json` answer; a 500 with the reason when it cannot be encoded.
    public static func response<Value: Encodable>(_ value: Value, status: Int = 200) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let data = try encoder.encode(value)
            return HTTPResponse(
                status: status, headers: [HTTPHeader("content-type", "application/json")],
                body: [UInt8](data) + [0x0A])
        } catch {
            return .text(500, "cannot encode the answer: \(error)\n")
        }
    }
}
