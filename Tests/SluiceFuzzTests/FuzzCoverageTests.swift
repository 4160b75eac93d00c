import Foundation
import SluiceCore
import Testing

/// Keeps the fuzz targets in step with the sources: every message type, every decoder function, every corpus
/// directory.
@Suite struct FuzzCoverageTests {
    static let targetNames = Set(FuzzTarget.all.map(\.name))
    static let covered = Set(FuzzTarget.all.flatMap { [$0.name] + $0.covers })

    @Test func targetNamesAreUnique() {
        #expect(Self.targetNames.count == FuzzTarget.all.count)
    }

    @Test(arguments: MessageType.allCases)
    func everyMessageTypeHasItsDecodersFuzzed(type: MessageType) {
        let decoders = MessageTargets.decoderTargets(of: type)
        for name in [decoders.request, decoders.response, "ErrorResponse"].compactMap({ $0 }) {
            #expect(Self.targetNames.contains(name), "\(type): no fuzz target \(name)")
        }
    }

    /// Every `decode`, `decompress`, `splitBatches`, `verify`, `parse...` and `receive` function in the modules
    /// that read untrusted bytes is driven by a target (which names its type, or type and function, in `covers`).
    @Test func everyDecoderFunctionInTheSourcesIsCovered() throws {
        let decoders = try ["SluiceCore", "SluiceCompression", "SluiceHTTP"].flatMap {
            try Self.decoderFunctions(in: $0)
        }
        #expect(decoders.count > 20, "the source scan found only \(decoders)")
        let missing = decoders.filter { decoder in
            let typeName = String(decoder.prefix { $0 != "." })
            return !Self.covered.contains(decoder) && !Self.covered.contains(typeName)
        }
        #expect(missing.isEmpty, "decoders without a fuzz target: \(missing)")
    }

    @Test func everyCorpusDirectoryNamesATarget() throws {
        let directories = try FuzzCorpus.targetDirectories()
        #expect(!directories.isEmpty)
        for directory in directories {
            #expect(Self.targetNames.contains(directory), "Corpus/\(directory) is no fuzz target")
        }
    }

    static let sourcesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")

    /// "Type.function" for each decoding function declared in a module's sources, by the top-level type (or
    /// extension) it is declared in.
    static func decoderFunctions(in module: String) throws -> [String] {
        let root = sourcesDirectory.appendingPathComponent(module)
        guard let files = FileManager.default.enumerator(atPath: root.path) else { return [] }
        let typePattern = try Regex(#"^(?:(?:public|final|internal)\s+)*(?:struct|enum|class|extension)\s+(\w+)"#)
        let functionPattern = try Regex(#"\bfunc\s+(decode|decompress|splitBatches|verify|parse\w*|receive)\s*\("#)
        var found: [String] = []
        for case let file as String in files where file.hasSuffix(".swift") {
            var typeName = ""
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                if let match = line.firstMatch(of: typePattern), let name = match.output[1].substring {
                    typeName = String(name)
                }
                if let match = line.firstMatch(of: functionPattern), let function = match.output[1].substring {
                    found.append("\(typeName).\(function)")
                }
            }
        }
        return Array(Set(found)).sorted()
    }
}
