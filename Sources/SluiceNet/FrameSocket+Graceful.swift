import CSluiceShim
import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension FrameSocket {
    /// Closes after an error reply so the peer can read it: sends FIN (not RST) by shutting down the write side,
    /// discards what the peer still sends until it closes or `lingerMs` passes, then closes.
    /// Closing with unread input would reset the connection and could destroy the reply in flight.
    func closeAfterReply(lingerMs: Int = 500) {
        system.shutdown(fd: fd, how: Int32(SHUT_WR))
        _ = sluice_set_receive_timeout_ms(fd, 50)
        let deadlineNs = Monotonic.nowNs() + UInt64(lingerMs) * 1_000_000
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        var drainedBytes = 0
        while isOpen && Monotonic.nowNs() < deadlineNs && drainedBytes < 16 * 1024 * 1024 {
            let received = scratch.withUnsafeMutableBytes { raw in
                Result(catching: { () throws(SystemCallError) -> Int in try system.receive(fd: fd, into: raw) })
            }
            guard case .success(let n) = received else {
                if case .failure(let failure) = received, failure.isWouldBlock { continue }
                break
            }
            if n == 0 { break }
            drainedBytes += n
        }
        close()
    }
}
