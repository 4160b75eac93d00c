import SluiceCompression
import SluiceCore

/// Fuzz targets for the batch codec and the chunk splitter (SluiceCompression) with codecs none, LZ4 and Zstd.
///
/// A corrupt payload would mostly fail its CRC32C before reaching a decompressor, so the batch target also decodes
/// each input with its checksum recomputed: mutated LZ4 and Zstd data then reach liblz4 and libzstd.
enum BatchTargets {
    static let all: [FuzzTarget] = [batchCodec, chunk, lz4, zstd]

    /// Raw record bytes the seeds compress: empty, tiny, repetitive (compresses well), noisy (does not).
    static let raws: [[UInt8]] = [
        [],
        Array("x".utf8),
        Array(repeating: Array("key-00042\tvalue of a shuffled record\n".utf8), count: 40).flatMap { $0 },
        (0..<700).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) },
    ]

    // MARK: batch codec

    /// A wire batch (header and stored bytes) through `BatchCodec.decode` and `decodeSlice`, as is and with its
    /// checksum made right: errors are `corrupt`; a decoded batch has exactly `rawLength` bytes, both decoders
    /// agree, and the raw bytes encode with the same codec into a batch that decodes back to them.
    static let batchCodec = FuzzTarget(
        name: "BatchCodec", covers: ["BatchCodec.decode", "BatchCodec.decodeSlice", "BatchCodec.verify"],
        seeds: { Codec.allCases.flatMap { codec in raws.compactMap { encodeWire($0, codec: codec) } } },
        checkSeed: { seed in
            var reader = WireReader(seed)
            guard let batch = try? Batch.decode(from: &reader), let raw = try? BatchCodec.decode(batch),
                let again = encodeWire(raw, codec: batch.header.codec, like: batch.header)
            else { return "seed does not decode" }
            return again[...] == seed ? nil : "seed re-encodes differently: \(FuzzHex.dump(again[...]))"
        },
        makeCheck: {
            let context = try? CodecContext()
            return { input in checkBatch(input, context: context) }
        })

    static func checkBatch(_ input: ArraySlice<UInt8>, context: CodecContext?) -> FuzzOutcome {
        var reader = WireReader(input)
        guard let batch = try? Batch.decode(from: &reader) else { return .rejected }  // the Batch target's ground
        if case .violation(let problem) = decodeBatch(batch, context: context) {
            return .violation("as is: \(problem)")
        }
        var fixed = batch
        fixed.header.crc32c = CRC32C.checksum(batch.payload)
        switch decodeBatch(fixed, context: context) {
        case .violation(let problem): return .violation("with its CRC32C fixed: \(problem)")
        case .rejected: return .rejected
        case .accepted: return .accepted
        }
    }

    private static func decodeBatch(_ batch: Batch, context: CodecContext?) -> FuzzOutcome {
        let decoded = Result(catching: { () throws(ProtocolError) -> [UInt8] in
            try BatchCodec.decode(batch, context: context)
        })
        let sliced = Result(catching: { () throws(ProtocolError) -> ArraySlice<UInt8> in
            try BatchCodec.decodeSlice(batch, context: context)
        })
        switch (decoded, sliced) {
        case (.failure(let error), .failure(let sliceError)):
            guard error.status == .corrupt, sliceError.status == .corrupt else {
                return .violation("threw \(error) / \(sliceError), allowed: corrupt")
            }
            return .rejected
        case (.success(let raw), .success(let slice)):
            guard raw.count == Int(batch.header.rawLength) else {
                return .violation("decoded \(raw.count) bytes, header says \(batch.header.rawLength)")
            }
            guard raw[...] == slice else { return .violation("decode and decodeSlice differ") }
            let problem = "the decoded bytes do not survive re-encoding with \(batch.header.codec)"
            guard let again = encodeWire(raw, codec: batch.header.codec, like: batch.header, context: context) else {
                return .violation(problem)
            }
            var reader = WireReader(again)
            guard let rebuilt = try? Batch.decode(from: &reader),
                (try? BatchCodec.decode(rebuilt, context: context)) == raw
            else { return .violation(problem) }
            return .accepted
        default:
            return .violation("decode and decodeSlice disagree: \(decoded) / \(sliced)")
        }
    }

    /// `raw` as a wire batch compressed with `codec` even when that does not shrink it; nil when encoding fails.
    static func encodeWire(
        _ raw: [UInt8], codec: Codec, like header: BatchHeader? = nil, context: CodecContext? = nil
    ) -> [UInt8]? {
        try? BatchCodec.encodeWire(
            raw: raw[...], codec: codec, mapIndex: header?.mapIndex ?? 1, attemptId: header?.attemptId ?? 77,
            sequence: header?.sequence ?? 2, isLast: header?.isLast ?? true, fallbackToNoneWhenLarger: false,
            context: context)
    }

    // MARK: chunk

    /// A fetched chunk (batches back to back) through `BatchCodec.splitBatches`: errors are `corrupt`, a split
    /// re-encodes to exactly the input, and every batch in it decodes or throws `corrupt`.
    static let chunk = FuzzTarget(
        name: "Chunk", covers: ["BatchCodec.splitBatches"],
        seeds: {
            let batches = Codec.allCases.flatMap { codec in raws.compactMap { encodeWire($0, codec: codec) } }
            return [[], batches[2], batches[2] + batches[7], batches.suffix(5).flatMap { $0 }]
        },
        checkSeed: { seed in
            guard let batches = try? BatchCodec.splitBatches(seed) else { return "seed does not split" }
            return batches.allSatisfy { (try? BatchCodec.decode($0)) != nil } ? nil : "a seed batch does not decode"
        },
        makeCheck: {
            let context = try? CodecContext()
            return { input in checkChunk(input, context: context) }
        })

    static func checkChunk(_ input: ArraySlice<UInt8>, context: CodecContext?) -> FuzzOutcome {
        switch Result(catching: { () throws(ProtocolError) -> [Batch] in try BatchCodec.splitBatches(input) }) {
        case .failure(let error):
            return error.status == .corrupt ? .rejected : .violation("split threw \(error), allowed: corrupt")
        case .success(let batches):
            var writer = WireWriter()
            for batch in batches { batch.encode(into: &writer) }
            guard writer.bytes[...] == input else {
                return .violation("the split re-encodes as \(FuzzHex.dump(writer.bytes[...]))")
            }
            for (index, batch) in batches.enumerated() {
                if case .violation(let problem) = decodeBatch(batch, context: context) {
                    return .violation("batch \(index): \(problem)")
                }
            }
            return .accepted
        }
    }

    // MARK: block codecs

    static let lz4 = blockCodec(.lz4, name: "LZ4Block", covers: ["LZ4.decompress"]) {
        (stored, rawLength) throws(ProtocolError) -> [UInt8] in try LZ4.decompress(stored, rawLengthBytes: rawLength)
    }
    static let zstd = blockCodec(.zstd, name: "ZstdBlock", covers: ["Zstd.decompress", "ZstdDecompressor.decompress"]) {
        (stored, rawLength) throws(ProtocolError) -> [UInt8] in try Zstd.decompress(stored, rawLengthBytes: rawLength)
    }

    /// One codec's decompressor on `rawLength u32 | stored bytes`, as `BatchCodec` calls it: a raw length over
    /// `BatchHeader.maxBatchBytes` never gets that far (the header check refuses it before anything is allocated).
    /// Errors are `corrupt`; a decompressed block has exactly the raw length and survives recompression; a reused
    /// `CodecContext` and the one-shot `oneShot` agree on every input (no state leaks from one input to the next).
    static func blockCodec(
        _ codec: Codec, name: String, covers: [String],
        oneShot: @escaping @Sendable (ArraySlice<UInt8>, Int) throws(ProtocolError) -> [UInt8]
    ) -> FuzzTarget {
        FuzzTarget(
            name: name, covers: covers + ["CodecContext.decompress"],
            seeds: {
                let context = try? CodecContext()
                return raws.compactMap { raw in
                    (try? context?.compress(raw[...], codec: codec)).map { lengthPrefix(raw.count) + $0 }
                }
            },
            checkSeed: { seed in
                let context = try? CodecContext()
                let stored = seed.dropFirst(4)
                guard let raw = try? context?.decompress(stored, codec: codec, rawLengthBytes: readLength(seed)),
                    let again = try? context?.compress(raw[...], codec: codec)
                else { return "seed does not decompress" }
                return again[...] == stored ? nil : "seed recompresses differently"
            },
            makeCheck: {
                let context = try? CodecContext()
                return { input in checkBlock(input, codec: codec, context: context, oneShot: oneShot) }
            })
    }

    static func checkBlock(
        _ input: ArraySlice<UInt8>, codec: Codec, context: CodecContext?,
        oneShot: (ArraySlice<UInt8>, Int) throws(ProtocolError) -> [UInt8]
    ) -> FuzzOutcome {
        guard input.count >= 4, let context else { return .rejected }
        let rawLength = readLength(input)
        guard rawLength <= BatchHeader.maxBatchBytes else { return .rejected }
        let stored = input.dropFirst(4)
        let decompressed = Result(catching: { () throws(ProtocolError) -> [UInt8] in
            try context.decompress(stored, codec: codec, rawLengthBytes: rawLength)
        })
        let alone = Result(catching: { () throws(ProtocolError) -> [UInt8] in try oneShot(stored, rawLength) })
        switch (decompressed, alone) {
        case (.success(let raw), .success(let rawAlone)) where raw == rawAlone: break
        case (.failure(let error), .failure(let errorAlone)) where error.status == errorAlone.status: break
        default: return .violation("the reused context and a fresh one disagree: \(decompressed) / \(alone)")
        }
        switch decompressed {
        case .failure(let error):
            return error.status == .corrupt ? .rejected : .violation("threw \(error), allowed: corrupt")
        case .success(let raw):
            guard raw.count == rawLength else { return .violation("\(raw.count) bytes, expected \(rawLength)") }
            guard let again = try? context.compress(raw[...], codec: codec),
                (try? context.decompress(again[...], codec: codec, rawLengthBytes: raw.count)) == raw
            else { return .violation("the decompressed bytes do not survive recompression") }
            return .accepted
        }
    }

    static func lengthPrefix(_ length: Int) -> [UInt8] {
        var writer = WireWriter(capacity: 4)
        writer.writeU32(UInt32(length))
        return writer.bytes
    }

    static func readLength(_ input: ArraySlice<UInt8>) -> Int {
        var reader = WireReader(input)
        return Int((try? reader.readU32("rawLength")) ?? 0)
    }
}
