import Testing

@testable import SluiceSystem

/// The memory budget counts backpressure episodes: one per crossing of the high watermark, not per acquire.
@Suite struct MemoryBudgetTests {
    @Test func eachCrossingOfTheHighWatermarkIsOnePause() {
        let budget = MemoryBudget(capacityBytes: 100, highFraction: 0.8, lowFraction: 0.5)
        budget.acquire(70)
        #expect(budget.pauseCount == 0 && !budget.isPaused)
        budget.acquire(15)
        budget.acquire(5)
        #expect(budget.pauseCount == 1 && budget.isPaused, "a second acquire while paused is the same episode")
        budget.release(45)
        #expect(!budget.isPaused)
        budget.acquire(40)
        #expect(budget.pauseCount == 2 && budget.peakBytes == 90)
    }
}
