import Foundation
import Testing

@testable import SluiceConfig

/// The committed generated files must match what the registry generates now.
@Suite struct ConfigDocsTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func configurationMarkdownIsUpToDate() throws {
        try expectCommitted("docs/configuration.md", equals: ConfigRegistry.markdownDocumentation())
    }

    @Test(arguments: ConfigRole.allCases)
    func sampleConfigFilesAreUpToDate(role: ConfigRole) throws {
        try expectCommitted("config/\(role).conf", equals: ConfigDocumentation.sampleConfigFile(for: role))
    }

    @Test(arguments: ConfigRole.allCases)
    func sampleConfigFileLoadsAndUncommentedGivesDefaults(role: ConfigRole) throws {
        let sample = ConfigDocumentation.sampleConfigFile(for: role)
        let defaults = try ConfigLoader.load(role: role, fileText: nil, environment: [:], overrides: [:])
        _ = try ConfigLoader.load(role: role, fileText: sample, environment: [:], overrides: [:])
        let settings = ConfigRegistry.keys(for: role).map { "# \($0.name) =" }
        let uncommented = sample.split(separator: "\n").map { line in
            settings.contains(where: { line.hasPrefix($0) }) ? String(line.dropFirst(2)) : String(line)
        }.joined(separator: "\n")
        let explicit = try ConfigLoader.load(role: role, fileText: uncommented, environment: [:], overrides: [:])
        for key in ConfigRegistry.keys(for: role) {
            #expect(explicit.entry(key)?.value == defaults.entry(key)?.value, "\(key)")
            if case .file = explicit.source(of: key) {} else { Issue.record("\(key) not set by the sample") }
        }
    }

    @Test func registryNamesAreUniqueAndDefaultsValid() throws {
        let all = ConfigRegistry.all
        #expect(Set(all.map(\.name)).count == all.count)
        #expect(Set(all.map(\.environmentVariable)).count == all.count)
        for role in ConfigRole.allCases {
            let flags = ConfigRegistry.keys(for: role).map(\.flagName)
            #expect(Set(flags).count == flags.count)
            #expect(!flags.contains("--config") && !flags.contains("--help"))
        }
        for key in all {
            #expect(!key.doc.isEmpty && !key.doc.contains("\n"), "\(key)")
            _ = try key.parse(key.defaultText, source: .defaultValue)
        }
        #expect(ConfigRegistry.keys(for: .worker).contains(SharedKeys.logLevel.spec))
        #expect(!ConfigRegistry.keys(for: .master).contains(WorkerKeys.port.spec))
    }

    private func expectCommitted(_ relativePath: String, equals generated: String) throws {
        let url = Self.repositoryRoot.appendingPathComponent(relativePath)
        let committed = try? String(contentsOf: url, encoding: .utf8)
        #expect(
            committed == generated,
            "\(relativePath) is out of date with the config registry: run `make docs-config` and commit it")
    }
}
