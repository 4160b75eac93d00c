import Foundation
import Glibc

/// Puts the machine's memory in the same state before every measurement, so that no measurement pays for an
/// earlier one. Two effects made the same measurement swing 5x within one run on the project's VMs:
/// - dirty page cache left by an earlier phase: its write-back (and the kernel's throttling of new writers) lands
///   on whichever measurement runs next. `sync()` writes it all back first.
/// - free memory not backed by the host: these VMs return freed memory to the hypervisor (free page reporting,
///   `/sys/module/page_reporting`), so the next first touch of a page faults in the host, and writing into new
///   page-cache pages ran at 0.66 GB/s instead of 3.9 GB/s. Touching (then freeing) an anonymous region just
///   before the measurement hands it pages that are backed again, as all memory is on a bare-metal or dedicated
///   cloud host.
enum MemoryState {
    /// Free memory touched before a measurement: twice what it writes into page cache, plus room for buffers
    /// (1.25x was not enough: the allocator does not hand back exactly the pages just freed). Touching cold
    /// memory costs about a second of system time per GB here, so it is done only where a measurement writes.
    static func warmBytes(writingBytes: Int) -> Int { max(2 * writingBytes + (256 << 20), 3 << 30) }

    static func settle(writingBytes: Int) {
        sync()
        let wanted = warmBytes(writingBytes: writingBytes)
        let bytes = min(wanted, availableBytes() / 2)
        guard bytes > 0 else { return }
        let region = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)
        guard let region, region != MAP_FAILED else { return }
        munmap(region, bytes)
    }

    /// `MemAvailable` of /proc/meminfo in bytes, or 0 if it cannot be read.
    static func availableBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
            let kib = line.split(separator: " ").compactMap({ Int($0) }).first
        else { return 0 }
        return kib * 1024
    }
}
