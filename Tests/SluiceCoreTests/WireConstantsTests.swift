import Foundation
import SluiceCore
import Testing

/// The wire protocol's numbers against docs/wire-constants.tsv, the list the Java client's WireConstantsTest reads
/// too: a status, message type, credential kind or role added, renamed or renumbered on one side fails here or there.
@Suite struct WireConstantsTests {
    static let listPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/wire-constants.tsv").path

    /// `kind -> [number: name]` from the shared list.
    static func sharedList() throws -> [String: [Int: String]] {
        let text = try String(contentsOfFile: listPath, encoding: .utf8)
        var list: [String: [Int: String]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 3 else { throw WireListError(line: String(line)) }
            let number =
                fields[1].hasPrefix("0x") ? Int(fields[1].dropFirst(2), radix: 16) : Int(fields[1])
            guard let number, list[fields[0], default: [:]][number] == nil else {
                throw WireListError(line: String(line))
            }
            list[fields[0], default: [:]][number] = fields[2]
        }
        return list
    }

    struct WireListError: Error { var line: String }

    /// "soft-split" -> "softSplit" (status descriptions are kebab-case case names).
    static func camelCase(_ kebab: String) -> String {
        let parts = kebab.split(separator: "-")
        return parts.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.capitalized }.joined()
    }

    @Test func everySwiftDefinitionMatchesTheSharedList() throws {
        let list = try Self.sharedList()
        let statuses = Dictionary(
            uniqueKeysWithValues: StatusCode.allCases.map { (Int($0.rawValue), Self.camelCase("\($0)")) })
        let messages = Dictionary(uniqueKeysWithValues: MessageType.allCases.map { (Int($0.rawValue), "\($0)") })
        let credentials = Dictionary(uniqueKeysWithValues: CredentialKind.allCases.map { (Int($0.rawValue), "\($0)") })
        let roles = Dictionary(uniqueKeysWithValues: PeerRole.allCases.map { (Int($0.rawValue), "\($0)") })
        #expect(list["status"] == statuses)
        #expect(list["message"] == messages)
        #expect(list["credential"] == credentials)
        #expect(list["role"] == roles)
        #expect(Set(list.keys) == ["status", "message", "credential", "role"])
    }
}
