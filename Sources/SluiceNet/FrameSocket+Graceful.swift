#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSluiceShim
import SluiceCore

extension FrameSocket {
    /// Closes after an error reply so the peer can read it: sends FIN (not RST) by shutting down the write side,
    /// discards what the peer still sends until it closes or `lingerMs` passes, then closes.
    /// Closing with unread input would reset the connection and could destroy the reply in flight.
    func closeAfterReply(lingerMs: Int = 500) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        _ = sluice_set_receive_timeout_ms(fd, 50)
        let deadlineNs = Monotonic.nowNs() + UInt64(lingerMs) * 1_000_000
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        var drainedBytes = 0
        while isOpen && Monotonic.nowNs() < deadlineNs && drainedBytes < 16 * 1024 * 1024 {
            let n = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                let code = errno
                if code == EINTR || code == EAGAIN || code == EWOULDBLOCK { continue }
                break
            }
            drainedBytes += n
        }
        close()
    }
}
