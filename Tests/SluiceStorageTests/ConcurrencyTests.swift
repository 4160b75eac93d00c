import Dispatch
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization
import Testing

@testable import SluiceStorage

@Suite struct ConcurrencyTests {
    @Test func concurrentAppendsAndReadsLoseNothing() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 64 << 20)
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path,
            config: StoreConfig(flushBufferBytes: 8192, chunkTargetBytes: 64 << 10),
            memoryBudget: budget, logger: quietLogger)
        let shared = try key(partition: 100)
        let own = try (0..<4).map { try key(partition: UInt32($0)) }
        let batchesPerThread = 400
        let failures = Mutex<[String]>([])
        let writersDone = Atomic<Int>(0)

        DispatchQueue.concurrentPerform(iterations: 5) { thread in
            if thread == 4 {
                // A reader polling while the writers append: every snapshot parses and checks out.
                while writersDone.load(ordering: .acquiring) < 4 {
                    do {
                        for k in own + [shared] {
                            guard let file = try? store.openForRead(k, startMapIndex: 0, endMapIndex: .max) else {
                                continue
                            }
                            for chunk in file.chunks {
                                let batches = try parseBatches(try store.readChunk(file, chunk: chunk))
                                if batches.count != chunk.batchCount { failures.withLock { $0.append("short chunk") } }
                            }
                        }
                    } catch {
                        failures.withLock { $0.append("reader: \(error)") }
                    }
                }
                return
            }
            for sequence in 0..<batchesPerThread {
                let size = [1, 100, 3000, 20_000][sequence % 4]
                do {
                    _ = try store.append(
                        shared,
                        batch: makeBatch(mapIndex: UInt32(thread), sequence: UInt32(sequence), payloadBytes: size))
                    _ = try store.append(
                        own[thread],
                        batch: makeBatch(mapIndex: UInt32(thread), sequence: UInt32(sequence), payloadBytes: size))
                } catch {
                    failures.withLock { $0.append("writer \(thread): \(error)") }
                }
            }
            writersDone.add(1, ordering: .releasing)
        }
        #expect(failures.withLock { $0 }.isEmpty)

        let sharedBatches = try readAll(store, shared).batches
        #expect(sharedBatches.count == 4 * batchesPerThread)
        for thread in 0..<4 {
            let fromShared = sharedBatches.filter { $0.header.mapIndex == UInt32(thread) }.map(\.header.sequence)
            #expect(fromShared == (0..<UInt32(batchesPerThread)).map { $0 })
            let fromOwn = try readAll(store, own[thread]).batches.map(\.header.sequence)
            #expect(fromOwn == (0..<UInt32(batchesPerThread)).map { $0 })
        }
        try store.close()
        #expect(budget.usedBytes == 0)
    }
}
