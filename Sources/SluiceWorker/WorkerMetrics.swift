import Metrics

/// Counters of the worker, registered with swift-metrics.
struct WorkerMetrics: Sendable {
    let pushedBatches = Counter(label: "sluice_worker_pushed_batches_total")
    let pushedBytes = Counter(label: "sluice_worker_pushed_bytes_total")
    let replicatedBatches = Counter(label: "sluice_worker_replicated_batches_total")
    let refusedBatches = Counter(label: "sluice_worker_refused_batches_total")
    let corruptBatches = Counter(label: "sluice_worker_corrupt_batches_total")
    let fetchedChunks = Counter(label: "sluice_worker_fetched_chunks_total")
    let fetchedBytes = Counter(label: "sluice_worker_fetched_bytes_total")
    let recompressedChunks = Counter(label: "sluice_worker_recompressed_chunks_total")
    /// Streams refused because the partition file's writer failed (the reader fails over to another copy).
    let refusedFailedCopies = Counter(label: "sluice_worker_refused_failed_copies_total")
    let shufflesDeleted = Counter(label: "sluice_worker_shuffles_deleted_total")
}
