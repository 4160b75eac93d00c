import Testing

@testable import SluiceCore

/// The paged registration report on the wire, and the location table's worker bound.
@Suite struct PagedReportTests {
    static let held = [
        HeldPartition(
            shuffle: MessageTests.key, partitionId: 3, epoch: 1, role: .replica, bytes: 99)
    ]

    @Test func registrationPagesRoundTripAndAOnePageRegistrationIsUnchanged() throws {
        let tests = MessageTests()
        let first = RegisterWorkerRequest(
            address: MessageTests.workerA, capacityBytes: 100, freeBytes: 50, held: Self.held, morePages: true)
        try tests.roundTrip(first)
        try tests.roundTrip(ReportHeldPartitionsRequest(workerId: "w-a", last: true, held: Self.held))
        try tests.roundTrip(ReportHeldPartitionsRequest(workerId: "w-a", last: false, held: []))
        // Without more pages the flag is not written: the body is what masters before paging decode.
        var single = first
        single.morePages = false
        #expect(single.encoded().count == first.encoded().count - 1)
        #expect(try RegisterWorkerRequest.decode(body: single.encoded()) == single)
    }

    @Test func aTableRefusesAWorkerPastItsIndexRangeInsteadOfTrapping() {
        var table = LocationTable()
        var allAdded = true
        for index in 0..<LocationTable.maxWorkers {
            let worker = WorkerAddress(workerId: "w\(index)", host: "h", port: 1)
            let added = table.append(PartitionLocation(partitionId: 0, epoch: 0, primary: worker, replica: nil))
            allAdded = allAdded && added
        }
        #expect(allAdded)
        let known = WorkerAddress(workerId: "w0", host: "h", port: 1)
        let extra = WorkerAddress(workerId: "one-too-many", host: "h", port: 1)
        let newReplica = table.append(PartitionLocation(partitionId: 1, epoch: 0, primary: known, replica: extra))
        let newPrimary = table.append(PartitionLocation(partitionId: 1, epoch: 0, primary: extra, replica: nil))
        let knownOnly = table.append(PartitionLocation(partitionId: 1, epoch: 0, primary: known, replica: known))
        #expect(!newReplica && !newPrimary && knownOnly)
        #expect(table.workers.count == LocationTable.maxWorkers)
        #expect(table.entries.count == LocationTable.maxWorkers + 1)
    }
}
