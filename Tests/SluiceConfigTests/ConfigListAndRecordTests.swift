import Testing

@testable import SluiceConfig

/// List and record values: the shapes a tier list needs (`kind=nvme dirs=/a,/b; kind=ebs dirs=/data`).
@Suite struct ConfigListAndRecordTests {
    static let dirs = ConfigKey<[String]>(
        "test.dirs", .list(.string(allowEmpty: false), maxCount: 3), default: "/tmp",
        scope: .worker, doc: "Test directories.")
    static let tierFields: [ConfigRecordField] = [
        ConfigRecordField("kind", .choice(["nvme", "ebs", "fsx"]), doc: "Tier kind."),
        ConfigRecordField("dirs", .list(.string(allowEmpty: false), maxCount: 8), doc: "Directories."),
        ConfigRecordField("highWatermark", .double(min: 0, max: 1), default: "0.9", doc: "Fill fraction."),
    ]
    static let tiers = ConfigKey<[ConfigRecord]>(
        "test.tiers", .list(.record(tierFields), maxCount: 4), default: "",
        scope: .worker, doc: "Test tiers.")

    func parse<Value>(_ key: ConfigKey<Value>, _ text: String) throws(ConfigError) -> Value? {
        Value.read(try key.spec.parse(text, source: .flag("--test")))
    }

    func error<Value>(_ key: ConfigKey<Value>, _ text: String) -> ConfigError? {
        do {
            _ = try parse(key, text)
            return nil
        } catch {
            return error
        }
    }

    @Test func listsSplitOnCommasAndAreBounded() throws {
        #expect(try parse(Self.dirs, "/a, /b ,/c") == ["/a", "/b", "/c"])
        #expect(try parse(Self.dirs, "") == [])
        #expect(Self.dirs.defaultValue == ["/tmp"])
        #expect(error(Self.dirs, "/a,/b,/c,/d")?.kind == .outOfRange)
        #expect(error(Self.dirs, "/a,,/b")?.kind == .invalidValue)
        #expect(error(Self.dirs, "/a b")?.kind == .invalidValue)
    }

    @Test func recordsHaveDeclaredFieldsDefaultsAndTypedValues() throws {
        let tiers = try #require(
            try parse(Self.tiers, "kind=nvme dirs=/mnt/a,/mnt/b; kind=ebs dirs=/data highWatermark=0.75"))
        #expect(tiers.count == 2)
        #expect(tiers[0].value("kind", as: String.self) == "nvme")
        #expect(tiers[0].value("dirs", as: [String].self) == ["/mnt/a", "/mnt/b"])
        #expect(tiers[0].value("highWatermark", as: Double.self) == 0.9)
        #expect(tiers[1].value("highWatermark", as: Double.self) == 0.75)
        #expect(
            ConfigValue.list(tiers.map { .record($0) }).description
                == "kind=nvme dirs=/mnt/a,/mnt/b highWatermark=0.9; kind=ebs dirs=/data highWatermark=0.75")
        #expect(Self.tiers.defaultValue.isEmpty)
    }

    @Test func badRecordsNameTheFieldAndTheProblem() {
        let unknown = error(Self.tiers, "kind=nvme dirs=/a speed=fast")
        #expect(unknown?.kind == .invalidValue && unknown?.message.contains("unknown field 'speed'") == true)
        let missing = error(Self.tiers, "kind=nvme")
        #expect(missing?.message.contains("required field 'dirs' is missing") == true)
        let twice = error(Self.tiers, "kind=nvme dirs=/a kind=ebs")
        #expect(twice?.message.contains("given twice") == true)
        let range = error(Self.tiers, "kind=fsx dirs=/fsx highWatermark=1.5")
        #expect(range?.kind == .outOfRange && range?.message.contains("test.tiers field highWatermark") == true)
        let choice = error(Self.tiers, "kind=tape dirs=/t")
        #expect(choice?.message.contains("field kind") == true)
        #expect(error(Self.tiers, "kind=nvme dirs=/a; ")?.kind == .invalidValue)
    }
}
