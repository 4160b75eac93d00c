import Testing

@testable import SluiceConfig

/// `worker.tiers`: typed tiers from records, the single-directory default, and inconsistent watermarks refused.
@Suite struct WorkerTierConfigTests {
    @Test func tiersAreTypedWithTheirFieldDefaults() throws {
        let config = try WorkerConfig.load(overrides: [
            "worker.tiers":
                "kind=nvme dirs=/nvme0,/nvme1; kind=ebs dirs=/ebs capacity=500g high=0.8 low=0.6; kind=fsx dirs=/fsx share=0.5"
        ])
        #expect(config.tiers.map(\.kind) == [.nvme, .ebs, .fsx])
        #expect(config.tiers[0].directories == ["/nvme0", "/nvme1"])
        #expect(config.tiers[0].capacityBytes == 0 && config.tiers[0].fileSystemShare == 0.95)
        #expect(config.tiers[0].highWatermarkFraction == 0.9 && config.tiers[0].lowWatermarkFraction == 0.75)
        #expect(config.tiers[1].capacityBytes == 500 << 30)
        #expect(config.tiers[1].highWatermarkFraction == 0.8 && config.tiers[1].lowWatermarkFraction == 0.6)
        #expect(config.tiers[2].fileSystemShare == 0.5)
    }

    @Test func withoutTiersTheStorageDirectoryIsOneNvmeTier() throws {
        let config = try WorkerConfig.load(overrides: ["worker.storageDir": "/data/sluice"])
        #expect(
            config.tiers == [
                StorageTierConfig(
                    kind: .nvme, directories: ["/data/sluice"], capacityBytes: 0,
                    fileSystemShare: 0.95, highWatermarkFraction: 0.9,
                    lowWatermarkFraction: 0.75)
            ])
    }

    @Test func badTiersAreRefusedWithTheKeyNamed() {
        for (text, kind) in [
            ("kind=nvme dirs=/a high=0.5 low=0.5", ConfigError.Kind.inconsistent),
            ("kind=tape dirs=/a", .invalidValue), ("kind=nvme", .invalidValue),
            ("kind=nvme dirs=/a speed=fast", .invalidValue),
        ] {
            do {
                _ = try WorkerConfig.load(overrides: ["worker.tiers": text])
                Issue.record("'\(text)' was accepted")
            } catch {
                #expect(error.kind == kind, "\(text): \(error)")
                #expect(error.key == "worker.tiers")
            }
        }
    }
}
