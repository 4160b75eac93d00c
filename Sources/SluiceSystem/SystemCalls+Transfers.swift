#if canImport(Glibc)
    import Glibc
#endif

/// Loops of single calls: whole transfers with `EINTR` retried and short transfers continued.
extension SystemCalls {
    /// Writes all of `bytes` at `offsetBytes`.
    public func writeFully(fd: Int32, bytes: UnsafeRawBufferPointer, offsetBytes: Int) throws(SystemCallError) {
        var done = 0
        while done < bytes.count {
            let written: Int
            do throws(SystemCallError) {
                written = try pwrite(
                    fd: fd, bytes: UnsafeRawBufferPointer(rebasing: bytes[done...]),
                    offsetBytes: offsetBytes + done)
            } catch  where error.errno == EINTR {
                continue
            }
            // A zero-byte write with bytes left would loop forever: report it as an I/O error.
            guard written > 0 else { throw SystemCallError(errno: EIO) }
            done += written
        }
    }

    /// Writes all of `bytes` at `offsetBytes`.
    public func writeFully(fd: Int32, slice bytes: ArraySlice<UInt8>, offsetBytes: Int) throws(SystemCallError) {
        var failure: SystemCallError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemCallError) {
                try writeFully(fd: fd, bytes: raw, offsetBytes: offsetBytes)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Reads exactly `buffer.count` bytes at `offsetBytes`; returns fewer only at end of file.
    public func readFully(
        fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
        offsetBytes: Int
    ) throws(SystemCallError) -> Int {
        var done = 0
        while done < buffer.count {
            let read: Int
            do throws(SystemCallError) {
                read = try pread(
                    fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]),
                    offsetBytes: offsetBytes + done)
            } catch  where error.errno == EINTR {
                continue
            }
            if read == 0 { break }
            done += read
        }
        return done
    }

    /// Reads up to `count` bytes at `offsetBytes` into the start of `array`; returns fewer only at end of file.
    public func readFully(fd: Int32, into array: inout [UInt8], count: Int, offsetBytes: Int) throws(SystemCallError)
        -> Int
    {
        var failure: SystemCallError?
        var read = 0
        array.withUnsafeMutableBytes { raw in
            do throws(SystemCallError) {
                read = try readFully(
                    fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]),
                    offsetBytes: offsetBytes)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return read
    }
}
