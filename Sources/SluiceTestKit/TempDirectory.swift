import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A fresh directory made with `mkdtemp(3)` under a parent directory; `remove()` deletes it with its files.
public struct TempDirectory: Sendable {
    /// The directory's absolute path.
    public let path: String

    /// Makes `PARENT/PREFIXxxxxxx` (six random characters).
    /// - Parameters:
    ///   - parent: an existing directory; `/tmp` by default.
    ///   - prefix: the start of the new directory's name.
    /// - Throws: `TestKitError` when `mkdtemp` fails.
    public init(in parent: String = "/tmp", prefix: String = "sluice-test-") throws {
        var template = Array("\(parent)/\(prefix)XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkdtemp($0) != nil } ?? false
        }
        guard made else { throw TestKitError.system("mkdtemp in \(parent)") }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The path of `name` inside this directory (nothing is created).
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Deletes the directory and everything in it; a failure is reported on standard error, not thrown.
    public func remove() {
        do { try FileManager.default.removeItem(atPath: path) } catch {
            FileHandle.standardError.write(Data("warning: could not remove \(path): \(error)\n".utf8))
        }
    }
}
