import SluiceCore
import Testing

@testable import SluiceClient

@Suite struct ReadFilterTests {
    func header(map: UInt32, attempt: UInt64, sequence: UInt32, last: Bool = false) -> BatchHeader {
        BatchHeader(
            mapIndex: map, attemptId: attempt, sequence: sequence, flags: last ? .last : [], codec: .none,
            rawLength: 0, storedLength: 0, crc32c: 0)
    }

    @Test func keepsWinnerDropsLosersAndRepeats() throws {
        var filter = ReadFilter(winners: [0: 10, 1: 21], nonEmptyMaps: [0, 1])
        let kept1 = filter.accept(header(map: 0, attempt: 10, sequence: 0))
        let kept2 = filter.accept(header(map: 0, attempt: 10, sequence: 0))
        let kept3 = filter.accept(header(map: 0, attempt: 10, sequence: 1, last: true))
        let kept4 = filter.accept(header(map: 1, attempt: 20, sequence: 0, last: true))
        let kept5 = filter.accept(header(map: 1, attempt: 21, sequence: 0, last: true))
        let kept6 = filter.accept(header(map: 7, attempt: 10, sequence: 0))
        #expect(kept1 && kept3 && kept5)
        #expect(!kept2, "a re-sent batch must be dropped")
        #expect(!kept4, "a failed attempt's batch must be dropped")
        #expect(!kept6, "a map out of range must be dropped")
        try filter.finish()
        #expect(filter.keptBatches == 3 && filter.droppedDuplicate == 1 && filter.droppedLosingAttempt == 2)
    }

    @Test func gapOrMissingLastOrMissingMapFails() {
        var gap = ReadFilter(winners: [0: 1], nonEmptyMaps: [0])
        _ = gap.accept(header(map: 0, attempt: 1, sequence: 0))
        _ = gap.accept(header(map: 0, attempt: 1, sequence: 2, last: true))
        #expect(throws: ReadError.self) { try gap.finish() }

        var noLast = ReadFilter(winners: [0: 1], nonEmptyMaps: [0])
        _ = noLast.accept(header(map: 0, attempt: 1, sequence: 0))
        #expect(throws: ReadError.self) { try noLast.finish() }

        let missing = ReadFilter(winners: [0: 1, 1: 2], nonEmptyMaps: [1])
        #expect(throws: ReadError.self) { try missing.finish() }
        let empty = ReadFilter(winners: [0: 1, 1: 2], nonEmptyMaps: [])
        #expect(throws: Never.self) { try empty.finish() }
    }
}
