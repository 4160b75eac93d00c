import CSluiceShim

/// Process-wide settings of the C allocator, for a server process to set once at start.
public enum MallocTuning {
    /// Sets glibc's M_MMAP_THRESHOLD: allocations of at least `bytes` get a mapping of their own that is returned
    /// to the kernel when freed. By default glibc raises the threshold to the size of the largest block freed so
    /// far, after which megabyte frame bodies come from per-thread arenas (up to 8 per core) and freed ones stay
    /// resident there: a worker under a full memory budget then holds far more than the budget. Setting it fixes
    /// the threshold. Returns false when glibc refused the value, or on another C library (nothing is changed).
    @discardableResult
    public static func setMmapThreshold(bytes: Int) -> Bool {
        sluice_set_malloc_mmap_threshold(Int32(clamping: bytes)) == 1
    }
}
